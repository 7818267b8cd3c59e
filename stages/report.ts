import { formatPath } from "../engine/index.ts";
import { defineStage, type StageContext } from "../engine/index.ts";
import type { DatasetConfig, EvaluationConfig, ModelConfig, OptimizerConfig, TrainingConfig } from "../ml/config.ts";
import type { ExperimentMeta } from "../presentation/report/results.ts";
import { byStageName, experimentIds } from "./experiment-inputs.ts";
import { declaredRuns, runsOf, seedParams } from "./replicates.ts";
import { ANALYSIS_KINDS, TRAINING_TIMES_PARAM, type ProjectParams, analysisStageNames } from "./analysis-params.ts";
import { datasetsInUse, experimentPath } from "./params.ts";

/**
 * The comparison report: report.md (with the charts copied beside it), metrics.csv, metrics.json,
 * from every experiment's train + evaluate outputs and the chart stages' files. It declares exactly
 * the per-experiment params it prints — title, study, published value, dataset name and the
 * model / optimizer / training / evaluation settings — so a title edit reruns this stage alone.
 *
 * The commit and lock file it was made from are not inputs (they would make the cache key lie):
 * `publishReport` (presentation/report/publish.ts) stamps them into the copy published to reports/.
 */
const SECTIONS = ["title", "study", "reference", "model", "optimizer", "training", "evaluation"] as const;

export const report = defineStage<ProjectParams>({
  name: "report",
  module: import.meta.url,
  inputs: (params) =>
    byStageName([
      ...experimentIds(params).flatMap((id) => [...runsOf(params, id).flatMap((run) => [run.train, run.evaluate]), `charts@${id}`]),
      "comparison-charts",
      ...analysisStageNames(params),
    ]),
  // The datasets' preparation too: a subset profile's report says so and gives no verdicts.
  params: (params) => [
    ...experimentIds(params).flatMap((id) => [...SECTIONS.map((section) => experimentPath(id, section)), datasetPath(id), ...seedParams(id)]),
    ...datasetsInUse(params).map(datasetConfigPath),
    ...ANALYSIS_KINDS.filter((kind) => params.analyses !== null).map(analysisExperimentsPath),
    TRAINING_TIMES_PARAM,
  ],
  async run(context) {
    const { buildReport } = await import("../presentation/report/build-report.ts");
    const experiments = declaredRuns(context);
    const trainingTimes = context.param<boolean>(TRAINING_TIMES_PARAM);
    const sources = experiments.map(({ id, runs }) => ({
      meta: meta(context, id),
      runs: runs.map((run) => ({
        seed: run.seed,
        trainDir: context.input(run.train),
        evaluateDir: context.input(run.evaluate),
        // Training times and load come from the run record, not the files: two runs of this stage
        // with the same key can differ there (report.trainingTimes). A retrain that reproduces the
        // same files leaves this report cached, showing the times of the run it was built from.
        ...(trainingTimes ? { trainRecord: context.inputRecord(run.train) } : {}),
      })),
    }));
    const chartDirs = [...experiments.map(({ id }) => context.input(`charts@${id}`)), context.input("comparison-charts")];
    // Analysis kind by kind, which is the report's order; each analysis input's role is its stage's name.
    const analysisDirs = ANALYSIS_KINDS.flatMap((kind) =>
      (context.params[analysisExperimentsPath(kind)] as string[] | undefined ?? []).map((id) => context.input(`${kind}@${id}`)),
    );
    await buildReport(sources, chartDirs, context.outDir, analysisDirs);
  },
});

function analysisExperimentsPath(kind: (typeof ANALYSIS_KINDS)[number]): string {
  return formatPath(["analyses", kind, "experiments"]);
}

function datasetPath(id: string): string {
  return formatPath(["experiments", id, "dataset"]);
}

export function datasetConfigPath(name: string): string {
  return formatPath(["datasets", name]);
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
    evaluation: context.param<EvaluationConfig>(experimentPath(id, "evaluation")),
    datasetConfig: context.param<DatasetConfig>(datasetConfigPath(context.param<string>(datasetPath(id)))),
  };
}
