/**
 * One flat row per experiment: what metrics.csv holds, what the tables print, what the commentary
 * reasons about. Built from declared params and stage outputs, plus the training's run record for
 * its times and the load they were measured under (null where no record was given).
 */
import { optimizerDescription, optimizerLabel, variantLabel } from "./describe.ts";
import { REFERENCE_TEST_IMAGES, differencePoints, noiseThresholdPoints, withinNoise } from "./noise.ts";
import { sortExperiments, type ExperimentResults } from "./results.ts";

export type Verdict = "matches" | "above" | "below" | "no reference";

export interface ExperimentRow {
  id: string;
  study: string;
  title: string;
  architecture: string;
  variant: string;
  optimizer: string;
  optimizerName: string;
  learningRate: number | null;
  momentum: number | null;
  dataset: string;
  epochs: number;
  batchSize: number | null;
  testImages: number;
  testAccuracy: number;
  testLoss: number;
  macroF1: number;
  referenceAccuracy: number | null;
  referenceNote: string | null;
  /** Ours − published, in points; null without a published value. */
  deltaPoints: number | null;
  /** The noise threshold used for the verdict, in points. */
  noisePoints: number | null;
  verdict: Verdict;
  /** Wall time of the training, validation passes included. */
  trainingSeconds: number | null;
  /** Training images per second, mean over epochs. */
  imagesPerSecond: number | null;
  /** Pipeline stages running when the training started, itself included: times compare like-for-like only at equal counts. */
  concurrentStages: number | null;
  /** The machine's 1-minute load average when the training started. */
  loadAverage: number | null;
  threads: number | null;
  parameters: number;
  backend: string;
  finalTrainLoss: number | null;
  finalTrainAccuracy: number | null;
  finalValLoss: number | null;
  finalValAccuracy: number | null;
}

export function experimentRow(result: ExperimentResults): ExperimentRow {
  const { meta, trained, metrics, run } = result;
  const last = trained.history.at(-1);
  const reference = meta.reference.accuracy;
  const ours = { accuracy: metrics.accuracy, count: metrics.count };
  const published = reference === null ? null : { accuracy: reference, count: REFERENCE_TEST_IMAGES };
  const verdict: Verdict =
    published === null ? "no reference" : withinNoise(ours, published) ? "matches" : ours.accuracy > published.accuracy ? "above" : "below";
  return {
    id: meta.id,
    study: meta.study,
    title: meta.title ?? meta.id,
    architecture: meta.model?.arch ?? "?",
    variant: meta.model ? variantLabel(meta.model, meta.training) : "?",
    optimizer: meta.optimizer ? optimizerDescription(meta.optimizer) : "?",
    optimizerName: meta.optimizer ? optimizerLabel(meta.optimizer) : "?",
    learningRate: meta.optimizer?.lr ?? null,
    momentum: meta.optimizer?.momentum ?? null,
    dataset: meta.dataset ?? "?",
    epochs: trained.history.length,
    batchSize: meta.training?.batchSize ?? null,
    testImages: metrics.count,
    testAccuracy: metrics.accuracy,
    testLoss: metrics.loss,
    macroF1: metrics.macroAvg.f1,
    referenceAccuracy: reference,
    referenceNote: meta.reference.note ?? null,
    deltaPoints: published === null ? null : differencePoints(ours, published),
    noisePoints: published === null ? null : noiseThresholdPoints(ours, published),
    verdict,
    trainingSeconds: run?.measurements.trainingSeconds ?? null,
    imagesPerSecond: run?.measurements.imagesPerSecond ?? null,
    concurrentStages: run?.concurrentStages ?? null,
    loadAverage: run?.loadAverage ?? null,
    threads: run?.threads ?? null,
    parameters: trained.parameters,
    backend: trained.backend,
    finalTrainLoss: last?.trainLoss ?? null,
    finalTrainAccuracy: last?.trainAccuracy ?? null,
    finalValLoss: last?.valLoss ?? null,
    finalValAccuracy: last?.valAccuracy ?? null,
  };
}

export function experimentRows(results: readonly ExperimentResults[]): ExperimentRow[] {
  return sortExperiments(results.map(experimentRow));
}
