/**
 * The report's "Summary": headline sentences, one row per experiment (mean ± SD (n), the published
 * value, the prediction interval for one more run, the verdict with its n), how verdicts are made,
 * and the charts across all experiments.
 */
import { meanSd, percent } from "../report/format.ts";
import { table } from "../report/markdown.ts";
import { chartBlock, code, delta, reference, type ReportInput } from "../report/report-parts.ts";
import type { ExperimentRow } from "../report/rows.ts";
import { DELTA_BASE_SLOT, deltaSlot, slot } from "../report/publish-slots.ts";

/** A target row (004's 99.5%) is answered on the mean's lower bound, never "matches" a threshold. */
function challengeLabel(row: ExperimentRow): string | null {
  const challenge = row.challenge;
  if (row.targetAccuracy === null || challenge === null) return null;
  const target = percent(row.targetAccuracy, 1);
  if (challenge.verdict === "single run") return `— target ${target}: single run, no answer`;
  return challenge.verdict === "yes"
    ? `🎯 reaches ${target} (lower bound ${percent(challenge.lowerBound!)}, n = ${challenge.n})`
    : `— target ${target} not shown (lower bound ${percent(challenge.lowerBound!)}, n = ${challenge.n})`;
}

function verdictLabel(row: ExperimentRow): string {
  const challenge = challengeLabel(row);
  if (challenge !== null) return challenge;
  switch (row.verdict) {
    case "consistent":
      return `✅ consistent (n = ${row.n})`;
    case "above":
      return `✅ above (n = ${row.n})`;
    case "below":
      return `❌ below (n = ${row.n})`;
    case "single run":
      return "— single run (difference only)";
    case "no reference":
      return "— no published value";
    case "subset":
      return "— subset run: no verdict";
  }
}

/** The interval as an accuracy can be: within 0–100% (with two seeds it can reach past both ends). */
function predictionCell(row: ExperimentRow): string {
  if (row.predictionLow === null || row.predictionHigh === null) return "—";
  return `${percent(Math.max(0, row.predictionLow))} – ${percent(Math.min(1, row.predictionHigh))}`;
}

function summaryTable(rows: readonly ExperimentRow[]): string {
  return table(
    ["experiment", "study", "test accuracy, mean ± SD (n)", "published", "Δ mean (points)", "95% prediction interval, one more run", "verdict", "Δ since last committed report"],
    rows.map((row) => [
      code(row.id),
      row.study,
      meanSd(row),
      row.targetAccuracy === null ? reference(row) : `target ${percent(row.targetAccuracy, 1)}`,
      delta(row),
      predictionCell(row),
      verdictLabel(row),
      // Filled when the report is published, from the lock files' history (publish-checks.ts).
      slot(deltaSlot(row.id), "—"),
    ]),
    ["left", "left", "right", "right", "right", "right", "left", "right"],
  );
}

/** How the runs were made: what a seed changes and what it does not (under the report's title). */
export function seedsParagraph(): string {
  return (
    "Each row is one configuration trained with one or more **seeds** (n). A seed changes the weight initialisation, the order of the training images in each epoch, " +
    "the dropout masks and the random shifts; the validation split stays the study's (its own fixed seed), and every seed is evaluated on the same test set. " +
    "Accuracy, loss and F1 are means over the seeds; the analyses and each experiment's confusion matrix and per-class F1 use its first seed."
  );
}

function verdictParagraph(): string {
  return (
    "Verdicts: the published values are single runs, so each is compared with where **one more run of ours** would fall — the 95% prediction interval " +
    "mean ± t(0.975, n − 1) · s · √(1 + 1/n) over our n seeds (mean ± 0.01 points when every seed scored the same). " +
    "*Consistent*: the published value lies inside it; *above* / *below*: our runs lie above / below it. " +
    "A row with one seed shows its difference and no verdict: one run cannot separate a gap from run-to-run variation."
  );
}

export function summarySection(input: ReportInput): string[] {
  return [
    "## Summary",
    input.commentary.overall.map((sentence) => `- ${sentence}`).join("\n"),
    summaryTable(input.rows),
    `<sub>Δ since last committed report: ${slot(DELTA_BASE_SLOT, "filled in when the report is published")}.</sub>`,
    // One screen of summary: how verdicts are made and the charts across all experiments fold below it.
    folded(`How verdicts are made, and ${input.charts.filter((chart) => chart.scope === "all").length} charts across all experiments`, [
      verdictParagraph(),
      ...input.charts.filter((chart) => chart.scope === "all").map(chartBlock),
    ]),
  ];
}

/** Blocks inside a <details> element that starts closed (GitHub renders the markdown inside once opened). */
export function folded(summary: string, blocks: readonly string[]): string {
  return ["<details>", `<summary>${summary}</summary>`, "", blocks.join("\n\n"), "", "</details>"].join("\n");
}
