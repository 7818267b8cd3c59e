import { fileURLToPath } from "node:url";
import { formatPath } from "../engine/param-path.ts";
import type { StageContext, StageDeclaration } from "../engine/stage.ts";
import type { ModelConfig, OptimizerConfig, TrainingConfig } from "../ml/config.ts";
import type { ExperimentMeta } from "../ml/report/results.ts";
import { experimentPath, type Params } from "./params.ts";

/**
 * The comparison report: report.md (with the charts copied beside it), metrics.csv, metrics.json,
 * from every experiment's train + evaluate outputs and the chart stages' files. It declares exactly
 * the per-experiment params it prints — title, study, published value, dataset name and the
 * model / optimizer / training settings — so a title edit reruns this stage alone.
 *
 * The commit and lock file it was made from are not inputs (they would make the cache key lie):
 * `publishReport` (ml/report/publish.ts) stamps them into the copy published to reports/.
 */
const SECTIONS = ["title", "study", "reference", "model", "optimizer", "training"] as const;

/** Like `defineStage`, written out because the params list depends on the experiments. */
export const report: StageDeclaration<Params> = {
  family: "report",
  module: fileURLToPath(import.meta.url),
  expand: (params) => {
    const ids = Object.keys(params.experiments);
    return [
      {
        name: "report",
        family: "report",
        module: fileURLToPath(import.meta.url),
        deps: [...ids.flatMap((id) => [`train@${id}`, `evaluate@${id}`, `charts@${id}`]), "comparison-charts"],
        params: ids.flatMap((id) => [...SECTIONS.map((section) => experimentPath(id, section)), datasetPath(id)]),
        isolation: "inline",
        run: async (context: StageContext) => {
          const { buildReport } = await import("../ml/report/build-report.ts");
          const sources = ids.map((id) => ({ meta: meta(context, id), trainDir: context.inputs[`train@${id}`]!, evaluateDir: context.inputs[`evaluate@${id}`]! }));
          const chartDirs = [...ids.map((id) => context.inputs[`charts@${id}`]!), context.inputs["comparison-charts"]!];
          await buildReport(sources, chartDirs, context.outDir);
        },
      },
    ];
  },
};

function datasetPath(id: string): string {
  return formatPath(["experiments", id, "dataset"]);
}

function meta(context: StageContext, id: string): ExperimentMeta {
  return {
    id,
    title: context.param<string>(experimentPath(id, "title")),
    study: context.param<string>(experimentPath(id, "study")),
    reference: context.param<ExperimentMeta["reference"]>(experimentPath(id, "reference")),
    dataset: context.param<string>(datasetPath(id)),
    model: context.param<ModelConfig>(experimentPath(id, "model")),
    optimizer: context.param<OptimizerConfig>(experimentPath(id, "optimizer")),
    training: context.param<TrainingConfig>(experimentPath(id, "training")),
  };
}
