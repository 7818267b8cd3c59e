/**
 * Which charts exist and what they are called. The per-experiment set depends on one experiment's
 * results only (its stage is cached per experiment); the comparison set spans experiments.
 */
import type { TopLevelSpec } from "vega-lite";
import { accuracyCurvesSpec, lossCurvesSpec, type PrintedPoint } from "./charts-training.ts";
import { printedValues, type PrintedEpoch } from "../report/printed-values.ts";
import { perClassF1Spec, seedDotPlotSpec, testAccuracySpec, trainingCostSpec, type AccuracyRow } from "./charts-comparison.ts";
import { confusionMatrixSpec } from "./charts-experiment.ts";
import { experimentColors, studyColors } from "./chart-style.ts";
import { sortExperiments, type ExperimentResults } from "../report/results.ts";
import { accuracyPredictionInterval } from "../report/verdicts.ts";
import type { EvaluationReport } from "../../ml/evaluate.ts";

import type { ChartDescription } from "../report/chart-manifest.ts";

export interface ChartDefinition extends ChartDescription {
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

/** Trained or tested on a subset of MNIST (quick / CI profiles): nothing to compare with the studies' full-data values. */
function isSubset(result: ExperimentResults): boolean {
  const dataset = result.meta.datasetConfig;
  return dataset !== undefined && (dataset.trainSubset !== null || dataset.testSubset !== null);
}

function accuracyRow(result: ExperimentResults & { id: string; study: string }): AccuracyRow {
  const accuracies = result.seeds.map((seed) => seed.metrics.accuracy);
  const comparable = !isSubset(result);
  return {
    id: result.id,
    study: result.study,
    accuracy: accuracies.reduce((sum, value) => sum + value, 0) / accuracies.length,
    seeds: result.seeds.map((seed) => ({ seed: seed.seed, accuracy: seed.metrics.accuracy })),
    prediction: accuracyPredictionInterval(accuracies),
    reference: comparable ? result.meta.reference.accuracy : null,
    target: comparable ? (result.meta.reference.target ?? null) : null,
    subset: !comparable,
  };
}

export function comparisonCharts(results: readonly ExperimentResults[]): ChartDefinition[] {
  const sorted = sortExperiments(results.map((result) => ({ ...result, id: result.meta.id, study: result.meta.study })));
  const charts: ChartDefinition[] = [];
  const studies = [...new Set(sorted.map((result) => result.study))];
  for (const study of studies) {
    const members = sorted.filter((result) => result.study === study);
    const colors = experimentColors(members.map((result) => result.id));
    const series = members.map((result) => ({
      id: result.id,
      histories: result.seeds.map((seed) => seed.trained.history),
      // The studies' values were measured on the full test set: a subset profile's curves are not comparable with them.
      printed: result.metrics.count === FULL_TEST_SET && !isSubset(result) ? printedPoints(result.id, result.trained.history.length) : [],
    }));
    const stem = `study-${fileStem(study)}`;
    charts.push(
      { name: `${stem}-loss`, title: `Study ${study}: loss per epoch`, scope: "study", study, spec: lossCurvesSpec(study, series, colors) },
      { name: `${stem}-accuracy`, title: `Study ${study}: accuracy per epoch`, scope: "study", study, spec: accuracyCurvesSpec(study, series, colors) },
    );
    // Every seed of every row against the published value (rows without one are named, not drawn).
    if (!members.some((result) => result.meta.reference.accuracy !== null && !isSubset(result))) continue;
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

/** MNIST's test set: the studies printed their numbers on all of it. */
const FULL_TEST_SET = 10_000;

/** The study's printed per-epoch values for an experiment, as points on our curves (accuracies as fractions), up to the epochs we trained. */
export function printedPoints(id: string, epochs = Infinity): PrintedPoint[] {
  const entry = printedValues().experiments[id];
  if (!entry) return [];
  const points: PrintedPoint[] = [];
  const add = (epoch: PrintedEpoch, split: PrintedPoint["split"], loss: number | undefined, accuracyPercent: number | undefined): void => {
    if (loss === undefined && accuracyPercent === undefined) return;
    points.push({ epoch: epoch.epoch, split, ...(loss === undefined ? {} : { loss }), ...(accuracyPercent === undefined ? {} : { accuracy: accuracyPercent / 100 }) });
  };
  for (const epoch of entry.epochs.filter((printed) => printed.epoch <= epochs)) {
    add(epoch, "training", epoch.trainLoss, epoch.trainAccuracyPercent);
    add(epoch, "validation", epoch.valLoss, epoch.valAccuracyPercent);
    add(epoch, "test", epoch.testLoss, epoch.testAccuracyPercent);
  }
  return points;
}

/** F1 indexed by digit, whatever order metrics.json lists the classes in. */
function f1ByDigit(metrics: EvaluationReport): number[] {
  const f1: number[] = [];
  for (const entry of metrics.perClass) f1[entry.label] = entry.f1;
  return Array.from({ length: f1.length }, (_, digit) => f1[digit] ?? 0);
}
