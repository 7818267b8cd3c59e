/**
 * Occlusion sensitivity (002): slide a square patch over a test image and record, for every patch
 * position, the softmax probability of the true class. Where the map drops, the network relied on
 * what the patch hid.
 *
 * The patch value is given in display space (0 = black .. 1 = white; 002 used 0.5, mid grey) and
 * put through the dataset's normalization, so "grey" means the same thing for every model.
 * Occluded images are built in plain Float32Arrays and run through the model in batches: one image
 * per forward pass would take minutes for the 27,450 images of the full analysis.
 */
import type { Normalization } from "../config.ts";
import type { DatasetSplit } from "../dataset.ts";
import { runInference } from "../evaluate.ts";
import { MNIST_CLASSES, MNIST_IMAGE_HEIGHT, MNIST_IMAGE_WIDTH, MNIST_PIXELS } from "../mnist-files.ts";
import type { MnistModel } from "../models.ts";
import { inputImage, round, toInput } from "./pixels.ts";
import { predictedImage } from "./predictions.ts";
import type { OcclusionImage, OcclusionMap, OcclusionResult, PredictedImage } from "./types.ts";

export interface OcclusionOptions {
  /** Rows of the test split to analyse. */
  rows: number[];
  /** Patch side lengths in pixels (002: 1, 3, 5, 7, 14). */
  patchSizes: number[];
  /** Pixels between neighbouring patch positions (002: 1). */
  stride: number;
  /** The patch value in display space, 0..1 (002: 0.5). */
  fillPixel: number;
  /** Occluded images per forward pass (speed vs. memory only; results do not depend on it). Default 256. */
  batchSize?: number;
  signal?: AbortSignal;
}

export async function occlusionSensitivity(
  model: MnistModel,
  test: DatasetSplit,
  normalize: Normalization | null,
  options: OcclusionOptions,
): Promise<OcclusionResult> {
  checkOptions(test, options);
  const { stride, patchSizes, signal } = options;
  const batchSize = options.batchSize ?? 256;
  const fill = toInput(options.fillPixel, normalize);
  const items: OcclusionImage[] = [];
  const unoccluded = await predictRows(model, test, normalize, options.rows, signal);
  for (const image of unoccluded) {
    const base = inputImage(test.images, image.row);
    const maps: OcclusionMap[] = [];
    for (const patchSize of patchSizes) {
      const side = Math.floor((MNIST_IMAGE_HEIGHT - patchSize) / stride) + 1;
      const probabilities = new Array<number>(side * side);
      const batch = new Float32Array(Math.min(batchSize, side * side) * MNIST_PIXELS);
      // Positions are numbered row-major (index = r * side + c), which is also the map's layout.
      for (let first = 0; first < side * side; first += batchSize) {
        const n = Math.min(batchSize, side * side - first);
        for (let i = 0; i < n; i++) {
          const position = first + i;
          const top = Math.floor(position / side) * stride;
          const left = (position % side) * stride;
          occlude(batch, i, base, top, left, patchSize, fill);
        }
        const probs = await trueClassProbabilities(model, batch.subarray(0, n * MNIST_PIXELS), n, image.label, signal);
        for (let i = 0; i < n; i++) probabilities[first + i] = round(probs[i] as number);
      }
      maps.push({ patchSize, side, probabilities, min: Math.min(...probabilities) });
    }
    items.push({ ...image, maps });
  }
  return { kind: "occlusion", stride, fill: { pixel: options.fillPixel, input: fill }, items };
}

/** Evaluation-mode predictions of the chosen test rows (the maps' reference values). */
async function predictRows(
  model: MnistModel,
  test: DatasetSplit,
  normalize: Normalization | null,
  rows: number[],
  signal?: AbortSignal,
): Promise<PredictedImage[]> {
  const images = new Float32Array(rows.length * MNIST_PIXELS);
  rows.forEach((row, i) => images.set(inputImage(test.images, row), i * MNIST_PIXELS));
  const labels = Int32Array.from(rows, (row) => test.labels[row] as number);
  const result = await runInference(model, { count: rows.length, images, labels }, { keepProbabilities: true, signal });
  const probabilities = result.probabilities as Float32Array;
  return rows.map((row, i) =>
    predictedImage(test, row, probabilities.subarray(i * MNIST_CLASSES, (i + 1) * MNIST_CLASSES), normalize, result.predictions[i]),
  );
}

/** Write `base` into slot `slot` of `batch` with a size x size square at (top, left) set to `fill`. */
function occlude(batch: Float32Array, slot: number, base: Float32Array, top: number, left: number, size: number, fill: number): void {
  const offset = slot * MNIST_PIXELS;
  batch.set(base, offset);
  for (let y = top; y < top + size; y++) {
    const start = offset + y * MNIST_IMAGE_WIDTH + left;
    batch.fill(fill, start, start + size);
  }
}

/** P(label) for each of `n` images: one runInference batch, so its tidy / yield pattern applies. */
async function trueClassProbabilities(model: MnistModel, images: Float32Array, n: number, label: number, signal?: AbortSignal): Promise<Float32Array> {
  const labels = new Int32Array(n).fill(label);
  const result = await runInference(model, { count: n, images, labels }, { batchSize: n, keepProbabilities: true, signal });
  const probabilities = result.probabilities as Float32Array;
  return Float32Array.from({ length: n }, (_, i) => probabilities[i * MNIST_CLASSES + label] as number);
}

function checkOptions(test: DatasetSplit, options: OcclusionOptions): void {
  const { rows, patchSizes, stride, fillPixel, batchSize } = options;
  if (rows.length === 0) throw new Error("occlusion rows: need at least one test row");
  for (const row of rows) {
    if (!Number.isInteger(row) || row < 0 || row >= test.count) {
      throw new Error(`occlusion rows: ${row} is not a row of the test split (0..${test.count - 1})`);
    }
  }
  if (patchSizes.length === 0) throw new Error("occlusion patchSizes: need at least one patch size");
  for (const size of patchSizes) {
    if (!Number.isInteger(size) || size < 1 || size > MNIST_IMAGE_HEIGHT) {
      throw new Error(`occlusion patchSizes: ${size} must be an integer in 1..${MNIST_IMAGE_HEIGHT}`);
    }
  }
  if (!Number.isInteger(stride) || stride < 1) throw new Error(`occlusion stride must be a positive integer, got ${stride}`);
  if (!(fillPixel >= 0 && fillPixel <= 1)) throw new Error(`occlusion fillPixel must be in [0, 1] (display space), got ${fillPixel}`);
  if (batchSize !== undefined && (!Number.isInteger(batchSize) || batchSize < 1)) {
    throw new Error(`occlusion batchSize must be a positive integer, got ${batchSize}`);
  }
}
