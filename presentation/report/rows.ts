/**
 * One flat row per experiment: what metrics.csv holds, what the tables print, what the commentary
 * reasons about. Built from declared params and every seed's stage outputs, plus the trainings' run
 * records for their times and the load they were measured under (null where no record was given).
 * Accuracy, loss and F1 are means over the seeds; each seed's accuracy is kept beside them.
 */
import { summarize } from "../../ml/statistics.ts";
import { optimizerDescription, optimizerLabel, variantLabel } from "./describe.ts";
import { sortExperiments, type ExperimentResults } from "./results.ts";
import { judgeAgainstPublished, judgeChallenge, type Verdict } from "./verdicts.ts";
import type { ThresholdTest } from "../../ml/statistics.ts";
import type { BatchNormEvaluation } from "../../ml/config.ts";
import type { AverageMetrics, ClassMetrics } from "../../ml/evaluate.ts";

export type { Verdict };

/** What one seed's network predicts on the test set, from its confusion matrix (and its last training epoch). */
export interface SeedPredictions {
  seed: number;
  accuracy: number;
  /** Training accuracy of the last epoch (as the network was while it trained); null without a history. */
  trainAccuracy: number | null;
  /** The digit it answers most often and the share of test images it answers it for. */
  mostPredicted: { digit: number; share: number };
  /** How many of the 10 digits it answers at all. */
  digitsPredicted: number;
  /** The test set's most common digit and its share (the confusion matrix's largest row). */
  mostCommonTrue: { digit: number; share: number };
}

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
  /** The seeds run, first seed first. */
  seeds: number[];
  /** How many seeds (runs). */
  n: number;
  /** Mean test accuracy over the seeds (the value itself for one seed). */
  testAccuracy: number;
  /** Sample SD over the seeds; null for one seed. */
  testAccuracySd: number | null;
  testAccuracyMin: number;
  testAccuracyMax: number;
  /** Each seed's test accuracy, in the order of `seeds`. */
  seedAccuracies: number[];
  testLoss: number;
  macroF1: number;
  /** How BatchNorm normalised when these accuracies were measured (the experiment's declared evaluation; the verdict uses them). */
  evaluationMode: BatchNormEvaluation;
  /** The batch BatchNorm normalised over in "batch-statistics" mode; null in eval mode. */
  evaluationBatchSize: number | null;
  /** Each seed's accuracy in the other mode (eval mode for a BatchNorm network measured with batch statistics); null where the modes cannot differ. */
  otherModeAccuracies: number[] | null;
  /** Their mean. */
  otherModeAccuracy: number | null;
  /** The first seed's classification report (sklearn's, as 002 printed it): per class, and macro / weighted averages. */
  perClass: ClassMetrics[];
  averages: { macro: AverageMetrics; weighted: AverageMetrics };
  /**
   * Per seed, where its trained weights are: the train stage's result as the store keeps it,
   * `artifacts/stages/<stage>/<fingerprint>/out` (the same on every machine: the folder is named by the
   * content-addressed key), and the epoch they are from when the run kept its best epoch.
   */
  weights: Array<{ seed: number; path: string; selectedEpoch: number | null }>;
  /** Per seed: what its network predicts (confusion matrix column sums), for sentences that explain a row. */
  seedPredictions: SeedPredictions[];
  /** Whether the test set was evaluated after every epoch (`evaluation.testEachEpoch`): per-epoch test values in the history. */
  perEpochTest: boolean;
  referenceAccuracy: number | null;
  referenceNote: string | null;
  /** Mean − published, in points; null without a published value. */
  deltaPoints: number | null;
  /** 95% prediction interval for one more run of ours (null for one seed). */
  predictionLow: number | null;
  predictionHigh: number | null;
  verdict: Verdict;
  /**
   * Trained or tested on a subset of MNIST (a quick or CI profile): its numbers are not comparable
   * with the studies' full-data values, so the row gets no verdict ("subset") and no challenge answer.
   * null: the full 60,000 / 10,000 images.
   */
  subset: { trainImages: number | null; testImages: number | null } | null;
  /** A threshold to reach (004's 99.5%), not a published measurement: never a reproduction verdict; null for other rows. */
  targetAccuracy: number | null;
  /** Whether the seeds reach the target, judged on the mean's one-sided 95% lower bound; null without a target. */
  challenge: ThresholdTest | null;
  /** Wall time of one training (mean over the seeds with records), validation and per-epoch test passes included. */
  trainingSeconds: number | null;
  /** Summed over every seed's training: what the row cost. */
  trainingSecondsTotal: number | null;
  /** Training images per second, mean over epochs and seeds. */
  imagesPerSecond: number | null;
  /** Most pipeline stages running when one of its trainings started, itself included: times compare like-for-like only at equal counts. */
  concurrentStages: number | null;
  /** The highest 1-minute load average when one of its trainings started. */
  loadAverage: number | null;
  threads: number | null;
  parameters: number;
  backend: string;
  /** Last epoch's values, mean over the seeds. */
  finalTrainLoss: number | null;
  finalTrainAccuracy: number | null;
  finalValLoss: number | null;
  finalValAccuracy: number | null;
}

const mean = (values: readonly number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;

/** The mean of the values present; null when no seed has one. */
function meanOf(values: ReadonlyArray<number | null | undefined>): number | null {
  const present = values.filter((value): value is number => typeof value === "number" && Number.isFinite(value));
  return present.length === 0 ? null : mean(present);
}

export function experimentRow(result: ExperimentResults): ExperimentRow {
  const { meta, trained, seeds } = result;
  const accuracies = seeds.map((seed) => seed.metrics.accuracy);
  const summary = summarize(accuracies);
  const reference = meta.reference.accuracy;
  const dataset = meta.datasetConfig;
  const subset = dataset && (dataset.trainSubset !== null || dataset.testSubset !== null) ? { trainImages: dataset.trainSubset, testImages: dataset.testSubset } : null;
  const judged = reference === null || subset !== null ? null : judgeAgainstPublished(accuracies, reference);
  const runs = seeds.flatMap((seed) => (seed.run ? [seed.run] : []));
  const lasts = seeds.map((seed) => seed.trained.history.at(-1));
  const otherMode = seeds.flatMap((seed) => (seed.metrics.otherMode ? [seed.metrics.otherMode.accuracy] : []));
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
    testImages: result.metrics.count,
    seeds: seeds.map((seed) => seed.seed),
    n: summary.n,
    testAccuracy: summary.mean,
    testAccuracySd: summary.sd,
    testAccuracyMin: summary.min,
    testAccuracyMax: summary.max,
    seedAccuracies: accuracies,
    testLoss: mean(seeds.map((seed) => seed.metrics.loss)),
    macroF1: mean(seeds.map((seed) => seed.metrics.macroAvg.f1)),
    evaluationMode: seeds[0]!.metrics.batchNorm ?? "running-statistics",
    evaluationBatchSize: seeds[0]!.metrics.batchSize ?? null,
    otherModeAccuracies: otherMode.length === seeds.length ? otherMode : null,
    otherModeAccuracy: otherMode.length === seeds.length ? mean(otherMode) : null,
    weights: seeds.map((seed) => ({ seed: seed.seed, path: storePath(seed.trainDir), selectedEpoch: seed.trained.selectedEpoch ?? null })),
    perClass: result.metrics.perClass,
    averages: { macro: result.metrics.macroAvg, weighted: result.metrics.weightedAvg },
    seedPredictions: seeds.map((seed) => seedPredictions(seed.seed, seed.metrics.confusionMatrix, seed.trained.history.at(-1)?.trainAccuracy ?? null)),
    perEpochTest: seeds.every((seed) => seed.trained.history.length > 0 && seed.trained.history.every((epoch) => epoch.testAccuracy !== undefined)),
    referenceAccuracy: reference,
    referenceNote: meta.reference.note ?? null,
    deltaPoints: judged === null ? null : judged.difference * 100,
    subset,
    predictionLow: judged !== null && "interval" in judged ? judged.interval.low : null,
    predictionHigh: judged !== null && "interval" in judged ? judged.interval.high : null,
    verdict: subset !== null && reference !== null ? "subset" : judged === null ? "no reference" : judged.verdict,
    targetAccuracy: meta.reference.target ?? null,
    challenge: meta.reference.target === undefined || subset !== null ? null : judgeChallenge(accuracies, meta.reference.target),
    trainingSeconds: meanOf(runs.map((run) => run.measurements.trainingSeconds)),
    trainingSecondsTotal: runs.length === 0 ? null : runs.reduce((sum, run) => sum + run.measurements.trainingSeconds, 0),
    imagesPerSecond: meanOf(runs.map((run) => run.measurements.imagesPerSecond)),
    concurrentStages: runs.length === 0 ? null : Math.max(...runs.map((run) => run.concurrentStages)),
    loadAverage: runs.length === 0 ? null : Math.max(...runs.map((run) => run.loadAverage)),
    threads: result.run?.threads ?? null,
    parameters: trained.parameters,
    backend: trained.backend,
    finalTrainLoss: meanOf(lasts.map((last) => last?.trainLoss)),
    finalTrainAccuracy: meanOf(lasts.map((last) => last?.trainAccuracy)),
    finalValLoss: meanOf(lasts.map((last) => last?.valLoss)),
    finalValAccuracy: meanOf(lasts.map((last) => last?.valAccuracy)),
  };
}

/** `…/artifacts/stages/<stage>/<fingerprint>/out` → `artifacts/stages/<stage>/<fingerprint>/out` (any other path is kept as given). */
export function storePath(dir: string): string {
  const parts = dir.split(/[\\/]/).filter(Boolean);
  const at = parts.lastIndexOf("artifacts");
  return at >= 0 && parts.length - at === 5 && parts[at + 1] === "stages" ? parts.slice(at).join("/") : dir;
}

/** Column sums (answers) and row sums (true digits) of a confusion matrix [true][predicted]. */
export function seedPredictions(seed: number, matrix: readonly (readonly number[])[], trainAccuracy: number | null): SeedPredictions {
  const total = matrix.reduce((sum, row) => sum + row.reduce((a, b) => a + b, 0), 0);
  const answered = matrix[0]!.map((_, digit) => matrix.reduce((sum, row) => sum + (row[digit] ?? 0), 0));
  const truths = matrix.map((row) => row.reduce((a, b) => a + b, 0));
  const top = (counts: number[]): { digit: number; share: number } => {
    const digit = counts.indexOf(Math.max(...counts));
    return { digit, share: counts[digit]! / total };
  };
  const correct = matrix.reduce((sum, row, digit) => sum + (row[digit] ?? 0), 0);
  return {
    seed,
    accuracy: correct / total,
    trainAccuracy,
    mostPredicted: top(answered),
    digitsPredicted: answered.filter((count) => count > 0).length,
    mostCommonTrue: top(truths),
  };
}

export function experimentRows(results: readonly ExperimentResults[]): ExperimentRow[] {
  return sortExperiments(results.map(experimentRow));
}
