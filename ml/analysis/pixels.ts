/**
 * Conversions between the two image spaces the analyses use (see types.ts): display space
 * (0 = black .. 1 = white, the MNIST byte / 255) and the model's input space (display space put
 * through the dataset's normalization, exactly as ml/dataset.ts does at load).
 */
import type { Normalization } from "../config.ts";
import { MNIST_PIXELS } from "../mnist-files.ts";

/** Display value -> model input value. */
export function toInput(pixel: number, normalize: Normalization | null): number {
  return normalize ? (pixel - normalize.mean) / normalize.std : pixel;
}

/** Model input value -> display value. */
export function toDisplay(input: number, normalize: Normalization | null): number {
  return normalize ? input * normalize.std + normalize.mean : input;
}

/** Row `row` of a normalized NHWC image array, in model-input space. */
export function inputImage(images: Float32Array, row: number): Float32Array {
  return images.subarray(row * MNIST_PIXELS, (row + 1) * MNIST_PIXELS);
}

/** Row `row` of a normalized image array in display space, rounded (JSON stays small). */
export function displayImage(images: Float32Array, row: number, normalize: Normalization | null): number[] {
  return Array.from(inputImage(images, row), (value) => round(toDisplay(value, normalize), 4));
}

/** Round to `digits` decimals; the analyses' JSON carries 4, far finer than any chart shows. */
export function round(value: number, digits = 4): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
