/**
 * Which original MNIST images go into train / validation / test for one DatasetConfig.
 * Pure and deterministic: the same config always selects the same images.
 *
 * Order of operations (mirrors torch.utils.data.random_split followed by taking a subset):
 *  1. validation: a seeded permutation of the 60k training images; the LAST `size` images of the
 *     permutation are held out, the rest stay training images (random_split([50000, 10000]) takes
 *     the first 50k of its permutation for the first split).
 *  2. trainSubset / testSubset: a seeded shuffle of what remains, keep the first N.
 * The selected indices are then sorted ascending, so every split keeps the original file order
 * (test image i of the full test split is MNIST test image i). Training order is randomised per
 * epoch by the training loop anyway.
 *
 * Seeds: validation.seed drives everything; without a validation split the subsets use seed 0.
 * Each step derives its own stream (deriveSeed), so e.g. adding a testSubset does not change the
 * validation split.
 */
import type { DatasetConfig } from "./config.ts";
import { Rng, deriveSeed, permutation, shuffleInPlace } from "./random.ts";

export interface SplitIndices {
  train: Uint32Array;
  validation: Uint32Array | null;
  test: Uint32Array;
}

export function computeSplitIndices(config: DatasetConfig, trainCount: number, testCount: number): SplitIndices {
  const seed = config.validation?.seed ?? 0;
  let train: Uint32Array;
  let validation: Uint32Array | null = null;
  if (config.validation) {
    const size = config.validation.size;
    if (!Number.isInteger(size) || size < 1 || size >= trainCount) {
      throw new Error(`dataset validation.size must be an integer in 1..${trainCount - 1}, got ${size}`);
    }
    const perm = permutation(trainCount, new Rng(deriveSeed(seed, "validation-split")));
    train = perm.slice(0, trainCount - size);
    validation = perm.slice(trainCount - size);
  } else {
    train = iota(trainCount);
  }
  train = takeSubset(train, config.trainSubset, new Rng(deriveSeed(seed, "train-subset")), "trainSubset");
  const test = takeSubset(iota(testCount), config.testSubset, new Rng(deriveSeed(seed, "test-subset")), "testSubset");
  return { train: train.sort(), validation: validation?.sort() ?? null, test: test.sort() };
}

function takeSubset(indices: Uint32Array, n: number | null, rng: Rng, what: string): Uint32Array {
  if (n === null) return indices;
  if (!Number.isInteger(n) || n < 1 || n > indices.length) {
    throw new Error(`dataset ${what} must be an integer in 1..${indices.length} (images available), got ${n}`);
  }
  return shuffleInPlace(indices.slice(), rng).slice(0, n);
}

function iota(n: number): Uint32Array {
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}
