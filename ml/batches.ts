/**
 * Assemble training batches straight from the normalized Float32Array (no tf.data, whose
 * shuffling uses unseeded Math.random), optionally with random translations.
 */
import { MNIST_IMAGE_HEIGHT as H, MNIST_IMAGE_WIDTH as W, MNIST_PIXELS } from "./mnist-files.ts";
import type { Rng } from "./random.ts";

export interface ShiftAugmentation {
  /** Maximum shift in pixels in each direction (dx, dy uniform in -max..max). */
  max: number;
  rng: Rng;
  /** Value of the pixels shifted in (the normalized value of black). */
  background: number;
}

/**
 * Copy images order[start..end) of `images` into `outImages` (and their labels into
 * `outLabels`), returning the batch size. With `shift`, each image is translated independently.
 */
export function fillBatch(
  images: Float32Array,
  labels: Int32Array,
  order: Uint32Array,
  start: number,
  end: number,
  outImages: Float32Array,
  outLabels: Int32Array,
  shift?: ShiftAugmentation,
): number {
  const n = end - start;
  for (let i = 0; i < n; i++) {
    const k = order[start + i] as number;
    outLabels[i] = labels[k] as number;
    const src = k * MNIST_PIXELS;
    const dst = i * MNIST_PIXELS;
    if (shift && shift.max > 0) {
      const span = 2 * shift.max + 1;
      const dx = shift.rng.int(span) - shift.max;
      const dy = shift.rng.int(span) - shift.max;
      shiftImage(images, src, outImages, dst, dx, dy, shift.background);
    } else {
      outImages.set(images.subarray(src, src + MNIST_PIXELS), dst);
    }
  }
  return n;
}

/** out(y, x) = in(y - dy, x - dx), background where that falls outside the image. */
export function shiftImage(
  src: Float32Array,
  srcOffset: number,
  dst: Float32Array,
  dstOffset: number,
  dx: number,
  dy: number,
  background: number,
): void {
  dst.fill(background, dstOffset, dstOffset + MNIST_PIXELS);
  const x0 = Math.max(0, dx);
  const x1 = Math.min(W, W + dx);
  if (x1 <= x0) return;
  for (let y = Math.max(0, dy); y < Math.min(H, H + dy); y++) {
    const from = srcOffset + (y - dy) * W + (x0 - dx);
    dst.set(src.subarray(from, from + (x1 - x0)), dstOffset + y * W + x0);
  }
}
