import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { defineSweep, sweepStageName, type StageContext } from "../engine/index.ts";
import { ML_EXECUTION } from "./execution.ts";
import type { EvaluationConfig, LossName } from "../ml/config.ts";
import { experimentPath, type Params } from "./params.ts";
import { seedAxes } from "./replicates.ts";

/**
 * Test-set metrics of one trained network: accuracy, loss, per-class P/R/F1, confusion matrix. One
 * per train stage (the same sweep over seeds: `evaluate@<id>+seed=<n>` reads `train@<id>+seed=<n>`).
 * The numbers are measured the way the experiment's `evaluation` declares (eval mode, or BatchNorm
 * with batch statistics as 002 measured); a network with BatchNorm evaluated with batch statistics
 * also gets its eval-mode numbers under `otherMode`, so the report can show both.
 */
export const evaluate = defineSweep<Params>({
  name: "evaluate",
  module: import.meta.url,
  isolation: "process",
  items: (params) => Object.keys(params.experiments),
  axes: (id, params) => seedAxes(id!, params.experiments[id!]!),
  inputs: (point, params) => ({ model: sweepStageName("train", point), dataset: `preprocess@${params.experiments[point.item!]!.dataset}` }),
  execution: ML_EXECUTION,
  params: ({ item: id }) => ["evaluate.batchSize", experimentPath(id!, "evaluation")],
  metrics: { file: "metrics.json", keys: ["accuracy", "loss", "macroAvg.f1"] },
  async run(context, { item: id }) {
    const evaluation = context.param<EvaluationConfig>(experimentPath(id!, "evaluation"));
    await evaluateToDirectory(context.input("model"), context.input("dataset"), context.outDir, context.param<number>("evaluate.batchSize"), context, evaluation);
  },
});

export async function evaluateToDirectory(
  modelDir: string,
  datasetDir: string,
  outDir: string,
  batchSize: number,
  context?: Pick<StageContext, "recordEnvironment" | "signal">,
  evaluation?: EvaluationConfig,
): Promise<void> {
  const { activateBackend } = await import("../ml/backend-from-env.ts");
  await activateBackend(context);
  const { loadDataset } = await import("../ml/dataset.ts");
  const { loadModel } = await import("../ml/weights.ts");
  const { evaluateInModes } = await import("../ml/evaluate.ts");
  const [data, model] = await Promise.all([loadDataset(datasetDir), loadModel(modelDir)]);
  try {
    const loss: LossName = model.config.loss;
    const metrics = await evaluateInModes(model, data.test, evaluation, { batchSize, loss, signal: context?.signal });
    await writeFile(join(outDir, "metrics.json"), JSON.stringify(metrics, null, 2) + "\n");
  } finally {
    model.dispose();
  }
}
