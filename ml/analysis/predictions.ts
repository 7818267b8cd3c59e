/**
 * Prediction grid (a seeded sample of test images with what the model says) and the most
 * confident mistakes over the whole test split.
 */
import type { Normalization } from "../config.ts";
import type { DatasetSplit } from "../dataset.ts";
import { runInference } from "../evaluate.ts";
import { MNIST_CLASSES, MNIST_PIXELS } from "../mnist-files.ts";
import type { MnistModel } from "../models.ts";
import { Rng, deriveSeed, permutation } from "../random.ts";
import { displayImage, round } from "./pixels.ts";
import type { MisclassifiedResult, PredictedImage, PredictionGridResult } from "./types.ts";

/**
 * One test row as the analyses show it, from its softmax probabilities (10 values).
 * `predicted` defaults to the arg-max (first on ties, as tf.argMax); pass the inference's own
 * prediction when there is one, so a float tie in the softmax cannot disagree with the logits.
 */
export function predictedImage(
  test: DatasetSplit,
  row: number,
  probabilities: ArrayLike<number>,
  normalize: Normalization | null,
  predicted: number = argMax(probabilities),
): PredictedImage {
  checkRow(test, row, "row");
  if (probabilities.length !== MNIST_CLASSES) {
    throw new Error(`predictedImage: expected ${MNIST_CLASSES} probabilities, got ${probabilities.length}`);
  }
  if (!Number.isInteger(predicted) || predicted < 0 || predicted >= MNIST_CLASSES) {
    throw new Error(`predictedImage: predicted must be a class 0..${MNIST_CLASSES - 1}, got ${String(predicted)}`);
  }
  const label = test.labels[row] as number;
  return {
    row,
    mnistIndex: test.indices[row] as number,
    label,
    predicted,
    confidence: round(probabilities[predicted] as number),
    trueProbability: round(probabilities[label] as number),
    pixels: displayImage(test.images, row, normalize),
  };
}

/** `count` distinct test rows drawn from the seed, in draw order, with the model's predictions. */
export async function predictionGrid(
  model: MnistModel,
  test: DatasetSplit,
  normalize: Normalization | null,
  options: { count: number; seed: number; signal?: AbortSignal },
): Promise<PredictionGridResult> {
  checkCount(test, options.count);
  // A prefix of a permutation: distinct rows, and a larger count extends a smaller one's grid.
  const rows = Array.from(permutation(test.count, new Rng(deriveSeed(options.seed, "prediction-grid"))).subarray(0, options.count));
  const images = new Float32Array(rows.length * MNIST_PIXELS);
  const labels = new Int32Array(rows.length);
  rows.forEach((row, i) => {
    images.set(test.images.subarray(row * MNIST_PIXELS, (row + 1) * MNIST_PIXELS), i * MNIST_PIXELS);
    labels[i] = test.labels[row] as number;
  });
  const result = await runInference(model, { count: rows.length, images, labels }, { keepProbabilities: true, signal: options.signal });
  const probs = result.probabilities as Float32Array;
  return {
    kind: "prediction-grid",
    seed: options.seed,
    items: rows.map((row, i) =>
      predictedImage(test, row, probs.subarray(i * MNIST_CLASSES, (i + 1) * MNIST_CLASSES), normalize, result.predictions[i]),
    ),
  };
}

/** Error count over the whole test split and its `count` most confident mistakes (ties by row). */
export async function misclassified(
  model: MnistModel,
  test: DatasetSplit,
  normalize: Normalization | null,
  options: { count: number; batchSize?: number; signal?: AbortSignal },
): Promise<MisclassifiedResult> {
  checkCount(test, options.count);
  const result = await runInference(model, test, { keepProbabilities: true, batchSize: options.batchSize, signal: options.signal });
  const probs = result.probabilities as Float32Array;
  const wrong: Array<{ row: number; confidence: number }> = [];
  for (let row = 0; row < test.count; row++) {
    const predicted = result.predictions[row] as number;
    if (predicted !== test.labels[row]) wrong.push({ row, confidence: probs[row * MNIST_CLASSES + predicted] as number });
  }
  // Sort on the unrounded probabilities: rounding would turn near-certain mistakes into ties.
  wrong.sort((a, b) => b.confidence - a.confidence || a.row - b.row);
  return {
    kind: "misclassified",
    testCount: test.count,
    errorCount: wrong.length,
    items: wrong
      .slice(0, options.count)
      .map(({ row }) =>
        predictedImage(test, row, probs.subarray(row * MNIST_CLASSES, (row + 1) * MNIST_CLASSES), normalize, result.predictions[row]),
      ),
  };
}

function argMax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}

/** A test row index, with an error naming the option. */
export function checkRow(test: DatasetSplit, row: number, option: string): void {
  if (!Number.isInteger(row) || row < 0 || row >= test.count) {
    throw new Error(`${option} must be an integer in 0..${test.count - 1} (a test row), got ${String(row)}`);
  }
}

function checkCount(test: DatasetSplit, count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > test.count) {
    throw new Error(`count must be an integer in 1..${test.count} (test images), got ${String(count)}`);
  }
}
