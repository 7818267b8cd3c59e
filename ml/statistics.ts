/**
 * Statistics over replicate runs (seeds): summaries, a prediction interval against a study's single
 * published run, seed-paired comparisons with Holm's correction, and a one-sided bound against a
 * threshold. Student's t comes from jStat (`jstat`), so no quantile here is hand-written.
 *
 * Values are in whatever unit the caller passes (accuracy as 0..1 here); `resolution` is the
 * smallest difference the caller reports (0.0001 = 0.01 points of accuracy). When every value is
 * the same (s = 0) an interval of zero width would claim more than the numbers show, so intervals
 * are then the mean ± the resolution.
 */
import jStat from "jstat";

export interface Summary {
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1); null for a single value. */
  sd: number | null;
  min: number;
  max: number;
  /** The values, in the order given. */
  values: number[];
}

export interface Interval {
  low: number;
  high: number;
}

export interface StatisticsOptions {
  /** Two-sided confidence for intervals (one-sided for thresholds). Default 0.95. */
  confidence?: number;
  /** Half-width of an interval when all values are equal. */
  resolution: number;
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new Error("summarize: no values");
  if (values.some((value) => !Number.isFinite(value))) throw new Error(`summarize: not every value is finite (${values.join(", ")})`);
  const n = values.length;
  const [min, max] = [Math.min(...values), Math.max(...values)];
  // Equal values: the mean is that value and s is 0 exactly (summing would leave a rounding residue).
  const mean = min === max ? min : values.reduce((sum, value) => sum + value, 0) / n;
  const sd = n < 2 ? null : min === max ? 0 : Math.sqrt(values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (n - 1));
  return { n, mean, sd, min, max, values: [...values] };
}

/** Student's t quantile: P(T ≤ x) = p with `df` degrees of freedom. */
export function tQuantile(p: number, df: number): number {
  return jStat.studentt.inv(p, df);
}

/** Two-sided p-value of a t statistic. */
export function twoSidedP(t: number, df: number): number {
  if (!Number.isFinite(t)) return Number.isNaN(t) ? 1 : 0;
  if (t === 0) return 1; // by symmetry; jStat's cdf(0) is 0.5 only to ~1e-8
  return Math.min(1, 2 * (1 - jStat.studentt.cdf(Math.abs(t), df)));
}

/**
 * Where one new run would fall with the given confidence: mean ± t(1 − α/2, n − 1) · s · √(1 + 1/n).
 * Null for a single run (no spread to go on); mean ± resolution when s = 0.
 */
export function predictionInterval(summary: Summary, options: StatisticsOptions): Interval | null {
  if (summary.n < 2 || summary.sd === null) return null;
  const half = summary.sd === 0 ? options.resolution : tQuantile(1 - (1 - (options.confidence ?? 0.95)) / 2, summary.n - 1) * summary.sd * Math.sqrt(1 + 1 / summary.n);
  return { low: summary.mean - half, high: summary.mean + half };
}

export type PublishedComparison =
  | { verdict: "single run"; n: 1; difference: number }
  | { verdict: "consistent" | "above" | "below"; n: number; difference: number; interval: Interval };

/**
 * Our runs against a study's single published run: is the published value where one more run of
 * ours could land? "consistent" inside the prediction interval, "above" when ours lie above it
 * (the published value is under the interval), "below" when under it. One run: the difference
 * only, no verdict.
 */
export function compareToPublished(values: readonly number[], published: number, options: StatisticsOptions): PublishedComparison {
  const summary = summarize(values);
  const difference = summary.mean - published;
  const interval = predictionInterval(summary, options);
  if (interval === null) return { verdict: "single run", n: 1, difference };
  const verdict = published < interval.low ? "above" : published > interval.high ? "below" : "consistent";
  return { verdict, n: summary.n, difference, interval };
}

export interface PairedComparison {
  /** Seeds both sides ran, in the order of `a`. */
  seeds: number[];
  k: number;
  /** a − b per seed. */
  differences: number[];
  meanDifference: number;
  /** SD of the differences; null with fewer than two pairs. */
  sd: number | null;
  /** Confidence interval of the mean difference; null with fewer than two pairs. */
  interval: Interval | null;
  t: number | null;
  /** Two-sided paired t-test; null with fewer than two pairs. */
  p: number | null;
}

/**
 * Two configurations run with the same seeds: the per-seed differences a − b, their mean with its
 * confidence interval, and the paired t-test (t = mean / (s / √k), k − 1 degrees of freedom).
 * Pairing by seed removes what the seed does to both (same initial weights' stream, same data
 * order), so a real difference shows with fewer runs. Seeds only one side ran are left out.
 */
export function pairedComparison(a: ReadonlyMap<number, number>, b: ReadonlyMap<number, number>, options: StatisticsOptions): PairedComparison {
  const seeds = [...a.keys()].filter((seed) => b.has(seed));
  const differences = seeds.map((seed) => a.get(seed)! - b.get(seed)!);
  const k = seeds.length;
  if (k === 0) return { seeds, k, differences, meanDifference: Number.NaN, sd: null, interval: null, t: null, p: null };
  const summary = summarize(differences);
  if (k < 2 || summary.sd === null) return { seeds, k, differences, meanDifference: summary.mean, sd: null, interval: null, t: null, p: null };
  const se = summary.sd / Math.sqrt(k);
  const half = summary.sd === 0 ? options.resolution : tQuantile(1 - (1 - (options.confidence ?? 0.95)) / 2, k - 1) * se;
  // Equal differences on every seed: t is infinite unless they are all 0.
  const t = summary.sd === 0 ? (summary.mean === 0 ? 0 : Math.sign(summary.mean) * Number.POSITIVE_INFINITY) : summary.mean / se;
  return { seeds, k, differences, meanDifference: summary.mean, sd: summary.sd, interval: { low: summary.mean - half, high: summary.mean + half }, t, p: twoSidedP(t, k - 1) };
}

/**
 * Holm's step-down correction of p-values for m tests (null = no test, left out of m): the i-th
 * smallest p is multiplied by m − i + 1, and each adjusted value is at least the one before it.
 */
export function holm(pValues: readonly (number | null)[]): (number | null)[] {
  const tested = pValues.flatMap((p, index) => (p === null ? [] : [{ p, index }])).sort((x, y) => x.p - y.p);
  const m = tested.length;
  const adjusted: (number | null)[] = pValues.map(() => null);
  let running = 0;
  tested.forEach(({ p, index }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[index] = running;
  });
  return adjusted;
}

export interface ThresholdTest {
  n: number;
  mean: number;
  /** One-sided lower confidence bound of the mean: mean − t(confidence, n − 1) · s / √n; null for one run. */
  lowerBound: number | null;
  /** Runs at or above the threshold. */
  reached: number;
  /** "yes" only when the lower bound reaches the threshold; one run gives no verdict. */
  verdict: "yes" | "no" | "single run";
}

/** Does the configuration reach `threshold` (004's 99.5%)? Judged on the mean's one-sided lower bound, not on the best run. */
export function thresholdTest(values: readonly number[], threshold: number, options: StatisticsOptions): ThresholdTest {
  const summary = summarize(values);
  const reached = values.filter((value) => value >= threshold).length;
  if (summary.sd === null) return { n: 1, mean: summary.mean, lowerBound: null, reached, verdict: "single run" };
  const margin = summary.sd === 0 ? options.resolution : tQuantile(options.confidence ?? 0.95, summary.n - 1) * (summary.sd / Math.sqrt(summary.n));
  const lowerBound = summary.mean - margin;
  return { n: summary.n, mean: summary.mean, lowerBound, reached, verdict: lowerBound >= threshold ? "yes" : "no" };
}
