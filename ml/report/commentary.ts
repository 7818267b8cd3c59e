/**
 * Sentences generated from the numbers — and only sentences the numbers support. Every comparison
 * is between experiments that differ in exactly one setting (same architecture, dataset, training
 * and everything else), and a difference smaller than the noise threshold (noise.ts) is called
 * "within noise" instead of a win.
 */
import type { ModelConfig, OptimizerConfig, TrainingConfig } from "../config.ts";
import { formatSeconds, percent } from "./format.ts";
import { optimizerLabel, variantLabel } from "./describe.ts";
import { REFERENCE_TEST_IMAGES, differencePoints, noiseThresholdPoints, signedPoints, withinNoise, type Measured } from "./noise.ts";
import type { ExperimentRow } from "./rows.ts";
import { byConcurrency, conditionsRange, timedRows } from "./run-conditions.ts";

export interface CommentaryInput {
  row: ExperimentRow;
  model: ModelConfig;
  optimizer: OptimizerConfig;
  training: TrainingConfig;
  dataset: string;
}

export interface Commentary {
  /** Headline sentences for the summary: reproduction, best result, cost. */
  overall: string[];
  /** One sentence per one-setting comparison (optimizer, BatchNorm, dropout, activation, init). */
  findings: string[];
  /** Sentences for each study's section. */
  byStudy: Record<string, string[]>;
}

/** 004 asks: "Can you reach 99.5% accuracy?" */
export const CHALLENGE_ACCURACY = 0.995;

const code = (id: string): string => `\`${id}\``;
const measured = (row: ExperimentRow): Measured => ({ accuracy: row.testAccuracy, count: row.testImages });

/** "98.94% vs 99.03%: within noise (−0.09 points)" or "96.83% vs 81.11%: +15.72 points". */
export function comparePhrase(a: ExperimentRow, b: ExperimentRow): string {
  const points = differencePoints(measured(a), measured(b));
  const body = `${percent(a.testAccuracy)} vs ${percent(b.testAccuracy)}`;
  return withinNoise(measured(a), measured(b)) ? `${body}: within noise (${signedPoints(points)} points)` : `${body}: ${signedPoints(points)} points`;
}

type Factor = "optimizer" | "batchNorm" | "dropout" | "convActivation" | "init";

/** Everything about an experiment except `factor`: experiments with equal keys differ only in it. */
function keyWithout(input: CommentaryInput, factor: Factor): string {
  const model: Partial<ModelConfig> = { ...input.model };
  if (factor !== "optimizer") delete model[factor];
  return JSON.stringify({
    dataset: input.dataset,
    training: input.training,
    model,
    optimizer: factor === "optimizer" ? null : input.optimizer,
  });
}

function groupsDifferingIn(inputs: readonly CommentaryInput[], factor: Factor, valueOf: (input: CommentaryInput) => string): CommentaryInput[][] {
  const groups = new Map<string, CommentaryInput[]>();
  for (const input of inputs) {
    const key = keyWithout(input, factor);
    groups.set(key, [...(groups.get(key) ?? []), input]);
  }
  return [...groups.values()].filter((group) => new Set(group.map(valueOf)).size > 1);
}

function context(input: CommentaryInput, omit: Factor): string {
  const parts: string[] = [input.model.arch];
  if (omit !== "optimizer") parts.push(optimizerLabel(input.optimizer));
  const model = { ...input.model };
  if (omit === "batchNorm") model.batchNorm = false;
  if (omit === "dropout") model.dropout = 0;
  if (omit === "convActivation") model.convActivation = "relu";
  if (omit === "init") model.init = "pytorch";
  const variant = variantLabel(model, input.training);
  if (variant !== "—") parts.push(variant);
  parts.push(`${input.training.epochs} epoch${input.training.epochs === 1 ? "" : "s"}`);
  return parts.join(", ");
}

/** One comparison: a headline for the summary, and the numbers behind it for the study's section. */
export interface Finding {
  headline: string;
  details: string[];
}

function joinList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

function optimizerFinding(group: CommentaryInput[]): Finding {
  const sorted = [...group].sort((a, b) => b.row.testAccuracy - a.row.testAccuracy);
  const sameLr = new Set(group.map((input) => input.optimizer.lr)).size === 1;
  const name = (input: CommentaryInput): string => (sameLr ? optimizerLabel(input.optimizer) : `${optimizerLabel(input.optimizer)} (lr ${input.optimizer.lr})`);
  const ranking = sorted.map((input) => `${name(input)} ${percent(input.row.testAccuracy)} (${code(input.row.id)})`).join(", ");
  const best = sorted[0]!;
  const second = sorted[1]!;
  const where = `${context(best, "optimizer")}${sameLr ? `, lr ${best.optimizer.lr}` : ""}`;
  const gap = differencePoints(measured(best.row), measured(second.row));
  const tied = sorted.filter((input) => withinNoise(measured(best.row), measured(input.row)));
  const verdict =
    tied.length > 1
      ? `${joinList(tied.map(name))} are ${tied.length > 2 ? "all " : ""}within noise of ${tied.length > 2 ? "the best" : "each other"} (${gap.toFixed(2)} points between the top two), so these runs do not single out one best optimizer`
      : `${name(best)} is best, ${gap.toFixed(2)} points ahead of ${name(second)} (noise threshold ${noiseThresholdPoints(measured(best.row), measured(second.row)).toFixed(2)} points)`;
  return { headline: `Optimizers (${where}): ${verdict}.`, details: [`Same model and data, best first: ${ranking}.`] };
}

function binaryFindings(group: CommentaryInput[], factor: "batchNorm" | "convActivation" | "init"): Finding[] {
  const isBase = (input: CommentaryInput): boolean =>
    factor === "batchNorm" ? !input.model.batchNorm : factor === "convActivation" ? input.model.convActivation === "relu" : input.model.init === "pytorch";
  const base = group.find(isBase);
  if (!base) return [];
  return group
    .filter((input) => !isBase(input))
    .map((input) => {
      const what =
        factor === "batchNorm"
          ? "BatchNorm"
          : factor === "convActivation"
            ? `${input.model.convActivation[0]!.toUpperCase()}${input.model.convActivation.slice(1)} instead of ReLU after the convs`
            : `${variantLabel({ ...input.model, batchNorm: false, dropout: 0, convActivation: "relu" })} instead of PyTorch's default init`;
      return { headline: `${what} (${context(base, factor)}): ${code(input.row.id)} vs ${code(base.row.id)}, ${comparePhrase(input.row, base.row)}.`, details: [] };
    });
}

function dropoutFindings(group: CommentaryInput[]): Finding[] {
  const sorted = [...group].sort((a, b) => a.model.dropout - b.model.dropout);
  const where = context(sorted[0]!, "dropout");
  const listing = `Test accuracy by rate: ${sorted.map((input) => `${input.model.dropout} → ${percent(input.row.testAccuracy)} (${code(input.row.id)})`).join(", ")}.`;
  const findings: Finding[] = [];
  // p = 1 zeroes fc1's output: a different regime (chance level), kept out of the rate comparison.
  const usable = sorted.filter((input) => input.model.dropout < 1);
  if (usable.length > 1) {
    const best = usable.reduce((a, b) => (b.row.testAccuracy > a.row.testAccuracy ? b : a));
    const worst = usable.reduce((a, b) => (b.row.testAccuracy < a.row.testAccuracy ? b : a));
    const rates = usable.length === 2 ? `${usable[0]!.model.dropout} and ${usable[1]!.model.dropout}` : `${usable[0]!.model.dropout}–${usable.at(-1)!.model.dropout}`;
    const spread = differencePoints(measured(best.row), measured(worst.row));
    const threshold = noiseThresholdPoints(measured(best.row), measured(worst.row));
    const verdict = withinNoise(measured(best.row), measured(worst.row))
      ? `rates ${rates} are ${usable.length > 2 ? "all " : ""}within noise of each other (spread ${spread.toFixed(2)} points): the rate did not measurably change test accuracy here`
      : `among rates ${rates}, ${best.model.dropout} did best (${percent(best.row.testAccuracy)}) and ${worst.model.dropout} worst (${percent(worst.row.testAccuracy)}), ${spread.toFixed(2)} points apart (noise threshold ${threshold.toFixed(2)})`;
    findings.push({ headline: `Dropout after fc1 (${where}): ${verdict}.`, details: [listing] });
  } else {
    findings.push({ headline: `Dropout after fc1 (${where}): ${listing.replace(/^Test accuracy by rate: /, "")}`, details: [] });
  }
  for (const input of sorted.filter((entry) => entry.model.dropout >= 1)) {
    const nearChance = Math.abs(input.row.testAccuracy - 0.1) < 0.05;
    findings.push({
      headline: `Dropout rate 1 zeroes fc1's output, so ${code(input.row.id)} cannot use its input: ${percent(input.row.testAccuracy)}${nearChance ? ", chance level (10%), as expected" : ", which is not chance level (10%): worth checking"}.`,
      details: [],
    });
  }
  return findings;
}

function reproductionSentences(rows: readonly ExperimentRow[]): string[] {
  const withReference = rows.filter((row) => row.referenceAccuracy !== null);
  if (withReference.length === 0) return [];
  const ok = withReference.filter((row) => row.verdict !== "below");
  const below = withReference.filter((row) => row.verdict === "below").sort((a, b) => a.deltaPoints! - b.deltaPoints!);
  const above = withReference.filter((row) => row.verdict === "above");
  const sentences = [
    `Matching the published value within noise, or above it: ${ok.length} of ${withReference.length}${above.length > 0 ? ` (above it: ${above.map((row) => `${code(row.id)} ${signedPoints(row.deltaPoints!)} points`).join(", ")})` : ""}.`,
  ];
  if (below.length > 0) {
    sentences.push(`Below the published value: ${below.map((row) => `${code(row.id)} ${signedPoints(row.deltaPoints!)} points`).join(", ")}.`);
  }
  return sentences;
}

function challengeSentences(rows: readonly ExperimentRow[]): string[] {
  return rows
    .filter((row) => row.study === "ours")
    .map((row) => {
      const target = { accuracy: CHALLENGE_ACCURACY, count: REFERENCE_TEST_IMAGES };
      const ours = measured(row);
      const verdict =
        row.testAccuracy >= CHALLENGE_ACCURACY ? "reaches it" : withinNoise(ours, target) ? "falls short by less than the noise, so it is not a clear yes" : "does not reach it";
      return `004's challenge is 99.5% test accuracy: ${code(row.id)} scores ${percent(row.testAccuracy)} (${signedPoints(differencePoints(ours, target))} points) and ${verdict}.`;
    });
}

function timeSentences(allRows: readonly ExperimentRow[]): string[] {
  const rows = timedRows(allRows);
  if (rows.length < 2) return [];
  const byTime = [...rows].sort((a, b) => a.trainingSeconds - b.trainingSeconds);
  const byThroughput = [...rows].sort((a, b) => a.imagesPerSecond - b.imagesPerSecond);
  const total = rows.reduce((sum, row) => sum + row.trainingSeconds, 0);
  const sentences = [
    `Training took ${formatSeconds(total)} in all, from ${formatSeconds(byTime[0]!.trainingSeconds)} (${code(byTime[0]!.id)}) to ${formatSeconds(byTime.at(-1)!.trainingSeconds)} (${code(byTime.at(-1)!.id)}) per experiment; throughput ranged from ${Math.round(byThroughput[0]!.imagesPerSecond)} images/s (${code(byThroughput[0]!.id)}) to ${Math.round(byThroughput.at(-1)!.imagesPerSecond)} images/s (${code(byThroughput.at(-1)!.id)}).`,
  ];
  if (byConcurrency(rows).length > 1) {
    sentences.push(`These times are not all like-for-like: the trainings ran with ${conditionsRange(rows)}; compare times only between experiments with the same count (the study tables give it).`);
  }
  return sentences;
}

export function buildCommentary(inputs: readonly CommentaryInput[]): Commentary {
  const rows = inputs.map((input) => input.row);
  const byStudy: Record<string, string[]> = {};
  const headlines: string[] = [];
  const studies = [...new Set(rows.map((row) => row.study))];
  for (const study of studies) byStudy[study] = reproductionSentences(rows.filter((row) => row.study === study));

  const overall = [...reproductionSentences(rows)];
  const best = [...rows].sort((a, b) => b.testAccuracy - a.testAccuracy)[0];
  if (best) overall.push(`Highest test accuracy: ${code(best.id)} with ${percent(best.testAccuracy)}.`);
  for (const sentence of challengeSentences(rows)) {
    overall.push(sentence);
    byStudy.ours?.push(sentence);
  }
  const smallest = Math.min(...rows.map((row) => row.testImages));
  if (smallest < REFERENCE_TEST_IMAGES) {
    overall.push(
      `Some experiments were evaluated on only ${smallest.toLocaleString("en-US")} test images (not the full 10,000), so their comparisons carry sampling noise of up to ${Math.max(...rows.map((row) => row.noisePoints ?? 0)).toFixed(1)} points; "within noise" accounts for it.`,
    );
  }
  overall.push(...timeSentences(rows));

  // A finding goes to its study's section when all its experiments belong to one study.
  const add = (group: readonly CommentaryInput[], findings: readonly Finding[]): void => {
    const groupStudies = new Set(group.map((input) => input.row.study));
    for (const finding of findings) {
      headlines.push(finding.headline);
      if (groupStudies.size === 1) byStudy[[...groupStudies][0]!]!.push(...finding.details, finding.headline);
    }
  };
  for (const group of groupsDifferingIn(inputs, "optimizer", (input) => JSON.stringify(input.optimizer))) add(group, [optimizerFinding(group)]);
  for (const group of groupsDifferingIn(inputs, "batchNorm", (input) => String(input.model.batchNorm))) add(group, binaryFindings(group, "batchNorm"));
  for (const group of groupsDifferingIn(inputs, "dropout", (input) => String(input.model.dropout))) add(group, dropoutFindings(group));
  for (const group of groupsDifferingIn(inputs, "convActivation", (input) => input.model.convActivation)) add(group, binaryFindings(group, "convActivation"));
  for (const group of groupsDifferingIn(inputs, "init", (input) => input.model.init)) add(group, binaryFindings(group, "init"));
  return { overall, findings: headlines, byStudy };
}
