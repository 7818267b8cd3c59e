/**
 * Under what conditions the training times were measured, as the tables and sentences disclose it:
 * how many pipeline stages shared the machine and its load average when each training started. Two
 * trainings on two cores run slower each than one alone, so times compare like-for-like only at
 * equal counts (issue #20). The values come from run records: provenance, not content.
 */
import type { ExperimentRow } from "./rows.ts";

export type TimedRow = ExperimentRow & { trainingSeconds: number; imagesPerSecond: number };

/** The rows whose training has recorded times (a row read without its run record has none). */
export function timedRows(rows: readonly ExperimentRow[]): TimedRow[] {
  return rows.filter((row): row is TimedRow => row.trainingSeconds !== null && row.imagesPerSecond !== null);
}

/** "2 · 1.93": stages at once and load average, for a table cell; "—" when not recorded. */
export function conditionsCell(row: ExperimentRow): string {
  if (row.concurrentStages === null || row.loadAverage === null) return "—";
  return `${row.concurrentStages} · ${row.loadAverage.toFixed(2)}`;
}

function range(values: readonly number[], format: (value: number) => string): string {
  const low = Math.min(...values);
  const high = Math.max(...values);
  return low === high ? format(low) : `${format(low)}–${format(high)}`;
}

/** "1–2 stages at once, load 0.95–2.10" over the rows that have conditions recorded; "" when none. */
export function conditionsRange(rows: readonly ExperimentRow[]): string {
  const counts = rows.flatMap((row) => (row.concurrentStages === null ? [] : [row.concurrentStages]));
  const loads = rows.flatMap((row) => (row.loadAverage === null ? [] : [row.loadAverage]));
  if (counts.length === 0) return "";
  const stages = range(counts, String);
  return `${stages} stage${stages === "1" ? "" : "s"} at once, load ${range(loads, (value) => value.toFixed(2))}`;
}

/** Experiment ids grouped by their stages-at-once count, fewest first (rows without a count left out). */
export function byConcurrency(rows: readonly ExperimentRow[]): [count: number, ids: string[]][] {
  const groups = new Map<number, string[]>();
  for (const row of rows) {
    if (row.concurrentStages === null) continue;
    groups.set(row.concurrentStages, [...(groups.get(row.concurrentStages) ?? []), row.id]);
  }
  return [...groups.entries()].sort(([a], [b]) => a - b);
}
