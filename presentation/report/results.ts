/**
 * One experiment's results as the report and the charts see them: the params it was declared with,
 * what its train and evaluate stages wrote for each seed, and how each training ran (wall time, images/s, load —
 * from the train result's run record, not its files). Only the JSON files are read — never
 * model.json or weights.bin — so building a report loads no tfjs.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { RunRecord } from "../../engine/index.ts";
import type { DatasetConfig, EvaluationConfig, ModelConfig, OptimizerConfig, TrainingConfig } from "../../ml/config.ts";
import type { EvaluationMetrics, EvaluationReport } from "../../ml/evaluate.ts";
import type { ModelSummary } from "../../ml/models.ts";
import type { TrainedHistory } from "../../ml/train.ts";
import { readTrainingMeasurements, type TrainingMeasurements } from "../../ml/training-measurements.ts";

export type { TrainedHistory };

/** The declared params of one experiment (the subset each stage declares; absent = not declared). */
export interface ExperimentMeta {
  id: string;
  study: string;
  /** accuracy: the published value; target: a threshold to reach (004's 99.5%), never a reproduction verdict. */
  reference: { accuracy: number | null; note?: string; target?: number };
  title?: string;
  dataset?: string;
  model?: ModelConfig;
  optimizer?: OptimizerConfig;
  training?: TrainingConfig;
  /** How it was evaluated (BatchNorm mode, per-epoch test pass); absent = not declared. */
  evaluation?: EvaluationConfig;
  /** Its dataset's preparation (subsets, validation split); absent = not declared. */
  datasetConfig?: DatasetConfig;
}

/** metrics.json as an evaluate stage wrote it; the mode fields are absent in results made before modes existed (= eval mode). */
export type StoredMetrics = EvaluationReport & Partial<Pick<EvaluationMetrics, "batchNorm" | "batchSize" | "otherMode">>;

/** The parts of a train result's run record the report reads. */
export type TrainRecord = Pick<RunRecord, "measurements" | "load" | "execution">;

/** One seed's outputs (its train and evaluate stages' folders). */
export interface RunSource {
  seed: number;
  trainDir: string;
  evaluateDir: string;
  /**
   * The train result's run record (`context.inputRecord`): where training times and load come from.
   * Absent (times shown as not recorded) when the caller has none.
   */
  trainRecord?: TrainRecord;
}

/** Where a stage finds one experiment's outputs and what params say about it. */
export interface ExperimentSource {
  meta: ExperimentMeta;
  /** One per seed, the first seed first (the run analyses and per-experiment charts use). */
  runs: readonly RunSource[];
}

/** How a training ran: measured, so it differs between two runs that made the same files. */
export interface TrainingRun {
  measurements: TrainingMeasurements;
  /** Pipeline stages running on the machine when the training started (itself included). */
  concurrentStages: number;
  /** The machine's 1-minute load average when the training started. */
  loadAverage: number;
  /** Threads the stage was given (the `threads` execution option); null when not recorded. */
  threads: number | null;
}

/** What one seed's train and evaluate stages produced, and how its training ran. */
export interface SeedResults {
  seed: number;
  /** Where its train stage's output is (model.json, weights.bin, history.json). */
  trainDir: string;
  trained: TrainedHistory;
  metrics: StoredMetrics;
  /** Absent when no run record with training measurements was passed in. */
  run?: TrainingRun;
}

export interface ExperimentResults {
  meta: ExperimentMeta;
  /** Every seed's results, the first seed first. */
  seeds: SeedResults[];
  /** The first seed's history, metrics and run: what shows one network (confusion matrix, per-class F1, layers). */
  trained: TrainedHistory;
  metrics: StoredMetrics;
  run?: TrainingRun;
  /** Absent when the caller did not need the layer summary (the first seed's; every seed has the same layers). */
  summary?: ModelSummary;
}

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, "utf8")) as T;
}

export async function readTrainHistory(trainDir: string): Promise<TrainedHistory> {
  return readJson<TrainedHistory>(join(trainDir, "history.json"));
}

export async function readModelSummary(trainDir: string): Promise<ModelSummary> {
  return readJson<ModelSummary>(join(trainDir, "summary.json"));
}

export async function readMetrics(evaluateDir: string): Promise<StoredMetrics> {
  return readJson<StoredMetrics>(join(evaluateDir, "metrics.json"));
}

/** The training's measurements and load from its run record; undefined when it has no measurements. */
export function trainingRun(record: TrainRecord | undefined, where: string): TrainingRun | undefined {
  const measurements = readTrainingMeasurements(record?.measurements, where);
  if (!record || !measurements) return undefined;
  const threads = Number(record.execution.threads);
  return {
    measurements,
    concurrentStages: record.load.concurrentStages,
    loadAverage: record.load.loadAverage,
    threads: Number.isInteger(threads) && threads > 0 ? threads : null,
  };
}

export async function loadExperimentResults(source: ExperimentSource, withSummary = false): Promise<ExperimentResults> {
  const { meta } = source;
  if (source.runs.length === 0) throw new Error(`experiment ${meta.id} has no runs to report`);
  const seeds = await Promise.all(
    source.runs.map(async (runSource): Promise<SeedResults> => {
      const [trained, metrics] = await Promise.all([readTrainHistory(runSource.trainDir), readMetrics(runSource.evaluateDir)]);
      const run = trainingRun(runSource.trainRecord, `the run record of ${meta.id}'s training with seed ${runSource.seed}`);
      return { seed: runSource.seed, trainDir: runSource.trainDir, trained, metrics, ...(run ? { run } : {}) };
    }),
  );
  const summary = withSummary ? await readModelSummary(source.runs[0]!.trainDir) : undefined;
  const first = seeds[0]!;
  return { meta, seeds, trained: first.trained, metrics: first.metrics, ...(first.run ? { run: first.run } : {}), ...(summary ? { summary } : {}) };
}

/**
 * The order experiments appear in, everywhere: by study, then by id. Not params-file order on
 * purpose — the engine's cache key does not see the order of experiments in params.json, so output
 * that depended on it could be served stale from the cache after a reorder.
 */
export function compareExperiments(a: { id: string; study: string }, b: { id: string; study: string }): number {
  return a.study === b.study ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.study < b.study ? -1 : 1;
}

export function sortExperiments<T extends { id: string; study: string }>(items: readonly T[]): T[] {
  return [...items].sort(compareExperiments);
}
