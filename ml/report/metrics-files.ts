/**
 * metrics.csv and metrics.json: the report's numbers for other tools. Unrounded (rounding is the
 * markdown's business), one row per experiment in report order, columns in a fixed order so a
 * diff between two runs lines up.
 */
import { stringify } from "csv-stringify/sync";
import type { EvaluationReport } from "../evaluate.ts";
import type { EpochMetrics, EpochTiming } from "../train.ts";
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
  "testAccuracy",
  "referenceAccuracy",
  "deltaPoints",
  "noisePoints",
  "verdict",
  "testLoss",
  "macroF1",
  "trainingSeconds",
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
  const records = rows.map((row) => Object.fromEntries(CSV_COLUMNS.map((column) => [header(column), row[column] ?? ""])));
  // Numbers as JavaScript prints them (shortest round-trip form): no locale, no rounding.
  return stringify(records, { header: true, columns, cast: { number: (value) => String(value) } });
}

export interface ExperimentDetails {
  row: ExperimentRow;
  perClass: EvaluationReport["perClass"];
  confusionMatrix: EvaluationReport["confusionMatrix"];
  /** Per epoch: the metrics from history.json, with the epoch's timing from the run record when there is one. */
  history: readonly (EpochMetrics & Partial<EpochTiming>)[];
}

export function metricsJson(details: readonly ExperimentDetails[]): string {
  const totalSeconds = details.reduce((sum, detail) => sum + (detail.row.trainingSeconds ?? 0), 0);
  return (
    JSON.stringify(
      {
        schema: 1,
        totals: { experiments: details.length, trainingSeconds: totalSeconds },
        experiments: details.map((detail) => ({ ...detail.row, perClass: detail.perClass, confusionMatrix: detail.confusionMatrix, history: detail.history })),
      },
      null,
      2,
    ) + "\n"
  );
}
