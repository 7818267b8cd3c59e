import type { MetricTable } from "./metrics.ts";
import type { DiffRow } from "./regression-check.ts";
import { sweepItemOf } from "./sweep.ts";

/**
 * The mean of each metric over the items of a sweep (`evaluate@lenet+seed=1`, `…+seed=2` → the
 * mean under `evaluate@lenet`), read from stage names alone so it works on any lock file. `diff`
 * prints these beside the per-item rows; what the mean means (seeds, learning rates) is the
 * project's business.
 */

export interface SweepMean {
  /** The sweep's base (`evaluate@lenet`). */
  base: string;
  /** Items whose metrics went into each mean. */
  n: Record<string, number>;
  means: Record<string, number>;
}

export function sweepMeans(table: MetricTable): Map<string, SweepMean> {
  const groups = new Map<string, Array<Record<string, number>>>();
  for (const [stage, metrics] of Object.entries(table)) {
    const swept = sweepItemOf(stage);
    if (swept) groups.set(swept.base, [...(groups.get(swept.base) ?? []), metrics]);
  }
  const result = new Map<string, SweepMean>();
  for (const [base, members] of groups) {
    const n: Record<string, number> = {};
    const sums: Record<string, number> = {};
    for (const metrics of members) {
      for (const [name, value] of Object.entries(metrics)) {
        n[name] = (n[name] ?? 0) + 1;
        sums[name] = (sums[name] ?? 0) + value;
      }
    }
    result.set(base, { base, n, means: Object.fromEntries(Object.entries(sums).map(([name, sum]) => [name, sum / n[name]!])) });
  }
  return result;
}

/** A mean row of `diff`: the base, the metric, the mean and item count on each side. */
export interface MeanDiffRow extends DiffRow {
  mean: { a: number; b: number };
}

/**
 * Changed means between two tables (or all with `all`), for sweeps with two or more items on
 * either side: a sweep of one item has no mean to add to its own row.
 */
export function diffSweepMeans(a: MetricTable, b: MetricTable, all = false): MeanDiffRow[] {
  const [before, after] = [sweepMeans(a), sweepMeans(b)];
  const rows: MeanDiffRow[] = [];
  for (const base of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const [x, y] = [before.get(base), after.get(base)];
    for (const name of [...new Set([...Object.keys(x?.means ?? {}), ...Object.keys(y?.means ?? {})])].sort()) {
      const count = { a: x?.n[name] ?? 0, b: y?.n[name] ?? 0 };
      if (count.a < 2 && count.b < 2) continue;
      const [mA, mB] = [x?.means[name], y?.means[name]];
      if (!all && mA === mB && count.a === count.b) continue;
      rows.push({ stage: base, name, a: mA ?? null, b: mB ?? null, ...(mA !== undefined && mB !== undefined ? { delta: mB - mA } : {}), mean: count });
    }
  }
  return rows;
}
