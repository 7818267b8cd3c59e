/**
 * The report's "What changes what" section: the seed-paired comparisons (comparisons.ts) as one
 * table, then how to read it. Its own file so other sections can be added beside it.
 */
import { outcomeOf, ALPHA, type Comparison } from "../report/comparisons.ts";
import { meanSd, pValue, signedPoints } from "../report/format.ts";
import { escapeCell, table } from "../report/markdown.ts";

const code = (id: string): string => `\`${id}\``;
const points = (fraction: number): string => signedPoints(fraction * 100);

const READING: Record<ReturnType<typeof outcomeOf>, (comparison: Comparison) => string> = {
  higher: (comparison) => `**${code(comparison.a.id)} higher**`,
  lower: (comparison) => `**${code(comparison.a.id)} lower**`,
  "no detectable difference": (comparison) => `no detectable difference at n = ${comparison.paired.k}`,
  "not tested": (comparison) => (comparison.paired.k === 0 ? "not tested (no common seed)" : "not tested (n = 1)"),
};

export function comparisonsSection(comparisons: readonly Comparison[], extraSentences: readonly string[]): string[] {
  if (comparisons.length === 0 && extraSentences.length === 0) return [];
  const blocks = ["## What changes what"];
  if (comparisons.length > 0) {
    const tested = comparisons.filter((comparison) => comparison.adjustedP !== null).length;
    blocks.push(
      "Pairs of experiments that differ in one setting only (same architecture, data, epochs, batch size and everything else), compared **seed by seed**: " +
        "each seed trains both configurations, the table gives the mean of the per-seed differences in test accuracy (a − b, in points) with its 95% confidence interval and a paired t-test, " +
        `and Holm's correction across the ${tested} tested comparison${tested === 1 ? "" : "s"} of this report (a difference counts when the adjusted p is below ${ALPHA}). ` +
        "\"No detectable difference at n = k\" means these k seeds cannot tell the two apart: absence of evidence, not evidence that the setting does nothing.",
      table(
        ["a − b", "setting (a vs b)", "shared", "a", "b", "seeds paired", "mean difference (points)", "95% CI", "p", "Holm p", "reading"],
        comparisons.map((comparison) => {
          const { paired } = comparison;
          return [
            `${code(comparison.a.id)} − ${code(comparison.b.id)}`,
            escapeCell(comparison.setting),
            escapeCell(comparison.context),
            meanSd(comparison.a),
            meanSd(comparison.b),
            String(paired.k),
            paired.k === 0 ? "—" : points(paired.meanDifference),
            paired.interval === null ? "—" : `${points(paired.interval.low)} to ${points(paired.interval.high)}`,
            paired.p === null ? "—" : pValue(paired.p),
            comparison.adjustedP === null ? "—" : pValue(comparison.adjustedP),
            READING[outcomeOf(comparison)](comparison),
          ];
        }),
        ["left", "left", "left", "right", "right", "right", "right", "right", "right", "right", "left"],
      ),
    );
  }
  if (extraSentences.length > 0) blocks.push(extraSentences.map((sentence) => `- ${sentence}`).join("\n"));
  return blocks;
}
