import { defineForeach, defineStage, formatPath } from "../engine/index.ts";
import type { DatasetConfig } from "../ml/config.ts";
import type { ExperimentMeta } from "../presentation/report/results.ts";
import { byStageName, experimentIds } from "./experiment-inputs.ts";
import { datasetsInUse, experimentPath, type Params } from "./params.ts";
import { declaredRuns, firstRun, runsOf, seedParams } from "./replicates.ts";
import { TRAINING_TIMES_PARAM } from "./analysis-params.ts";

/**
 * Charts as Vega-Lite specs + SVG + PNG (code in presentation/charts/, loaded only inside `run`: this file is
 * imported on every CLI start and must stay light).
 *
 * - `charts@<id>`: one experiment's own charts (its confusion matrix). Depends on its evaluate
 *   stage only and reads no params, so the charts of experiments whose results did not change are
 *   reused, and a title edit reruns none of them.
 * - `comparison-charts`: charts across experiments (training curves per study, test accuracy vs the
 *   published value, training cost, per-class F1). Reads each experiment's study and published
 *   value; names, not titles, label the series.
 */
export const charts = defineForeach<Params>({
  name: "charts",
  module: import.meta.url,
  items: (params) => Object.keys(params.experiments),
  // The first seed's evaluation when the experiment is replicated.
  inputs: (id, params) => ({ evaluation: firstRun(params, id).evaluate }),
  params: () => [],
  async run(context, id) {
    const { buildExperimentCharts } = await import("../presentation/charts/build-charts.ts");
    await buildExperimentCharts(id, context.input("evaluation"), context.outDir);
  },
});

const COMPARISON_PARAMS = ["study", "reference"] as const;
const datasetOf = (id: string): string => formatPath(["experiments", id, "dataset"]);
const datasetConfig = (name: string): string => formatPath(["datasets", name]);

export const comparisonCharts = defineStage<Params>({
  name: "comparison-charts",
  module: import.meta.url,
  // Every seed's train and evaluate stage, each role named after its stage.
  inputs: (params) => byStageName(experimentIds(params).flatMap((id) => runsOf(params, id).flatMap((run) => [run.train, run.evaluate]))),
  // Each dataset's preparation too: a subset profile's charts draw no published values to compare with.
  params: (params) => [
    ...experimentIds(params).flatMap((id) => [...COMPARISON_PARAMS.map((section) => experimentPath(id, section)), datasetOf(id), ...seedParams(id)]),
    ...datasetsInUse(params).map(datasetConfig),
    TRAINING_TIMES_PARAM,
  ],
  async run(context) {
    const { buildComparisonCharts } = await import("../presentation/charts/build-charts.ts");
    const trainingTimes = context.param<boolean>(TRAINING_TIMES_PARAM);
    const sources = declaredRuns(context).map(({ id, runs }) => ({
      meta: {
        id,
        study: context.param<string>(experimentPath(id, "study")),
        reference: context.param<ExperimentMeta["reference"]>(experimentPath(id, "reference")),
        datasetConfig: context.param<DatasetConfig>(datasetConfig(context.param<string>(datasetOf(id)))),
      },
      runs: runs.map((run) => ({
        seed: run.seed,
        trainDir: context.input(run.train),
        evaluateDir: context.input(run.evaluate),
        // The training-cost chart plots times from the run record (measurements, not content): two
        // runs of this stage with the same key can draw different times (report.trainingTimes).
        ...(trainingTimes ? { trainRecord: context.inputRecord(run.train) } : {}),
      })),
    }));
    await buildComparisonCharts(sources, context.outDir);
  },
});
