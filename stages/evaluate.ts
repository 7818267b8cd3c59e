import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { defineForeach, type StageContext } from "../engine/index.ts";
import { ML_EXECUTION } from "./execution.ts";
import type { LossName } from "../ml/config.ts";
import { experimentPath, type Params } from "./params.ts";

/** Test-set metrics of one trained experiment: accuracy, loss, per-class P/R/F1, confusion matrix. */
export const evaluate = defineForeach<Params>({
  name: "evaluate",
  module: import.meta.url,
  isolation: "process",
  items: (params) => Object.keys(params.experiments),
  inputs: (id, params) => ({ model: `train@${id}`, dataset: `preprocess@${params.experiments[id]!.dataset}` }),
  execution: ML_EXECUTION,
  params: () => ["evaluate.batchSize"],
  metrics: { file: "metrics.json", keys: ["accuracy", "loss", "macroAvg.f1"] },
  async run(context, id) {
    await evaluateToDirectory(context.input("model"), context.input("dataset"), context.outDir, context.param<number>("evaluate.batchSize"), context);
  },
});

export async function evaluateToDirectory(
  modelDir: string,
  datasetDir: string,
  outDir: string,
  batchSize: number,
  context?: Pick<StageContext, "recordEnvironment" | "signal">,
): Promise<void> {
  const { activateBackend } = await import("../ml/backend-from-env.ts");
  await activateBackend(context);
  const { loadDataset } = await import("../ml/dataset.ts");
  const { loadModel } = await import("../ml/weights.ts");
  const { evaluateModel } = await import("../ml/evaluate.ts");
  const [data, model] = await Promise.all([loadDataset(datasetDir), loadModel(modelDir)]);
  try {
    const loss: LossName = model.config.loss;
    const report = await evaluateModel(model, data.test, { batchSize, loss, signal: context?.signal });
    await writeFile(join(outDir, "metrics.json"), JSON.stringify(report, null, 2) + "\n");
  } finally {
    model.dispose();
  }
}
