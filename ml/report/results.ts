/**
 * One experiment's results as the report and the charts see them: the params it was declared with
 * plus what its train and evaluate stages wrote. Only the JSON files are read — never model.json or
 * weights.bin — so building a report loads no tfjs.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ModelConfig, OptimizerConfig, TrainingConfig } from "../config.ts";
import type { EvaluationReport } from "../evaluate.ts";
import type { ModelSummary } from "../models.ts";
import type { EpochRecord } from "../train.ts";

/** `history.json` as the train stage writes it. */
export interface TrainedHistory {
  backend: string;
  versions: Record<string, string>;
  totalSeconds: number;
  imagesPerSecond: number;
  parameters: number;
  history: EpochRecord[];
}

/** The declared params of one experiment (the subset each stage declares; absent = not declared). */
export interface ExperimentMeta {
  id: string;
  study: string;
  reference: { accuracy: number | null; note?: string };
  title?: string;
  dataset?: string;
  model?: ModelConfig;
  optimizer?: OptimizerConfig;
  training?: TrainingConfig;
}

/** Where a stage finds one experiment's outputs (its inputs' folders) and what params say about it. */
export interface ExperimentSource {
  meta: ExperimentMeta;
  trainDir: string;
  evaluateDir: string;
}

export interface ExperimentResults {
  meta: ExperimentMeta;
  trained: TrainedHistory;
  metrics: EvaluationReport;
  /** Absent when the caller did not need the layer summary. */
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

export async function readMetrics(evaluateDir: string): Promise<EvaluationReport> {
  return readJson<EvaluationReport>(join(evaluateDir, "metrics.json"));
}

export async function loadExperimentResults(
  meta: ExperimentMeta,
  dirs: { train: string; evaluate: string },
  withSummary = false,
): Promise<ExperimentResults> {
  const [trained, metrics, summary] = await Promise.all([
    readTrainHistory(dirs.train),
    readMetrics(dirs.evaluate),
    withSummary ? readModelSummary(dirs.train) : Promise.resolve(undefined),
  ]);
  return summary ? { meta, trained, metrics, summary } : { meta, trained, metrics };
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
