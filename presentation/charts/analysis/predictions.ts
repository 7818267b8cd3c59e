import type { MisclassifiedResult, PredictionGridResult } from "../../../ml/analysis/types.ts";
import type { AnalysisPresentation } from "../../../ml/analysis/stage-io.ts";
import { confidenceText, digitGrid } from "./digits.ts";
import { tileChartSpec } from "./tile-chart.ts";

export function presentPredictionGrid(result: PredictionGridResult, experiment: string): AnalysisPresentation {
  const wrong = result.items.filter((item) => item.predicted !== item.label);
  const chart = digitGrid({
    title: `${experiment}: ${result.items.length} random test images`,
    subtitle: `true and predicted label, confidence of the prediction; mistakes framed in red (seed ${result.seed})`,
    items: result.items,
    columns: 6,
    caption: (item) => [`true ${item.label} · pred ${item.predicted}`, confidenceText(item.confidence)],
  });
  return {
    title: "Prediction grid",
    method: "Test images drawn at random (seeded), each with its true label, the predicted label and the softmax probability of the prediction.",
    sentences: [
      `${result.items.length - wrong.length} of ${result.items.length} predicted correctly` +
        (wrong.length === 0 ? "." : `; wrong: ${wrong.map((item) => `a ${item.label} read as ${item.predicted} (${confidenceText(item.confidence)})`).join(", ")}.`),
      ...lowestCorrect(result),
    ],
    charts: [{ name: `prediction-grid-${experiment}`, title: `${experiment}: random test images with predictions`, scope: "experiment", experiment, spec: tileChartSpec(chart) }],
    csv: result.items.map((item) => ({ test_row: item.row, mnist_index: item.mnistIndex, label: item.label, predicted: item.predicted, confidence: item.confidence, true_probability: item.trueProbability })),
  };
}

function lowestCorrect(result: PredictionGridResult): string[] {
  const correct = result.items.filter((item) => item.predicted === item.label).map((item) => item.confidence);
  return correct.length === 0 ? [] : [`Lowest confidence among the correct ones: ${confidenceText(Math.min(...correct))}.`];
}

export function presentMisclassified(result: MisclassifiedResult, experiment: string): AnalysisPresentation {
  const chart = digitGrid({
    title: `${experiment}: the ${result.items.length} most confident mistakes`,
    subtitle: `${result.errorCount} of ${result.testCount} test images misclassified; sorted by the confidence of the wrong prediction`,
    items: result.items,
    columns: 8,
    caption: (item) => [`true ${item.label} → ${item.predicted}`, `${confidenceText(item.confidence)} (true ${confidenceText(item.trueProbability)})`],
  });
  const pairs = new Map<string, number>();
  for (const item of result.items) pairs.set(`${item.label}→${item.predicted}`, (pairs.get(`${item.label}→${item.predicted}`) ?? 0) + 1);
  const commonCount = Math.max(0, ...pairs.values());
  const commonPairs = [...pairs].filter(([, count]) => count === commonCount).map(([pair]) => pair);
  const top = result.items[0];
  const sentences = [`${result.errorCount} of ${result.testCount} test images are misclassified (${((100 * result.errorCount) / result.testCount).toFixed(2)}%).`];
  if (top) sentences.push(`The most confident mistake: a ${top.label} read as ${top.predicted} with ${confidenceText(top.confidence)}.`);
  if (commonCount > 1) {
    sentences.push(`Most frequent confusion${commonPairs.length > 1 ? "s" : ""} among the ${result.items.length} shown: ${commonPairs.join(", ")} (${commonCount} times${commonPairs.length > 1 ? " each" : ""}).`);
  }
  const confident = result.items.filter((item) => item.confidence >= 0.9).length;
  sentences.push(`${confident} of the ${result.items.length} shown mistakes are made with at least 90% confidence.`);
  return {
    title: "Most confident mistakes",
    method: "One pass over the whole test set; the misclassified images with the highest softmax probability on their (wrong) prediction.",
    sentences,
    charts: [{ name: `misclassified-${experiment}`, title: `${experiment}: most confident mistakes`, scope: "experiment", experiment, spec: tileChartSpec(chart) }],
    csv: result.items.map((item) => ({ test_row: item.row, mnist_index: item.mnistIndex, label: item.label, predicted: item.predicted, confidence: item.confidence, true_probability: item.trueProbability })),
  };
}
