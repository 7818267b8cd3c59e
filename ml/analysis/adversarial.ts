/**
 * Adversarial inputs (002): gradient ascent on the input image, in the model's input space, as
 * 002's PyTorch code does it:
 *
 *   X = torch.normal(128, 1, (1, 1, 28, 28))
 *   for it in range(max_iterations):
 *       cost = logits[0, target]           # targeted: - beta * MSE(X, image of another digit)
 *       X += stepsize * X.grad; X = clamp(X, 0, 255)
 *
 * 002's step rule is undefined in the study: its code rescales or clips the perturbation by
 * `epsilon` when `use_epsilon` is set (the non-targeted version clips by `epsilon` even without
 * it), and neither name is defined anywhere in the study. We take the plain step, stepsize times
 * the gradient, unclipped (as if `use_epsilon` were False and there were no clip).
 *
 * 002 runs one image at a time; here all runs of an attack form one batch. In evaluation mode the
 * rows of a batch do not interact, so the gradient of the SUM of the rows' costs with respect to
 * the batch is, row by row, each run's own gradient: the results are those of separate runs.
 */
import * as tf from "@tensorflow/tfjs";
import type { DatasetSplit } from "../dataset.ts";
import { MNIST_CLASSES, MNIST_IMAGE_HEIGHT, MNIST_IMAGE_WIDTH, MNIST_PIXELS } from "../mnist-files.ts";
import type { MnistModel } from "../models.ts";
import { Rng, deriveSeed } from "../random.ts";
import type { Normalization } from "../config.ts";
import { round, toInput } from "./pixels.ts";
import type { AdversarialClass, AdversarialPair, AdversarialSettings } from "./types.ts";

export interface AttackOptions {
  signal?: AbortSignal;
}

/** Per-row cost of a batch of images: [n] from x [n, 28, 28, 1] and the model's logits [n, 10]. */
type RowCost = (x: tf.Tensor4D, logits: tf.Tensor2D) => tf.Tensor1D;

interface AscentResult {
  /** [iteration][row]: each row's cost before each step. */
  costs: Float32Array[];
  /** The final images, n x 784. */
  images: Float32Array;
  predicted: Int32Array;
  confidence: Float32Array;
}

/** (a) Non-targeted: one run per class, maximising that class's logit from noise. */
export async function untargetedAttack(model: MnistModel, settings: AdversarialSettings, options: AttackOptions = {}): Promise<AdversarialClass[]> {
  checkSettings(settings);
  const targets = Array.from({ length: MNIST_CLASSES }, (_, t) => t);
  const result = await ascend(model, targets, (_x, logits) => targetLogits(logits, targets), settings, "adversarial-untargeted", options);
  return targets.map((target, row) => ({
    target,
    costs: result.costs.map((step) => round(step[row] as number)),
    predicted: result.predicted[row] as number,
    confidence: round(result.confidence[row] as number),
    input: rowImage(result.images, row),
  }));
}

/**
 * (b) Targeted: for each shown digit d and each target t != d, maximise
 * logit_t(x) - beta * MSE(x, image of d), so the result should look like d yet be classified t.
 * `shown` images are in model-input space. Pairs are ordered by shown digit, then target.
 */
export async function targetedAttack(
  model: MnistModel,
  shown: Array<{ digit: number; input: Float32Array }>,
  settings: AdversarialSettings,
  options: AttackOptions = {},
): Promise<AdversarialPair[]> {
  checkSettings(settings);
  const pairs: Array<{ shown: number; target: number; image: Float32Array }> = [];
  for (const { digit, input } of shown) {
    if (!Number.isInteger(digit) || digit < 0 || digit >= MNIST_CLASSES) throw new Error(`targeted attack: shown digit ${digit} is not 0..9`);
    if (input.length !== MNIST_PIXELS) throw new Error(`targeted attack: image of digit ${digit} has ${input.length} pixels, expected ${MNIST_PIXELS}`);
    for (let target = 0; target < MNIST_CLASSES; target++) if (target !== digit) pairs.push({ shown: digit, target, image: input });
  }
  if (pairs.length === 0) throw new Error("targeted attack: no shown digits");
  const targets = pairs.map((p) => p.target);
  const references = new Float32Array(pairs.length * MNIST_PIXELS);
  pairs.forEach((p, i) => references.set(p.image, i * MNIST_PIXELS));
  const cost: RowCost = (x, logits) => {
    const reference = tf.tensor4d(references, x.shape);
    // nn.MSELoss: the mean over the image's 784 pixels.
    const mse = tf.mean(tf.squaredDifference(x, reference), [1, 2, 3]);
    return tf.sub(targetLogits(logits, targets), tf.mul(settings.beta, mse));
  };
  const result = await ascend(model, targets, cost, settings, "adversarial-targeted", options);
  return pairs.map((p, row) => ({
    shown: p.shown,
    target: p.target,
    predicted: result.predicted[row] as number,
    confidence: round(result.confidence[row] as number),
    input: rowImage(result.images, row),
  }));
}

/** 002's pixel scale: display space (0..1) times 255. */
const PIXEL_SCALE = 255;

/**
 * params.json's settings → the core's, in model-input space. 002 wrote "N(128, 1), clamp to
 * [0, 255]" but fed that to a network trained on pixels / 255, i.e. an image ~128 times brighter
 * than white, where the logits sit hundreds apart and 100 steps of 0.05 move nothing (measured:
 * every run ends on one class). We read its numbers on the 0..255 pixel scale they are written in:
 * a mid-grey start with a little noise, kept within black..white, a valid image throughout. The
 * step is 002's: x += step * d cost / d x in display space (the unnormalized networks' input).
 *
 * beta weighs the MSE of 0..255 pixel values, 255^2 times the display-space MSE. That is what
 * keeps 002's prior at its own strength: 002 compared X ~ 128 with a target image in [0, 1], so
 * beta * MSE started near 0.001 * 128^2 ≈ 16; a mid-grey start against an MNIST digit gives
 * 0.001 * 255^2 * MSE ≈ 15 here. The same 0.001 on display-space pixels would weigh at most
 * 0.001, and the targeted images would be the non-targeted ones.
 */
export function inputSpaceSettings(settings: AdversarialSettings, normalize: Normalization | null): AdversarialSettings {
  const pixel = (value: number): number => toInput(value / PIXEL_SCALE, normalize);
  const std = normalize?.std ?? 1;
  return {
    ...settings,
    noiseMean: pixel(settings.noiseMean),
    noiseStd: settings.noiseStd / PIXEL_SCALE / std,
    clampMin: pixel(settings.clampMin),
    clampMax: pixel(settings.clampMax),
    // The same ascent for every network whatever its normalization: x = (p - mean) / std makes a
    // display-space step of step * d cost / dp an input-space step of (step / std^2) * d cost / dx,
    // and MSE in display space std^2 times MSE in input space (and 255^2 times less than on 0..255 pixels).
    step: settings.step / (std * std),
    beta: settings.beta * PIXEL_SCALE * PIXEL_SCALE * std * std,
  };
}

/** The first test row of each digit 0..9: the images the targeted attack pulls toward. */
export function firstImagePerDigit(test: DatasetSplit): number[] {
  const rows = new Array<number>(MNIST_CLASSES).fill(-1);
  for (let row = 0; row < test.count; row++) {
    const label = test.labels[row] as number;
    if (rows[label] === -1) rows[label] = row;
  }
  const missing = rows.flatMap((row, digit) => (row === -1 ? [digit] : []));
  if (missing.length > 0) throw new Error(`test split has no image of digit ${missing.join(", ")}`);
  return rows;
}

/** Gradient ascent of each row's cost from seeded noise; one batch for all rows. */
async function ascend(
  model: MnistModel,
  targets: number[],
  rowCost: RowCost,
  settings: AdversarialSettings,
  seedLabel: string,
  options: AttackOptions,
): Promise<AscentResult> {
  const n = targets.length;
  const shape: [number, number, number, number] = [n, MNIST_IMAGE_HEIGHT, MNIST_IMAGE_WIDTH, 1];
  const rng = new Rng(deriveSeed(settings.seed, seedLabel));
  const start = Float32Array.from({ length: n * MNIST_PIXELS }, () => rng.normal() * settings.noiseStd + settings.noiseMean);
  const costOf = (x: tf.Tensor4D): tf.Tensor1D => rowCost(x, model.predict(x));
  const step = tf.valueAndGrad(costOf);
  let x: tf.Tensor4D = tf.tensor4d(start, shape);
  const costs: Float32Array[] = [];
  try {
    for (let it = 0; it < settings.iterations; it++) {
      options.signal?.throwIfAborted();
      const [cost, next] = tf.tidy(() => {
        // value = the per-row costs; grad = d(sum of costs)/dx, i.e. each row's own gradient.
        const { value, grad } = step(x);
        return [value, tf.clipByValue(tf.add(x, tf.mul(settings.step, grad)), settings.clampMin, settings.clampMax) as tf.Tensor4D];
      });
      costs.push(cost.dataSync() as Float32Array);
      cost.dispose();
      x.dispose();
      x = next;
      // Let timers and abort signals run between iterations.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const [predicted, confidence] = tf.tidy(() => {
      const probs = tf.softmax(model.predict(x));
      return [tf.argMax(probs, 1), tf.max(probs, 1)];
    });
    const result = {
      costs,
      images: x.dataSync() as Float32Array,
      predicted: predicted.dataSync() as Int32Array,
      confidence: confidence.dataSync() as Float32Array,
    };
    tf.dispose([predicted, confidence]);
    return result;
  } finally {
    x.dispose();
  }
}

/** logits[row, targets[row]] for every row. */
function targetLogits(logits: tf.Tensor2D, targets: number[]): tf.Tensor1D {
  const mask = tf.cast(tf.oneHot(tf.tensor1d(targets, "int32"), MNIST_CLASSES), "float32");
  return tf.sum(tf.mul(logits, mask), 1);
}

function rowImage(images: Float32Array, row: number): number[] {
  return Array.from(images.subarray(row * MNIST_PIXELS, (row + 1) * MNIST_PIXELS), (v) => round(v));
}

function checkSettings(s: AdversarialSettings): void {
  const finite = (name: keyof AdversarialSettings): void => {
    if (!Number.isFinite(s[name])) throw new Error(`adversarial ${name} must be a finite number, got ${s[name]}`);
  };
  for (const name of ["noiseMean", "noiseStd", "step", "clampMin", "clampMax", "beta"] as const) finite(name);
  if (!Number.isSafeInteger(s.seed) || s.seed < 0) throw new Error(`adversarial seed must be a non-negative integer, got ${s.seed}`);
  if (!Number.isInteger(s.iterations) || s.iterations < 1) throw new Error(`adversarial iterations must be a positive integer, got ${s.iterations}`);
  if (s.noiseStd < 0) throw new Error(`adversarial noiseStd must be >= 0, got ${s.noiseStd}`);
  if (s.clampMin > s.clampMax) throw new Error(`adversarial clampMin ${s.clampMin} is above clampMax ${s.clampMax}`);
}
