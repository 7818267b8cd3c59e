/** Number formats shared by charts, tables and sentences, so a value reads the same everywhere. */

/** Accuracy as a percentage with the precision the studies print (two decimals). */
export function percent(value: number, digits = 2): string {
  return `${(value * 100).toFixed(digits)}%`;
}

/** "12.3 s", "4 min 05 s", "2 h 03 min". */
export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes} min ${String(whole % 60).padStart(2, "0")} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

/** "+1.23" / "−0.40" (a real minus sign, as in the tables). */
export function signedPoints(points: number, digits = 2): string {
  const rounded = Number(points.toFixed(digits));
  return `${rounded > 0 ? "+" : rounded < 0 ? "−" : "±"}${Math.abs(rounded).toFixed(digits)}`;
}

/** An accuracy over seeds: "97.88% ± 0.27 (n = 4)" (± the SD in points); one seed: "97.58% (n = 1)". */
export function meanSd(summary: { testAccuracy: number; testAccuracySd: number | null; n: number }): string {
  const sd = summary.testAccuracySd === null ? "" : ` ± ${(summary.testAccuracySd * 100).toFixed(2)}`;
  return `${percent(summary.testAccuracy)}${sd} (n = ${summary.n})`;
}

/** A p-value as tables print it: three decimals, "< 0.001" below that. */
export function pValue(p: number): string {
  return p < 0.001 ? "< 0.001" : p.toFixed(3);
}
