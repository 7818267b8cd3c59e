/**
 * Sentences generated from the numbers, and only sentences the numbers support: reproduction
 * verdicts from a prediction interval over seeds (never from one run), 004's challenge from the
 * mean's lower bound, and one-setting comparisons from seed-paired tests (comparisons.ts).
 */
import { comparisonSentence, findComparisons, sharedContext, type Comparison, type ComparisonInput } from "./comparisons.ts";
import { formatSeconds, meanSd, percent, signedPoints } from "./format.ts";
import { optimizerLabel } from "./describe.ts";
import type { ExperimentRow } from "./rows.ts";
import { byConcurrency, conditionsRange, timedRows } from "./run-conditions.ts";
import { CHALLENGE_ACCURACY, judgeChallenge } from "./verdicts.ts";
import { dropoutOneSentence } from "./dropout-one.ts";

export type CommentaryInput = ComparisonInput;
export { CHALLENGE_ACCURACY };

export interface Commentary {
  /** Headline sentences for the summary: reproduction, best result, challenge, cost. */
  overall: string[];
  /** Every one-setting comparison, seed-paired (the "What changes what" section). */
  comparisons: Comparison[];
  /** Notes beside the comparisons (what a dropout rate of 1 does, from its confusion matrices). */
  checks: string[];
  /** Sentences for each study's section. */
  byStudy: Record<string, string[]>;
}

/** Published values were measured on the full MNIST test set. */
const FULL_TEST_SET = 10_000;

const code = (id: string): string => `\`${id}\``;
const withDelta = (row: ExperimentRow): string => `${code(row.id)} ${signedPoints(row.deltaPoints!)} points (n = ${row.n})`;

function reproductionSentences(rows: readonly ExperimentRow[]): string[] {
  // Subset runs (quick / CI profiles) are not comparable with the published full-data values.
  const withReference = rows.filter((row) => row.referenceAccuracy !== null && row.verdict !== "subset");
  if (withReference.length === 0) return [];
  const of = (verdict: ExperimentRow["verdict"]) => withReference.filter((row) => row.verdict === verdict);
  const replicated = withReference.filter((row) => row.verdict !== "single run");
  const sentences: string[] = [];
  if (replicated.length > 0) {
    const above = of("above");
    const below = of("below").sort((a, b) => a.deltaPoints! - b.deltaPoints!);
    sentences.push(
      `Rows with several seeds: the published value lies inside our 95% prediction interval for one more run (consistent) for ${of("consistent").length} of ${replicated.length}` +
        `${above.length > 0 ? `; it lies below our interval (ours above) for ${above.map(withDelta).join(", ")}` : ""}` +
        `${below.length > 0 ? `; above our interval (ours below) for ${below.map(withDelta).join(", ")}` : ""}.`,
    );
  }
  const single = of("single run");
  if (single.length > 0) {
    sentences.push(
      `Single runs (n = 1, difference only — one run cannot separate a gap from run-to-run variation): ${single.map((row) => `${code(row.id)} ${signedPoints(row.deltaPoints!)}`).join(", ")} points.`,
    );
  }
  return sentences;
}

/** Rows with a target (004's 99.5%): a threshold, judged on its own and never counted as a reproduction. */
function challengeSentences(rows: readonly ExperimentRow[]): string[] {
  return rows
    .filter((row) => row.targetAccuracy !== null && row.challenge !== null)
    .map((row) => {
      const target = row.targetAccuracy!;
      const test = judgeChallenge(row.seedAccuracies, target);
      const head = `004's challenge is ${percent(target, 1)} test accuracy (a threshold, not a published measurement): ${code(row.id)} scores ${meanSd(row)}`;
      if (test.verdict === "single run") {
        return `${head}, ${signedPoints((row.testAccuracy - target) * 100)} points from it; one run gives no answer (a yes needs the mean's lower bound over several seeds).`;
      }
      return (
        `${head}; the one-sided 95% lower bound of its mean is ${percent(test.lowerBound!)} and ${test.reached} of ${test.n} seeds reach ${percent(target, 1)}: ` +
        `${test.verdict === "yes" ? "yes, it reaches it" : "not shown to reach it"}.`
      );
    });
}

function timeSentences(allRows: readonly ExperimentRow[]): string[] {
  const rows = timedRows(allRows);
  if (rows.length === 0 && allRows.length > 0) {
    return ["No training times are printed: the report was made without the trainings' run records (`report.trainingTimes: false` leaves them out, so that the report comes out the same byte for byte on every run)."];
  }
  if (rows.length < 2) return [];
  const byTime = [...rows].sort((a, b) => a.trainingSeconds - b.trainingSeconds);
  const byThroughput = [...rows].sort((a, b) => a.imagesPerSecond - b.imagesPerSecond);
  const total = rows.reduce((sum, row) => sum + (row.trainingSecondsTotal ?? row.trainingSeconds), 0);
  const runs = rows.reduce((sum, row) => sum + row.n, 0);
  const sentences = [
    `Training took ${formatSeconds(total)} in all (${runs} runs), from ${formatSeconds(byTime[0]!.trainingSeconds)} (${code(byTime[0]!.id)}) to ${formatSeconds(byTime.at(-1)!.trainingSeconds)} (${code(byTime.at(-1)!.id)}) per run; throughput ranged from ${Math.round(byThroughput[0]!.imagesPerSecond)} images/s (${code(byThroughput[0]!.id)}) to ${Math.round(byThroughput.at(-1)!.imagesPerSecond)} images/s (${code(byThroughput.at(-1)!.id)}).`,
  ];
  if (byConcurrency(rows).length > 1) {
    sentences.push(`These times are not all like-for-like: the trainings ran with ${conditionsRange(rows)}; compare times only between experiments with the same count (the study tables give it).`);
  }
  return sentences;
}

/** Dropout rate 1: what it does in training and in evaluation, shown in the row's own confusion matrices (dropout-one.ts). */
function dropoutOneSentences(inputs: readonly CommentaryInput[]): string[] {
  return inputs.filter((input) => input.model.dropout >= 1).map((input) => dropoutOneSentence(input.row, sharedContext(input, "dropout")));
}

/** "Same model and data, best first: …" for each optimizer group, for its study's section. */
function optimizerRankings(comparisons: readonly Comparison[], inputs: readonly CommentaryInput[]): Array<{ study: string | null; sentence: string }> {
  const groups = new Map<string, Set<string>>();
  for (const comparison of comparisons.filter((entry) => entry.factor === "optimizer")) {
    groups.set(comparison.context, new Set([...(groups.get(comparison.context) ?? []), comparison.a.id, comparison.b.id]));
  }
  return [...groups.values()].map((ids) => {
    const members = inputs.filter((input) => ids.has(input.row.id)).sort((a, b) => b.row.testAccuracy - a.row.testAccuracy);
    const sameLr = new Set(members.map((input) => input.optimizer.lr)).size === 1;
    const studies = new Set(members.map((input) => input.row.study));
    const ranking = members.map((input) => `${optimizerLabel(input.optimizer)}${sameLr ? "" : ` (lr ${input.optimizer.lr})`} ${meanSd(input.row)} (${code(input.row.id)})`);
    return { study: studies.size === 1 ? [...studies][0]! : null, sentence: `Same model and data, best mean first: ${ranking.join(", ")}.` };
  });
}

export function buildCommentary(inputs: readonly CommentaryInput[]): Commentary {
  const rows = inputs.map((input) => input.row);
  const byStudy: Record<string, string[]> = {};
  for (const study of new Set(rows.map((row) => row.study))) byStudy[study] = reproductionSentences(rows.filter((row) => row.study === study));

  const overall = [...reproductionSentences(rows)];
  const best = [...rows].sort((a, b) => b.testAccuracy - a.testAccuracy)[0];
  if (best) overall.push(`Highest mean test accuracy: ${code(best.id)} with ${meanSd(best)}.`);
  for (const sentence of challengeSentences(rows)) {
    overall.push(sentence);
    byStudy.ours?.push(sentence);
  }
  // Rows of a declared subset get no verdict at all (the notice at the top says so); others tested on fewer images are flagged here.
  const smallest = Math.min(...rows.filter((row) => row.subset === null).map((row) => row.testImages));
  if (smallest < FULL_TEST_SET) {
    overall.push(
      `Some experiments were evaluated on only ${smallest.toLocaleString("en-US")} test images (not the full 10,000 the published values were measured on): their comparison with the published values is coarser than the intervals suggest.`,
    );
  }
  overall.push(...timeSentences(rows));

  const comparisons = findComparisons(inputs);
  const checks = dropoutOneSentences(inputs);
  // A comparison goes to its study's section too when both experiments belong to that study.
  for (const { study, sentence } of optimizerRankings(comparisons, inputs)) if (study !== null) byStudy[study]?.push(sentence);
  for (const comparison of comparisons) {
    if (comparison.a.study === comparison.b.study) byStudy[comparison.a.study]?.push(comparisonSentence(comparison));
  }
  for (const input of inputs.filter((entry) => entry.model.dropout >= 1)) byStudy[input.row.study]?.push(...dropoutOneSentences([input]));
  return { overall, comparisons, checks, byStudy };
}
