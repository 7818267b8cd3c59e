/**
 * Which charts exist and what they are called. The per-experiment set depends on one experiment's
 * results only (its stage is cached per experiment); the comparison set spans experiments.
 */
import type { TopLevelSpec } from "vega-lite";
import { accuracyCurvesSpec, lossCurvesSpec } from "./charts-training.ts";
import { perClassF1Spec, seedDotPlotSpec, testAccuracySpec, trainingCostSpec, type AccuracyRow } from "./charts-comparison.ts";
import { confusionMatrixSpec } from "./charts-experiment.ts";
import { experimentColors, studyColors } from "./chart-style.ts";
import { sortExperiments, type ExperimentResults } from "./results.ts";
import { accuracyPredictionInterval } from "./verdicts.ts";
import type { EvaluationReport } from "../evaluate.ts";

import type { ChartScope } from "./chart-manifest.ts";

export interface ChartDefinition {
  /** File stem, unique within a report: `<name>.vl.json`, `<name>.svg`, `<name>.png`. */
  name: string;
  /** Alt text and caption. */
  title: string;
  scope: ChartScope;
  study?: string;
  experiment?: string;
  spec: TopLevelSpec;
}

/** Keys of params.json may hold any character; file names should not. */
export function fileStem(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, "_");
}

export function confusionChartName(id: string): string {
  return `confusion-${fileStem(id)}`;
}

export function experimentCharts(id: string, metrics: EvaluationReport): ChartDefinition[] {
  return [{ name: confusionChartName(id), title: `Confusion matrix of ${id} on the test set`, scope: "experiment", experiment: id, spec: confusionMatrixSpec(id, metrics) }];
}

function accuracyRow(result: ExperimentResults & { id: string; study: string }): AccuracyRow {
  const accuracies = result.seeds.map((seed) => seed.metrics.accuracy);
  return {
    id: result.id,
    study: result.study,
    accuracy: accuracies.reduce((sum, value) => sum + value, 0) / accuracies.length,
    seeds: result.seeds.map((seed) => ({ seed: seed.seed, accuracy: seed.metrics.accuracy })),
    prediction: accuracyPredictionInterval(accuracies),
    reference: result.meta.reference.accuracy,
  };
}

export function comparisonCharts(results: readonly ExperimentResults[]): ChartDefinition[] {
  const sorted = sortExperiments(results.map((result) => ({ ...result, id: result.meta.id, study: result.meta.study })));
  const charts: ChartDefinition[] = [];
  const studies = [...new Set(sorted.map((result) => result.study))];
  for (const study of studies) {
    const members = sorted.filter((result) => result.study === study);
    const colors = experimentColors(members.map((result) => result.id));
    const series = members.map((result) => ({ id: result.id, histories: result.seeds.map((seed) => seed.trained.history) }));
    const stem = `study-${fileStem(study)}`;
    charts.push(
      { name: `${stem}-loss`, title: `Study ${study}: loss per epoch`, scope: "study", study, spec: lossCurvesSpec(study, series, colors) },
      { name: `${stem}-accuracy`, title: `Study ${study}: accuracy per epoch`, scope: "study", study, spec: accuracyCurvesSpec(study, series, colors) },
    );
    // Every seed of every row against the published value (rows without one are named, not drawn).
    if (!members.some((result) => result.meta.reference.accuracy !== null)) continue;
    charts.push({
      name: `${stem}-seeds`,
      title: `Study ${study}: every seed against the published value`,
      scope: "study",
      study,
      spec: seedDotPlotSpec(study, members.map(accuracyRow), colors),
    });
  }
  const backends = [...new Set(sorted.map((result) => result.trained.backend))].join(", ");
  charts.push({
    name: "test-accuracy",
    title: "Test accuracy of every experiment vs the published value",
    scope: "all",
    spec: testAccuracySpec(sorted.map(accuracyRow), { title: "Test accuracy of every experiment vs the published value", colorBy: "study", colors: studyColors(studies) }),
  });
  // Times come from the trainings' run records; experiments read without one have none to show.
  const timed = sorted.flatMap((result) => (result.run ? [{ result, run: result.run }] : []));
  if (timed.length > 0) {
    charts.push({
      name: "training-cost",
      title: "Training time and throughput per experiment (its first seed's training)",
      scope: "all",
      spec: trainingCostSpec(
        timed.map(({ result, run }) => ({
          id: result.id,
          study: result.study,
          seconds: run.measurements.trainingSeconds,
          imagesPerSecond: run.measurements.imagesPerSecond,
          epochs: result.trained.history.length,
          concurrentStages: run.concurrentStages,
        })),
        studyColors(studies),
        backends,
      ),
    });
  }
  charts.push(
    {
      name: "per-class-f1",
      title: "Per-class F1 of every experiment (its first seed)",
      scope: "all",
      spec: perClassF1Spec(sorted.map((result) => ({ id: result.id, f1: f1ByDigit(result.metrics) }))),
    },
  );
  return charts;
}

/** F1 indexed by digit, whatever order metrics.json lists the classes in. */
function f1ByDigit(metrics: EvaluationReport): number[] {
  const f1: number[] = [];
  for (const entry of metrics.perClass) f1[entry.label] = entry.f1;
  return Array.from({ length: f1.length }, (_, digit) => f1[digit] ?? 0);
}
