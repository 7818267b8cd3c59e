import assert from "node:assert/strict";
import { test } from "node:test";
import { compareToPublished, holm, pairedComparison, predictionInterval, summarize, tQuantile, thresholdTest } from "../../ml/statistics.ts";

/**
 * ml/statistics.ts against published worked examples, then the rules at the edges (n = 1, n = 2,
 * s = 0). Published numbers are given to the digits their source prints, so each is compared to
 * that many digits.
 */

const close = (actual: number, expected: number, tolerance: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not within ${tolerance} of ${expected}`);

test("Student's t quantiles match the printed table (NIST/SEMATECH e-Handbook, 1.3.6.7.2)", () => {
  // Upper critical values t(1 − α, ν) as the table prints them, three decimals.
  const table: Array<[p: number, df: number, value: number]> = [
    [0.975, 1, 12.706],
    [0.975, 2, 4.303],
    [0.975, 9, 2.262],
    [0.975, 21, 2.08],
    [0.95, 4, 2.132],
    [0.95, 21, 1.721],
  ];
  for (const [p, df, value] of table) close(tQuantile(p, df), value, 0.0005, `t(${p}, ${df})`);
});

// Montgomery & Runger, Applied Statistics and Probability for Engineers, chapter 8: load at failure
// of 22 U-700 alloy specimens (x̄ = 13.71, s = 3.55). The book's 95% prediction interval for the
// 23rd specimen is 6.16 ≤ X23 ≤ 21.26 (computed from the rounded x̄ and s, hence the tolerance).
const ALLOY = [19.8, 10.1, 14.9, 7.5, 15.4, 15.4, 15.4, 18.5, 7.9, 12.7, 11.9, 11.4, 11.4, 14.1, 17.6, 16.7, 15.8, 19.5, 8.8, 13.6, 11.9, 11.4];

test("summary and 95% prediction interval of one new observation: the alloy example (Montgomery & Runger)", () => {
  const summary = summarize(ALLOY);
  assert.equal(summary.n, 22);
  close(summary.mean, 13.71, 0.005, "mean");
  close(summary.sd!, 3.55, 0.005, "s");
  assert.equal(summary.min, 7.5);
  assert.equal(summary.max, 19.8);
  const interval = predictionInterval(summary, { resolution: 0.01 })!;
  close(interval.low, 6.16, 0.01, "lower prediction limit");
  close(interval.high, 21.26, 0.015, "upper prediction limit");
  // Against a published single value: inside → consistent; beyond either end → above / below.
  assert.equal(compareToPublished(ALLOY, 20, { resolution: 0.01 }).verdict, "consistent");
  assert.equal(compareToPublished(ALLOY, 5, { resolution: 0.01 }).verdict, "above");
  assert.equal(compareToPublished(ALLOY, 22, { resolution: 0.01 }).verdict, "below");
});

// Student (1908) / Cushny & Peebles: extra hours of sleep with two drugs, the same 10 patients.
// R's `t.test(extra ~ group, data = sleep, paired = TRUE)` prints t = -4.0621, df = 9,
// p-value = 0.002833, 95 percent confidence interval -2.4598858 -0.7001142, mean difference -1.58;
// with alternative = "greater" on group 2 − group 1 the one-sided 95% bound is 0.8669947.
const DRUG_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
const DRUG_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];
const bySeed = (values: readonly number[]): Map<number, number> => new Map(values.map((value, index) => [index + 1, value]));

test("paired t-test: Student's sleep data as R prints it", () => {
  const result = pairedComparison(bySeed(DRUG_1), bySeed(DRUG_2), { resolution: 0.01 });
  assert.equal(result.k, 10);
  close(result.meanDifference, -1.58, 1e-12, "mean difference");
  close(result.t!, -4.0621, 0.00005, "t");
  close(result.p!, 0.002833, 0.0000005, "p");
  close(result.interval!.low, -2.4598858, 0.0000001, "CI low");
  close(result.interval!.high, -0.7001142, 0.0000001, "CI high");
  // Only seeds both sides ran are paired.
  const partial = pairedComparison(bySeed(DRUG_1), new Map([...bySeed(DRUG_2)].slice(0, 4)), { resolution: 0.01 });
  assert.deepEqual(partial.seeds, [1, 2, 3, 4]);
});

test("one-sided 95% lower bound of the mean: the sleep differences as R prints it", () => {
  const differences = DRUG_2.map((value, index) => value - DRUG_1[index]!);
  const result = thresholdTest(differences, 0.8, { resolution: 0.01 });
  close(result.lowerBound!, 0.8669947, 0.0000001, "lower bound");
  assert.equal(result.verdict, "yes");
  assert.equal(result.reached, 9, "every difference but the 0.0 is ≥ 0.8");
  assert.equal(thresholdTest(differences, 0.9, { resolution: 0.01 }).verdict, "no", "a bound of 0.867 does not reach 0.9, though the mean (1.58) does");
});

test("Holm's correction: the worked example of four tests (p = 0.01, 0.04, 0.03, 0.005)", () => {
  // Holm (1979): sorted 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, then max(0.06, 0.04·1) = 0.06.
  const adjusted = holm([0.01, 0.04, 0.03, 0.005]);
  const expected = [0.03, 0.06, 0.06, 0.02];
  adjusted.forEach((value, index) => close(value!, expected[index]!, 1e-12, `adjusted p ${index + 1}`));
  // At α = 0.05 it rejects the first and the fourth only, as the example says.
  assert.deepEqual(adjusted.map((p) => p! < 0.05), [true, false, false, true]);
  // Untested comparisons (null) are not counted in m and stay null; nothing exceeds 1.
  assert.deepEqual(holm([null, 0.02, null, 0.6]), [null, 0.04, null, 0.6]);
  assert.deepEqual(holm([0.5, 0.9]), [1, 1]);
});

test("n = 1: the difference and 'single run', no interval, no test, no threshold verdict", () => {
  const single = compareToPublished([0.9758], 0.9811, { resolution: 0.0001 });
  assert.equal(single.verdict, "single run");
  close(single.difference, -0.0053, 1e-12, "difference");
  assert.ok(!("interval" in single));
  assert.equal(predictionInterval(summarize([0.9758]), { resolution: 0.0001 }), null);
  assert.equal(summarize([0.9758]).sd, null);
  const threshold = thresholdTest([0.9951], 0.995, { resolution: 0.0001 });
  assert.deepEqual(threshold, { n: 1, mean: 0.9951, lowerBound: null, reached: 1, verdict: "single run" }, "one run above the target is no yes");
  const pair = pairedComparison(new Map([[42, 0.98]]), new Map([[42, 0.97]]), { resolution: 0.0001 });
  assert.equal(pair.k, 1);
  assert.equal(pair.p, null);
  assert.equal(pair.interval, null);
  assert.equal(pairedComparison(new Map([[1, 0.9]]), new Map([[2, 0.9]]), { resolution: 0.0001 }).k, 0, "no common seed, nothing paired");
});

test("n = 2: one degree of freedom, so the interval is wide (t = 12.706)", () => {
  const values = [0.98, 0.982];
  const summary = summarize(values);
  const half = 12.7062047 * summary.sd! * Math.sqrt(1.5);
  const interval = predictionInterval(summary, { resolution: 0.0001 })!;
  close(interval.low, 0.981 - half, 1e-6, "low");
  close(interval.high, 0.981 + half, 1e-6, "high");
  assert.equal(compareToPublished(values, 0.9811, { resolution: 0.0001 }).verdict, "consistent");
  assert.equal(compareToPublished(values, 0.95, { resolution: 0.0001 }).verdict, "above");
  assert.equal(compareToPublished(values, 0.999, { resolution: 0.0001 }).verdict, "consistent", "0.999 is inside ±2.2 points");
  const pair = pairedComparison(bySeed([0.98, 0.982]), bySeed([0.97, 0.975]), { resolution: 0.0001 });
  assert.equal(pair.k, 2);
  // Differences 0.010 and 0.007: t = 0.0085 / (0.0021213 / √2) = 5.667 on 1 df, p ≈ 0.111.
  close(pair.t!, 5.6667, 0.001, "t");
  close(pair.p!, 0.1112, 0.0005, "p");
});

test("s = 0: intervals are the mean ± the resolution, equal differences give p = 0 (or 1 when all are 0)", () => {
  const same = [0.99, 0.99, 0.99];
  const interval = predictionInterval(summarize(same), { resolution: 0.0001 })!;
  close(interval.low, 0.9899, 1e-12, "low");
  close(interval.high, 0.9901, 1e-12, "high");
  assert.equal(compareToPublished(same, 0.99005, { resolution: 0.0001 }).verdict, "consistent");
  assert.equal(compareToPublished(same, 0.9902, { resolution: 0.0001 }).verdict, "below");
  assert.equal(compareToPublished(same, 0.9898, { resolution: 0.0001 }).verdict, "above");
  assert.equal(thresholdTest(same, 0.9895, { resolution: 0.0001 }).verdict, "yes");
  assert.equal(thresholdTest(same, 0.99, { resolution: 0.0001 }).verdict, "no", "the bound is the mean − the resolution");
  // Exact binary fractions, so the differences are exactly equal.
  const equal = pairedComparison(bySeed([0.75, 0.5, 0.625]), bySeed([0.5, 0.25, 0.375]), { resolution: 0.0001 });
  assert.equal(equal.sd, 0);
  assert.equal(equal.p, 0);
  assert.deepEqual(equal.interval, { low: 0.25 - 0.0001, high: 0.25 + 0.0001 });
  const none = pairedComparison(bySeed([0.5, 0.25]), bySeed([0.5, 0.25]), { resolution: 0.0001 });
  assert.equal(none.p, 1);
  assert.equal(none.t, 0);
});

test("bad input is refused: no values, or a value that is not a finite number", () => {
  assert.throws(() => summarize([]), /no values/);
  assert.throws(() => summarize([0.9, Number.NaN]), /not every value is finite/);
});
