import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { defineSweep, type StageContext } from "../engine/index.ts";
import { ML_EXECUTION } from "./execution.ts";
import type { ExperimentSpec, TrainedHistory } from "../ml/train.ts";
import type { TrainingMeasurements } from "../ml/training-measurements.ts";
import { experimentPath, type Params } from "./params.ts";
import { seedAxes } from "./replicates.ts";

/**
 * One training stage per experiment and seed (`train@<id>`, or `train@<id>+seed=<n>` for an
 * experiment with `seeds`: stages/replicates.ts), in a process of its own (tfjs on wasm is
 * single-threaded, so `--jobs 2` trains two at once on two cores). It reads the experiment's model,
 * optimizer and training settings (its seed inside `training`) and its evaluation (the validation
 * and per-epoch test passes follow it) — editing its title, reference value or the list of other
 * seeds does not retrain it.
 */
export const train = defineSweep<Params>({
  name: "train",
  module: import.meta.url,
  isolation: "process",
  items: (params) => Object.keys(params.experiments),
  axes: (id, params) => seedAxes(id!, params.experiments[id!]!),
  inputs: (point, params) => ({ dataset: `preprocess@${params.experiments[point.item!]!.dataset}` }),
  execution: ML_EXECUTION,
  params: ({ item: id }) => [experimentPath(id!, "model"), experimentPath(id!, "optimizer"), experimentPath(id!, "training"), experimentPath(id!, "evaluation")],
  async run(context, { item: id }) {
    const spec: ExperimentSpec = {
      model: context.param(experimentPath(id!, "model")),
      optimizer: context.param(experimentPath(id!, "optimizer")),
      training: context.param(experimentPath(id!, "training")),
      evaluation: context.param(experimentPath(id!, "evaluation")),
    };
    await trainToDirectory(spec, context.input("dataset"), context.outDir, context);
  },
});

/**
 * The stage's core, callable from tests: trains on a prepared dataset and writes model + history.
 * The files hold only what code, spec, data and backend determine (a rerun writes them byte for
 * byte again, so evaluate and the report stay cached); wall time and images/s go to the run record
 * through `context.recordMeasurements`, and are returned for callers without a context.
 */
export async function trainToDirectory(
  spec: ExperimentSpec,
  datasetDir: string,
  outDir: string,
  context?: Pick<StageContext, "progress" | "recordEnvironment" | "recordMeasurements" | "signal">,
): Promise<TrainingMeasurements> {
  const { activateBackend } = await import("../ml/backend-from-env.ts");
  const backend = await activateBackend(context);
  const { loadDataset } = await import("../ml/dataset.ts");
  const { epochMetrics, trainExperiment } = await import("../ml/train.ts");
  const { saveModel } = await import("../ml/weights.ts");
  const { trainingMeasurements } = await import("../ml/training-measurements.ts");
  const data = await loadDataset(datasetDir);
  const result = await trainExperiment(
    spec,
    { train: data.train, validation: data.validation, test: spec.evaluation?.testEachEpoch ? data.test : null, background: data.background },
    {
      signal: context?.signal,
      onProgress: (p) =>
        context?.progress({
          fraction: ((p.epoch - 1) * p.batches + p.batch) / (p.epochs * p.batches),
          text: `epoch ${p.epoch}/${p.epochs} · batch ${p.batch}/${p.batches} · loss ${p.loss.toFixed(4)} · ${Math.round(p.imagesPerSecond)} img/s · ETA ${formatEta(p.etaSeconds)}`,
        }),
    },
  );
  try {
    const summary = result.model.summary();
    await saveModel(result.model, outDir);
    const trained: TrainedHistory = {
      backend: backend.name,
      versions: backend.versions,
      parameters: summary.totalParams,
      history: result.history.map(epochMetrics),
      ...(spec.training.selectEpoch === "best-validation-accuracy" ? { selectedEpoch: result.selectedEpoch } : {}),
    };
    await writeFile(join(outDir, "history.json"), JSON.stringify(trained, null, 2) + "\n");
    await writeFile(join(outDir, "summary.json"), JSON.stringify(summary, null, 2) + "\n");
  } finally {
    result.model.dispose();
  }
  const measurements = trainingMeasurements(result);
  context?.recordMeasurements(measurements);
  return measurements;
}

function formatEta(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, "0")}s`;
}
