import { formatPath } from "../engine/index.ts";
import type { DatasetConfig, EvaluationConfig, ModelConfig, OptimizerConfig, TrainingConfig } from "../ml/config.ts";

/**
 * The resolved params every stage reads (defaults merged into each experiment), and small helpers
 * over them. No schema library here: stage files import this on every run, validation is in
 * params-schema.ts and is skipped when the document has not changed.
 */

export type Study = "000" | "001" | "002" | "003" | "004" | "ours";
export type MnistSourceParams = { kind: "package" } | { kind: "url"; baseUrl: string };


export interface ResolvedExperiment {
  id: string;
  title: string;
  study: Study;
  dataset: string;
  /** accuracy: the published value; target: a threshold to reach (not a measurement: no reproduction verdict). */
  reference: { accuracy: number | null; note?: string; target?: number };
  model: ModelConfig;
  optimizer: OptimizerConfig;
  /** `seed` is the first (or only) seed: the run analyses use. */
  training: TrainingConfig;
  /** How it is evaluated: BatchNorm mode, per-epoch test pass (defaults filled in). Read by train and evaluate. */
  evaluation: EvaluationConfig;
  /**
   * The seeds it is replicated over, one train and evaluate stage each (`train@<id>+seed=<n>`); null
   * when params does not set `seeds`: one run at `training.seed`, named `train@<id>` (stages/replicates.ts).
   */
  seeds: number[] | null;
}

export interface Params {
  data: { source: MnistSourceParams };
  datasets: Record<string, DatasetConfig>;
  evaluate: { batchSize: number };
  /** `pipeline check`: how far each evaluate metric may move in the bad direction before CI fails. */
  check: { tolerances: Record<string, { better: "higher" | "lower"; absolute?: number; relative?: number }> };
  /** In params-file order. */
  experiments: Record<string, ResolvedExperiment>;
}

/** Datasets some experiment uses, in first-use order: one preprocess stage each. */
export function datasetsInUse(params: Params): string[] {
  return [...new Set(Object.values(params.experiments).map((experiment) => experiment.dataset))];
}

/** Declared param paths of one experiment's training: not its title or reference, which only the report reads. */
export function experimentPath(id: string, section: "model" | "optimizer" | "training" | "evaluation" | "reference" | "title" | "study" | "seeds"): string {
  return formatPath(["experiments", id, section]);
}
