/**
 * The part of jStat (npm `jstat`, no bundled types) that ml/statistics.ts uses: Student's t
 * distribution. jStat's CommonJS export is the jStat object itself, hence the default export.
 */
declare module "jstat" {
  interface StudentT {
    /** The quantile: x with P(T ≤ x) = p for T ~ t(dof). */
    inv(p: number, dof: number): number;
    /** P(T ≤ x) for T ~ t(dof). */
    cdf(x: number, dof: number): number;
  }
  const jStat: { studentt: StudentT };
  export default jStat;
}
