/**
 * "What changes what": every pair of experiments that differ in exactly one setting (optimizer,
 * BatchNorm, dropout rate, conv activation, init; same architecture, dataset, training and
 * everything else), compared seed by seed: the mean of the per-seed differences with its 95% CI,
 * a paired t-test, and Holm's correction across all the report's comparisons. A comparison that
 * finds nothing says "no detectable difference at n = k" — too few or too noisy runs to tell, not
 * evidence that the setting does nothing.
 */
import type { ModelConfig, OptimizerConfig, TrainingConfig } from "../../ml/config.ts";
import { holm, pairedComparison, type PairedComparison } from "../../ml/statistics.ts";
import { optimizerLabel, variantLabel } from "./describe.ts";
import { meanSd, pValue, signedPoints } from "./format.ts";
import type { ExperimentRow } from "./rows.ts";
import { ACCURACY_RESOLUTION } from "./verdicts.ts";

export interface ComparisonInput {
  row: ExperimentRow;
  model: ModelConfig;
  optimizer: OptimizerConfig;
  training: TrainingConfig;
  dataset: string;
}

export type Factor = "optimizer" | "batchNorm" | "dropout" | "convActivation" | "init";

/** Holm-adjusted p below this: a detected difference. */
export const ALPHA = 0.05;

export interface Comparison {
  factor: Factor;
  /** What differs, from a's side: "BatchNorm", "Adam instead of RMSprop", "dropout 0.5 instead of none". */
  setting: string;
  /** Everything the two share: "lenet, SGD + momentum 0.5, 2 epochs". */
  context: string;
  a: ExperimentRow;
  b: ExperimentRow;
  /** a − b per common seed (accuracy, 0..1). */
  paired: PairedComparison;
  /** Holm-adjusted p across every tested comparison of the report; null when not tested (fewer than two common seeds). */
  adjustedP: number | null;
}

export type ComparisonOutcome = "higher" | "lower" | "no detectable difference" | "not tested";

export function outcomeOf(comparison: Comparison): ComparisonOutcome {
  if (comparison.adjustedP === null) return "not tested";
  if (comparison.adjustedP >= ALPHA) return "no detectable difference";
  return comparison.paired.meanDifference > 0 ? "higher" : "lower";
}

/** Everything about an experiment except `factor`: experiments with equal keys differ only in it. */
function keyWithout(input: ComparisonInput, factor: Factor): string {
  const model: Partial<ModelConfig> = { ...input.model };
  if (factor !== "optimizer") delete model[factor];
  const { seed: _seed, ...training } = input.training;
  return JSON.stringify({ dataset: input.dataset, training, model, optimizer: factor === "optimizer" ? null : input.optimizer });
}

function groupsDifferingIn(inputs: readonly ComparisonInput[], factor: Factor, valueOf: (input: ComparisonInput) => string): ComparisonInput[][] {
  const groups = new Map<string, ComparisonInput[]>();
  for (const input of inputs) {
    const key = keyWithout(input, factor);
    groups.set(key, [...(groups.get(key) ?? []), input]);
  }
  return [...groups.values()].filter((group) => new Set(group.map(valueOf)).size > 1);
}

/** What the pair shares, named from the base's side with the varied setting at its plain value. */
export function sharedContext(input: ComparisonInput, omit: Factor): string {
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

function bySeed(row: ExperimentRow): Map<number, number> {
  return new Map(row.seeds.map((seed, index) => [seed, row.seedAccuracies[index]!]));
}

function compare(factor: Factor, setting: string, context: string, a: ExperimentRow, b: ExperimentRow): Omit<Comparison, "adjustedP"> {
  return { factor, setting, context, a, b, paired: pairedComparison(bySeed(a), bySeed(b), { resolution: ACCURACY_RESOLUTION }) };
}

function optimizerName(input: ComparisonInput, sameLr: boolean): string {
  return sameLr ? optimizerLabel(input.optimizer) : `${optimizerLabel(input.optimizer)} (lr ${input.optimizer.lr})`;
}

/** Every one-setting pair among the experiments, with Holm's correction over all that could be tested. */
export function findComparisons(inputs: readonly ComparisonInput[]): Comparison[] {
  const found: Omit<Comparison, "adjustedP">[] = [];
  for (const group of groupsDifferingIn(inputs, "optimizer", (input) => JSON.stringify(input.optimizer))) {
    // Every pair, the better mean as a.
    const sorted = [...group].sort((x, y) => y.row.testAccuracy - x.row.testAccuracy || (x.row.id < y.row.id ? -1 : 1));
    const sameLr = new Set(group.map((input) => input.optimizer.lr)).size === 1;
    const context = `${sharedContext(sorted[0]!, "optimizer")}${sameLr ? `, lr ${sorted[0]!.optimizer.lr}` : ""}`;
    sorted.forEach((a, i) =>
      sorted.slice(i + 1).forEach((b) => found.push(compare("optimizer", `${optimizerName(a, sameLr)} instead of ${optimizerName(b, sameLr)}`, context, a.row, b.row))),
    );
  }
  const binary: Array<[Factor, (input: ComparisonInput) => boolean, (input: ComparisonInput) => string]> = [
    ["batchNorm", (input) => !input.model.batchNorm, () => "BatchNorm"],
    ["convActivation", (input) => input.model.convActivation === "relu", (input) => `${input.model.convActivation[0]!.toUpperCase()}${input.model.convActivation.slice(1)} instead of ReLU after the convs`],
    ["init", (input) => input.model.init === "pytorch", (input) => `${variantLabel({ ...input.model, batchNorm: false, dropout: 0, convActivation: "relu" })} instead of PyTorch's default init`],
  ];
  for (const [factor, isBase, describe] of binary) {
    for (const group of groupsDifferingIn(inputs, factor, (input) => String(input.model[factor as keyof ModelConfig]))) {
      const base = group.find(isBase);
      if (!base) continue;
      for (const variant of group.filter((input) => !isBase(input))) found.push(compare(factor, describe(variant), sharedContext(base, factor), variant.row, base.row));
    }
  }
  for (const group of groupsDifferingIn(inputs, "dropout", (input) => String(input.model.dropout))) {
    const base = group.find((input) => input.model.dropout === 0);
    if (!base) continue;
    // p = 1 zeroes fc1's output: a different regime (chance level), kept out of the rate comparisons.
    for (const variant of group.filter((input) => input.model.dropout > 0 && input.model.dropout < 1).sort((x, y) => x.model.dropout - y.model.dropout)) {
      found.push(compare("dropout", `dropout ${variant.model.dropout} instead of none`, sharedContext(base, "dropout"), variant.row, base.row));
    }
  }
  const adjusted = holm(found.map((comparison) => comparison.paired.p));
  return found.map((comparison, index) => ({ ...comparison, adjustedP: adjusted[index]! }));
}

const code = (id: string): string => `\`${id}\``;
const points = (fraction: number): string => signedPoints(fraction * 100);

/** One sentence per comparison, its numbers and what they allow one to say. */
export function comparisonSentence(comparison: Comparison): string {
  const { a, b, paired, adjustedP } = comparison;
  const head = `${comparison.setting} (${comparison.context}): ${code(a.id)} ${meanSd(a)} vs ${code(b.id)} ${meanSd(b)}`;
  if (adjustedP === null || paired.interval === null || paired.p === null) {
    const why = paired.k === 0 ? "no seed in common" : "a single seed in common";
    return `${head}, ${points(a.testAccuracy - b.testAccuracy)} points; not tested (${why}): one run per side cannot tell a difference from run-to-run variation.`;
  }
  const numbers =
    `paired over ${paired.k} seeds: ${points(paired.meanDifference)} points (95% CI ${points(paired.interval.low)} to ${points(paired.interval.high)}), ` +
    `p = ${pValue(paired.p)}, Holm-adjusted p = ${pValue(adjustedP)}`;
  const outcome = outcomeOf(comparison);
  const reading =
    outcome === "no detectable difference"
      ? `no detectable difference at n = ${paired.k}`
      : `${code(a.id)} is ${outcome} (${outcome === "higher" ? "+" : "−"}${Math.abs(paired.meanDifference * 100).toFixed(2)} points on average)`;
  return `${head}; ${numbers}: ${reading}.`;
}
