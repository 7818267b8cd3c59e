/**
 * How the report judges accuracies (ml/statistics.ts applied to test accuracy): against a study's
 * single published run with a 95% prediction interval for one more run of ours, and against 004's
 * 99.5% challenge with the one-sided 95% lower bound of our mean. Accuracies are fractions (0..1);
 * the report prints two decimals of a percent, so its resolution is 0.01 points.
 */
import { compareToPublished, predictionInterval, summarize, thresholdTest, type Interval, type PublishedComparison, type ThresholdTest } from "../../ml/statistics.ts";

/**
 * "consistent": the published value lies inside our prediction interval; "single run": n = 1, no
 * verdict; "subset": trained or tested on a subset of MNIST (quick / CI profiles), not comparable
 * with the published full-data value, no verdict.
 */
export type Verdict = "consistent" | "above" | "below" | "single run" | "no reference" | "subset";

/** 0.01 points of accuracy: the interval's half-width when every seed scored the same. */
export const ACCURACY_RESOLUTION = 0.0001;

/** 004 asks: "Can you reach 99.5% accuracy?" */
export const CHALLENGE_ACCURACY = 0.995;

export function judgeAgainstPublished(accuracies: readonly number[], published: number): PublishedComparison {
  return compareToPublished(accuracies, published, { resolution: ACCURACY_RESOLUTION });
}

export function judgeChallenge(accuracies: readonly number[], target = CHALLENGE_ACCURACY): ThresholdTest {
  return thresholdTest(accuracies, target, { resolution: ACCURACY_RESOLUTION });
}

/** Where one more run would fall (95%), from the seeds' accuracies; null for one seed. */
export function accuracyPredictionInterval(accuracies: readonly number[]): Interval | null {
  return predictionInterval(summarize(accuracies), { resolution: ACCURACY_RESOLUTION });
}
