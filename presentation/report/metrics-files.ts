/**
 * metrics.csv and metrics.json: the report's numbers for other tools. Unrounded (rounding is the
 * markdown's business), one row per experiment in report order, columns in a fixed order so a
 * diff between two runs lines up. Lists (the seeds, each seed's accuracy) are space-separated in
 * the CSV, in seed order; metrics.json has every seed's details.
 */
import { stringify } from "csv-stringify/sync";
import type { EvaluationReport } from "../../ml/evaluate.ts";
import type { EpochMetrics, EpochTiming } from "../../ml/train.ts";
import type { ExperimentRow } from "./rows.ts";

export const CSV_COLUMNS: readonly (keyof ExperimentRow)[] = [
  "id",
  "study",
  "title",
  "architecture",
  "variant",
  "optimizer",
  "optimizerName",
  "learningRate",
  "momentum",
  "dataset",
  "epochs",
  "batchSize",
  "testImages",
  "n",
  "seeds",
  "testAccuracy",
  "testAccuracySd",
  "testAccuracyMin",
  "testAccuracyMax",
  "seedAccuracies",
  "referenceAccuracy",
  "deltaPoints",
  "predictionLow",
  "predictionHigh",
  "verdict",
  "targetAccuracy",
  "testLoss",
  "macroF1",
  "evaluationMode",
  "evaluationBatchSize",
  "otherModeAccuracy",
  "trainingSeconds",
  "trainingSecondsTotal",
  "imagesPerSecond",
  "concurrentStages",
  "loadAverage",
  "threads",
  "parameters",
  "backend",
  "finalTrainLoss",
  "finalTrainAccuracy",
  "finalValLoss",
  "finalValAccuracy",
  "referenceNote",
];

/** snake_case headers: what spreadsheet and pandas users expect. */
function header(column: string): string {
  return column.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

export function metricsCsv(rows: readonly ExperimentRow[]): string {
  const columns = CSV_COLUMNS.map(header);
  const cell = (value: unknown): unknown => (Array.isArray(value) ? value.map(String).join(" ") : (value ?? ""));
  const records = rows.map((row) => Object.fromEntries(CSV_COLUMNS.map((column) => [header(column), cell(row[column])])));
  // Numbers as JavaScript prints them (shortest round-trip form): no locale, no rounding.
  return stringify(records, { header: true, columns, cast: { number: (value) => String(value) } });
}

/** One seed's numbers, as metrics.json lists them. */
export interface SeedDetails {
  seed: number;
  testAccuracy: number;
  testLoss: number;
  macroF1: number;
  trainingSeconds: number | null;
  imagesPerSecond: number | null;
  /** Per epoch: the metrics from history.json, with the epoch's timing from the run record when there is one. */
  history: readonly (EpochMetrics & Partial<EpochTiming>)[];
}

export interface ExperimentDetails {
  row: ExperimentRow;
  /** The first seed's per-class metrics and confusion matrix. */
  perClass: EvaluationReport["perClass"];
  confusionMatrix: EvaluationReport["confusionMatrix"];
  /** The first seed's history (as `runs[0].history`). */
  history: readonly (EpochMetrics & Partial<EpochTiming>)[];
  /** Every seed, first seed first. */
  runs: readonly SeedDetails[];
}

export function metricsJson(details: readonly ExperimentDetails[]): string {
  const totalSeconds = details.reduce((sum, detail) => sum + (detail.row.trainingSecondsTotal ?? 0), 0);
  return (
    JSON.stringify(
      {
        schema: 2,
        totals: { experiments: details.length, runs: details.reduce((sum, detail) => sum + detail.row.n, 0), trainingSeconds: totalSeconds },
        experiments: details.map((detail) => ({ ...detail.row, perClass: detail.perClass, confusionMatrix: detail.confusionMatrix, history: detail.history, runs: detail.runs })),
      },
      null,
      2,
    ) + "\n"
  );
}
