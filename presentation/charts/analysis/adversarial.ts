import type { TopLevelSpec } from "vega-lite";
import { CHART_CONFIG, TABLEAU10, VEGA_LITE_SCHEMA } from "../chart-style.ts";
import type { AnalysisPresentation } from "../../../ml/analysis/stage-io.ts";
import type { AdversarialResult } from "../../../ml/analysis/types.ts";
import { greyImage } from "./colormap.ts";
import { confidenceText } from "./digits.ts";
import { CORRECT_COLOR, type Label, MISTAKE_COLOR, type Tile, tileChartSpec } from "./tile-chart.ts";

const TILE = 56;

function range(values: readonly number[]): [number, number] {
  let low = Infinity;
  let high = -Infinity;
  for (const value of values) {
    if (value < low) low = value;
    if (value > high) high = value;
  }
  return [low, high];
}

/** In display space (black..white) when the stage added it; otherwise stretched to the image's own range. */
const picture = (entry: { input: number[]; pixels?: number[] }): string => (entry.pixels ? greyImage(entry.pixels, 28, 28) : greyImage(entry.input, 28, 28, ...range(entry.input)));

function untargetedImages(result: AdversarialResult, experiment: string): TopLevelSpec {
  const cell = TILE + 48;
  const tiles: Tile[] = [];
  const labels: Label[] = [];
  result.untargeted.forEach((entry, index) => {
    const x = index * cell + 24;
    const wrong = entry.predicted !== entry.target;
    tiles.push({ x, y: 0, width: TILE, height: TILE, image: picture(entry), ...(wrong ? { frame: MISTAKE_COLOR } : {}) });
    labels.push({ x: x + TILE / 2, y: TILE + 5, text: `target ${entry.target} → ${entry.predicted}`, color: wrong ? MISTAKE_COLOR : CORRECT_COLOR, bold: wrong });
    labels.push({ x: x + TILE / 2, y: TILE + 19, text: confidenceText(entry.confidence), size: 10, color: "#555" });
  });
  const s = result.settings;
  return tileChartSpec({
    title: `${experiment}: non-targeted adversarial inputs`,
    subtitle: `from noise N(${s.noiseMean}, ${s.noiseStd}) on the 0–255 pixel scale, ${s.iterations} steps of ${s.step} × the gradient of the target logit, kept within [${s.clampMin}, ${s.clampMax}]; below: predicted class, confidence`,
    width: result.untargeted.length * cell,
    height: TILE + 34,
    tiles,
    labels,
  });
}

function costCurves(result: AdversarialResult, experiment: string): TopLevelSpec {
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: `${experiment}: adversarial cost per iteration`, subtitle: "the target class's logit, which the gradient ascent maximises" },
    width: 460,
    height: 260,
    config: CHART_CONFIG,
    data: { values: result.untargeted.flatMap((entry) => entry.costs.map((cost, iteration) => ({ iteration: iteration + 1, cost, target: String(entry.target) }))) },
    mark: { type: "line", strokeWidth: 1.6 },
    encoding: {
      x: { field: "iteration", type: "quantitative", title: "iteration" },
      y: { field: "cost", type: "quantitative", title: "target logit (cost)" },
      color: { field: "target", type: "nominal", title: "target class", scale: { domain: TABLEAU10.map((_, digit) => String(digit)), range: TABLEAU10 } },
    },
  } as TopLevelSpec;
}

function targetedGrid(result: AdversarialResult, experiment: string): TopLevelSpec {
  const gap = 6;
  const cell = TILE + 18;
  const left = 60;
  const top = 34;
  const tiles: Tile[] = [];
  const labels: Label[] = [];
  for (const shown of result.shownImages) {
    const y = top + shown.label * (cell + gap);
    tiles.push({ x: left + shown.label * (TILE + gap), y, width: TILE, height: TILE, image: greyImage(shown.pixels, 28, 28), frame: "#2ca02c" });
    labels.push({ x: left - 8, y: y + TILE / 2 - 6, text: `shown ${shown.label}`, align: "right" });
  }
  for (let digit = 0; digit < 10; digit++) labels.push({ x: left + digit * (TILE + gap) + TILE / 2, y: top - 16, text: `target ${digit}` });
  for (const pair of result.targeted) {
    const x = left + pair.target * (TILE + gap);
    const y = top + pair.shown * (cell + gap);
    const wrong = pair.predicted !== pair.target;
    tiles.push({ x, y, width: TILE, height: TILE, image: picture(pair), ...(wrong ? { frame: MISTAKE_COLOR } : {}) });
    labels.push({ x: x + TILE / 2, y: y + TILE + 2, text: `→${pair.predicted} ${confidenceText(pair.confidence)}`, size: 9, color: wrong ? MISTAKE_COLOR : "#555" });
  }
  const s = result.settings;
  return tileChartSpec({
    title: `${experiment}: targeted adversarial inputs`,
    subtitle: `cost = logit(target) − ${s.beta}·MSE(x, the shown test image) on 0–255 pixels; diagonal (green): the shown images; below each: predicted class and confidence`,
    width: left + 10 * (TILE + gap),
    height: top + 10 * (cell + gap),
    tiles,
    labels,
  });
}

export function presentAdversarial(result: AdversarialResult, experiment: string): AnalysisPresentation {
  const hits = result.untargeted.filter((entry) => entry.predicted === entry.target);
  const targetedHits = result.targeted.filter((pair) => pair.predicted === pair.target);
  const median = (values: number[]): number => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted.length === 0 ? NaN : (sorted[(sorted.length - 1) >> 1]! + sorted[sorted.length >> 1]!) / 2;
  };
  const rises = result.untargeted.map((entry) => (entry.costs.at(-1) ?? 0) - (entry.costs[0] ?? 0));
  const s = result.settings;
  return {
    title: "Adversarial inputs",
    method:
      `Gradient ascent on the input as in 002: start from noise N(${s.noiseMean}, ${s.noiseStd}) on the 0–255 pixel scale (seed ${s.seed}), take ${s.iterations} steps x ← clamp(x + ${s.step}·∇ₓcost) in the model's input space, keeping x within pixels ${s.clampMin}..${s.clampMax}. ` +
      "002 fed its network N(128, 1) directly although it was trained on pixels / 255 — an image 128 times brighter than white, where (measured on our models) 100 such steps never change the predicted class; we read its numbers on the pixel scale they are written in, so the start is mid grey and every step a valid image. " +
      `Non-targeted: cost = the logit of one class, for each of the 10 classes. Targeted: cost = logit(target) − ${s.beta}·MSE(x, the first test image of the shown digit), for all 90 (shown, target) pairs, ` +
      "the MSE taken over 0–255 pixel values, the scale of 002's X (with 002's β = 0.001 the prior term starts near 15 from mid grey; in 002 near 16). " +
      "002's step rule is undefined: its code rescales or clips each step by `epsilon` when `use_epsilon` is set (its non-targeted version clips even without it) and never defines either name; we take the plain, unclipped step. " +
      "All runs of a kind are one batch (rows are independent in evaluation mode).",
    sentences: [
      `Non-targeted: ${hits.length} of ${result.untargeted.length} runs end predicted as their target class, median confidence ${confidenceText(median(result.untargeted.map((entry) => entry.confidence)))}; the target logit rises by ${median(rises).toFixed(1)} (median) over the ${s.iterations} steps.`,
      `Targeted: ${targetedHits.length} of ${result.targeted.length} pairs end predicted as the target, median confidence ${confidenceText(median(result.targeted.map((pair) => pair.confidence)))}.`,
    ],
    charts: [
      { name: `adversarial-untargeted-${experiment}`, title: `${experiment}: non-targeted adversarial inputs`, scope: "experiment", experiment, spec: untargetedImages(result, experiment) },
      { name: `adversarial-cost-${experiment}`, title: `${experiment}: adversarial cost per iteration`, scope: "experiment", experiment, spec: costCurves(result, experiment) },
      { name: `adversarial-targeted-${experiment}`, title: `${experiment}: targeted adversarial inputs`, scope: "experiment", experiment, spec: targetedGrid(result, experiment) },
    ],
    csv: [
      ...result.untargeted.map((entry) => ({ attack: "non-targeted", shown: "", target: entry.target, predicted: entry.predicted, confidence: entry.confidence, first_cost: entry.costs[0] ?? "", last_cost: entry.costs.at(-1) ?? "" })),
      ...result.targeted.map((pair) => ({ attack: "targeted", shown: pair.shown, target: pair.target, predicted: pair.predicted, confidence: pair.confidence, first_cost: "", last_cost: "" })),
    ],
  };
}
