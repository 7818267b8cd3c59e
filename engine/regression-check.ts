import type { MetricTable } from "./metrics.ts";

/**
 * Compares metrics against a committed baseline with per-metric limits — what `dvc metrics diff`
 * shows, plus the thresholds it lacks, so CI gets one pass/fail answer and the reason.
 */

export interface Tolerance {
  /** "higher" for accuracy-like metrics (a drop is a regression), "lower" for loss-like ones. */
  better: "higher" | "lower";
  /** Largest allowed change in the bad direction, in the metric's units (0.003 = 0.3 points of accuracy). */
  absolute?: number;
  /** Largest allowed change in the bad direction relative to the baseline (0.05 = 5%). */
  relative?: number;
}

export type CheckStatus = "pass" | "fail" | "missing-in-current" | "missing-in-baseline";

export interface CheckRow {
  stage: string;
  metric: string;
  baseline: number | null;
  current: number | null;
  delta: number | null;
  /** The worst value allowed, null when the metric has no tolerance (then it only fails if missing). */
  limit: number | null;
  status: CheckStatus;
}

export function compareToBaseline(current: MetricTable, baseline: MetricTable, tolerances: Readonly<Record<string, Tolerance>>): CheckRow[] {
  const rows: CheckRow[] = [];
  const stages = [...new Set([...Object.keys(baseline), ...Object.keys(current)])].sort();
  for (const stage of stages) {
    const before = baseline[stage] ?? {};
    const now = current[stage] ?? {};
    const metrics = [...new Set([...Object.keys(before), ...Object.keys(now)])].filter((metric) => metric in tolerances).sort();
    for (const metric of metrics) {
      const b = before[metric];
      const c = now[metric];
      if (b === undefined || c === undefined) {
        rows.push({ stage, metric, baseline: b ?? null, current: c ?? null, delta: null, limit: null, status: b === undefined ? "missing-in-baseline" : "missing-in-current" });
        continue;
      }
      const limit = worstAllowed(b, tolerances[metric]!);
      const bad = tolerances[metric]!.better === "higher" ? c < limit : c > limit;
      rows.push({ stage, metric, baseline: b, current: c, delta: c - b, limit, status: bad ? "fail" : "pass" });
    }
  }
  return rows;
}

/** The most lenient of the absolute and relative limits; with neither, any worsening fails. */
function worstAllowed(baseline: number, tolerance: Tolerance): number {
  const slack = Math.max(tolerance.absolute ?? 0, (tolerance.relative ?? 0) * Math.abs(baseline));
  return tolerance.better === "higher" ? baseline - slack : baseline + slack;
}

export function checkPassed(rows: readonly CheckRow[]): boolean {
  return rows.every((row) => row.status === "pass");
}

export interface DiffRow {
  stage: string;
  name: string;
  a: unknown;
  b: unknown;
  delta?: number;
}

/** Changed metrics between two tables (numeric delta), like `dvc metrics diff`. */
export function diffMetrics(a: MetricTable, b: MetricTable, all = false): DiffRow[] {
  const rows: DiffRow[] = [];
  for (const stage of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    for (const name of [...new Set([...Object.keys(a[stage] ?? {}), ...Object.keys(b[stage] ?? {})])].sort()) {
      const before = a[stage]?.[name];
      const after = b[stage]?.[name];
      if (!all && before === after) continue;
      rows.push({ stage, name, a: before ?? null, b: after ?? null, ...(before !== undefined && after !== undefined ? { delta: after - before } : {}) });
    }
  }
  return rows;
}
