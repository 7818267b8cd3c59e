/**
 * When is a difference in test accuracy real? The studies are single runs, and the guidance
 * (shared/EXPERIMENTS.md) is that a few tenths of a point is run-to-run noise. On a small test set
 * sampling noise is larger than that, so the threshold is the larger of the two: 0.3 points, or two
 * standard errors of the difference between two binomial proportions (each accuracy measured on
 * its own test set). On the full 10,000-image test set near 99% the 0.3 points dominate.
 */

/** Differences under this many points are "within noise", however large the test set. */
export const RUN_TO_RUN_NOISE_POINTS = 0.3;
/** The published numbers were measured on the full MNIST test set. */
export const REFERENCE_TEST_IMAGES = 10_000;

export interface Measured {
  /** 0..1 */
  accuracy: number;
  /** Test images it was measured on. */
  count: number;
}

export function noiseThresholdPoints(a: Measured, b: Measured): number {
  const variance = (m: Measured): number => (m.count > 0 ? (m.accuracy * (1 - m.accuracy)) / m.count : 0);
  const sampling = 2 * Math.sqrt(variance(a) + variance(b)) * 100;
  return Math.max(RUN_TO_RUN_NOISE_POINTS, sampling);
}

/** a − b in points (percentage points of accuracy). */
export function differencePoints(a: Measured, b: Measured): number {
  return (a.accuracy - b.accuracy) * 100;
}

export function withinNoise(a: Measured, b: Measured): boolean {
  return Math.abs(differencePoints(a, b)) < noiseThresholdPoints(a, b);
}

/** "+1.23" / "−0.40" (a real minus sign, as in the tables). */
export function signedPoints(points: number, digits = 2): string {
  const rounded = Number(points.toFixed(digits));
  return `${rounded > 0 ? "+" : rounded < 0 ? "−" : "±"}${Math.abs(rounded).toFixed(digits)}`;
}
