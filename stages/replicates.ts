import { formatPath, parsePath, sweepPoints, sweepStageName, type SweepAxis } from "../engine/index.ts";
import type { Params, ResolvedExperiment } from "./params.ts";

/**
 * Replicates: an experiment with `seeds` is swept over `experiments.<id>.training.seed` (an engine
 * sweep, engine/sweep.ts), one train and one evaluate stage per seed, named `train@<id>+seed=<n>`.
 * Each is cached on its own, so adding a seed trains only that seed and removing one reuses the
 * rest. The seed drives weight initialisation, the order of each epoch, dropout masks and
 * augmentation (ml/train.ts); the validation split is the dataset's (`datasets.<name>.validation.seed`),
 * so it stays the study's whatever the training seed. Without `seeds` an experiment is one run,
 * `train@<id>`, as before. Analyses and the per-experiment charts use the first seed.
 */

export interface SeedRun {
  seed: number;
  /** `train@…` and `evaluate@…` of this seed. */
  train: string;
  evaluate: string;
}

type SeedSource = Pick<ResolvedExperiment, "seeds"> & { training: { seed: number } };

export function seedPath(id: string): string {
  return formatPath(["experiments", id, "training", "seed"]);
}

/** The experiment's sweep: over its seeds when it lists them, none (one plain stage) otherwise. */
export function seedAxes(id: string, experiment: SeedSource): SweepAxis[] {
  return experiment.seeds ? [{ path: seedPath(id), label: "seed", values: experiment.seeds }] : [];
}

/** Every seed's train and evaluate stage, first seed first. */
export function seedRuns(id: string, experiment: SeedSource): SeedRun[] {
  const seeds = experiment.seeds ?? [experiment.training.seed];
  return sweepPoints(id, seedAxes(id, experiment), "train").map((point, index) => ({
    seed: seeds[index]!,
    train: sweepStageName("train", point),
    evaluate: sweepStageName("evaluate", point),
  }));
}

export function runsOf(params: Params, id: string): SeedRun[] {
  return seedRuns(id, params.experiments[id]!);
}

/** The run analyses and per-experiment charts read: the first seed's. */
export function firstRun(params: Params, id: string): SeedRun {
  return runsOf(params, id)[0]!;
}

/** What an aggregate stage declares per experiment to know its runs inside `run`. */
export function seedParams(id: string): string[] {
  return [formatPath(["experiments", id, "seeds"]), seedPath(id)];
}

/** Inside `run` of a stage that declared seedParams: the experiments (in declaration order) and their runs. */
export function declaredRuns(context: { params: Readonly<Record<string, unknown>> }): Array<{ id: string; runs: SeedRun[] }> {
  const ids: string[] = [];
  for (const key of Object.keys(context.params)) {
    const path = parsePath(key);
    if (path.length === 3 && path[0] === "experiments" && path[2] === "seeds" && typeof path[1] === "string") ids.push(path[1]);
  }
  return ids.map((id) => {
    const seeds = context.params[formatPath(["experiments", id, "seeds"])] as number[] | null;
    const seed = context.params[seedPath(id)] as number;
    return { id, runs: seedRuns(id, { seeds, training: { seed } }) };
  });
}
