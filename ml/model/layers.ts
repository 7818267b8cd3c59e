/**
 * The layer primitives the study networks are made of, as plain functions over tf.variables.
 *
 * Why not tfjs-layers: we need PyTorch semantics that tfjs-layers does not give directly —
 * BatchNorm's running variance uses the unbiased batch variance and momentum 0.1 (tfjs: biased,
 * and "momentum" means the opposite), dropout masks must be fresh every step yet reproducible
 * from the experiment seed (a seeded tfjs Dropout layer reuses one mask), and weights start as
 * torch initialises them. Writing the forward pass by hand keeps all of that explicit.
 *
 * Layout: tfjs is NHWC, so a conv kernel is [kh, kw, in, out] and Flatten yields (H, W, C) order
 * where PyTorch's view() yields (C, H, W). For training from scratch this is only a fixed
 * permutation of fc1's inputs: same parameter count, same function class.
 */
import * as tf from "@tensorflow/tfjs";
import type { Activation, WeightInit } from "../config.ts";
import type { Rng } from "../random.ts";
import { initBias, initWeights } from "./init.ts";

/** conv / fc = layers with weights that 002 counts as convolutional / fully connected. */
export type LayerKind = "conv" | "fc" | "other";

export interface LayerSummary {
  name: string;
  type: "Conv2D" | "Dense" | "BatchNorm" | "ReLU" | "Sigmoid" | "MaxPool2D" | "Flatten" | "Dropout";
  kind: LayerKind;
  /** Per-image output shape in tfjs order: [height, width, channels] or [units]. */
  outputShape: number[];
  /** Trainable parameters, counted as PyTorch does (BatchNorm: gamma + beta; running stats are buffers). */
  params: number;
  /** Output units of a conv / fc layer (002's "neurons": channels * H * W, or units); 0 otherwise. */
  neurons: number;
}

export interface NamedVariable {
  /** Stable name used in saved weights, e.g. "conv1/kernel". */
  name: string;
  variable: tf.Variable;
}

export interface ForwardContext {
  training: boolean;
  /** Source of dropout masks; required when training a network with dropout. */
  rng: Rng | null;
  /**
   * Outside training only: BatchNorm normalises each batch with that batch's own statistics (biased
   * variance, as in training) instead of the running ones, and leaves the running ones alone; dropout
   * stays off. This is a PyTorch network evaluated without net.eval(), as 002's loop does, for
   * networks without dropout (002's have none). The results then depend on the batch.
   */
  batchStatistics?: boolean;
}

export interface Layer {
  readonly summary: LayerSummary;
  readonly params: NamedVariable[];
  /** Non-trainable state saved with the weights (BatchNorm running mean / variance). */
  readonly buffers: NamedVariable[];
  apply(x: tf.Tensor, ctx: ForwardContext): tf.Tensor;
}

/** What a layer builder needs: the input shape and where to draw initial weights from. */
export interface BuildContext {
  inputShape: number[];
  init: WeightInit;
  rng: Rng;
  /** Prefix making tfjs variable names unique across models (tfjs registers names globally). */
  scope: string;
  /** No layer with parameters comes before this one: its input is the images, which need no gradient. */
  inputIsData?: boolean;
}

export type LayerBuilder = (ctx: BuildContext) => Layer;

function variable(ctx: BuildContext, name: string, values: Float32Array, shape: number[], trainable = true): NamedVariable {
  const initial = tf.tensor(values, shape, "float32");
  const v = tf.variable(initial, trainable, `${ctx.scope}/${name}`);
  initial.dispose(); // the variable holds its own reference to the data
  return { name, variable: v };
}

function shapeOf(ctx: BuildContext, rank: number, layer: string): number[] {
  if (ctx.inputShape.length !== rank) {
    throw new Error(`layer ${layer} expects a rank-${rank} input per image, got shape [${ctx.inputShape.join(", ")}]`);
  }
  return ctx.inputShape;
}

export interface ConvOptions {
  filters: number;
  kernel: number;
  stride: number;
  /** "same" = PyTorch padding (k-1)/2 for odd k at stride 1; "valid" = padding 0. */
  padding: "same" | "valid";
}

export function conv2d(name: string, o: ConvOptions): LayerBuilder {
  return (ctx) => {
    const [h, w, c] = shapeOf(ctx, 3, name) as [number, number, number];
    if (o.padding === "same" && (o.kernel % 2 === 0 || o.stride !== 1)) {
      throw new Error(`layer ${name}: "same" padding is only PyTorch-equivalent for odd kernels at stride 1`);
    }
    const outH = o.padding === "same" ? h : Math.floor((h - o.kernel) / o.stride) + 1;
    const outW = o.padding === "same" ? w : Math.floor((w - o.kernel) / o.stride) + 1;
    const fanIn = c * o.kernel * o.kernel;
    const fans = { fanIn, fanOut: o.filters * o.kernel * o.kernel };
    const kernel = variable(
      ctx,
      `${name}/kernel`,
      initWeights(ctx.init, o.kernel * o.kernel * c * o.filters, fans, ctx.rng),
      [o.kernel, o.kernel, c, o.filters],
    );
    const bias = variable(ctx, `${name}/bias`, initBias(o.filters, fanIn, ctx.rng), [o.filters]);
    return {
      summary: {
        name,
        type: "Conv2D",
        kind: "conv",
        outputShape: [outH, outW, o.filters],
        params: o.kernel * o.kernel * c * o.filters + o.filters,
        neurons: outH * outW * o.filters,
      },
      params: [kernel, bias],
      buffers: [],
      // On the images, conv + bias add instead of the fused op: the fused op's gradient (a
      // customGrad) always computes the input gradient too, which nothing needs here and which
      // for a 1-channel input runs in wasm's slowest kernel (measured for `simple`: 20 of the 42 ms
      // a step spent in input gradients).
      apply: (x) =>
        ctx.inputIsData === true
          ? tf.add(tf.conv2d(x as tf.Tensor4D, kernel.variable as tf.Tensor4D, o.stride, o.padding), bias.variable)
          : tf.fused.conv2d({
              x: x as tf.Tensor4D,
              filter: kernel.variable as tf.Tensor4D,
              bias: bias.variable,
              strides: o.stride,
              pad: o.padding,
            }),
    };
  };
}

export function dense(name: string, units: number): LayerBuilder {
  return (ctx) => {
    const [inUnits] = shapeOf(ctx, 1, name) as [number];
    const kernel = variable(
      ctx,
      `${name}/kernel`,
      initWeights(ctx.init, inUnits * units, { fanIn: inUnits, fanOut: units }, ctx.rng),
      [inUnits, units],
    );
    const bias = variable(ctx, `${name}/bias`, initBias(units, inUnits, ctx.rng), [units]);
    return {
      summary: { name, type: "Dense", kind: "fc", outputShape: [units], params: inUnits * units + units, neurons: units },
      params: [kernel, bias],
      buffers: [],
      apply: (x) => tf.fused.matMul({ a: x as tf.Tensor2D, b: kernel.variable as tf.Tensor2D, bias: bias.variable }),
    };
  };
}

/** PyTorch BatchNorm defaults: momentum 0.1 (running = 0.9 * running + 0.1 * batch), eps 1e-5. */
export const BN_MOMENTUM = 0.1;
export const BN_EPSILON = 1e-5;

/**
 * BatchNorm2d (rank-3 input: per channel over N, H, W) or BatchNorm1d (rank-1: per unit over N).
 * Training normalises with the batch's biased variance and updates the running variance with the
 * unbiased one, as torch does; evaluation uses the running statistics, or with `batchStatistics`
 * the batch's own (without updating the running ones).
 */
export function batchNorm(name: string): LayerBuilder {
  return (ctx) => {
    const shape = ctx.inputShape;
    const channels = shape[shape.length - 1] as number;
    const gamma = variable(ctx, `${name}/gamma`, new Float32Array(channels).fill(1), [channels]);
    const beta = variable(ctx, `${name}/beta`, new Float32Array(channels), [channels]);
    const runningMean = variable(ctx, `${name}/running_mean`, new Float32Array(channels), [channels], false);
    const runningVar = variable(ctx, `${name}/running_var`, new Float32Array(channels).fill(1), [channels], false);
    const axes = shape.length === 3 ? [0, 1, 2] : [0];
    return {
      summary: { name, type: "BatchNorm", kind: "other", outputShape: [...shape], params: 2 * channels, neurons: 0 },
      params: [gamma, beta],
      buffers: [runningMean, runningVar],
      apply: (x, fctx) => {
        if (!fctx.training && fctx.batchStatistics !== true) {
          return tf.batchNorm(x, runningMean.variable, runningVar.variable, beta.variable, gamma.variable, BN_EPSILON);
        }
        const n = x.size / channels;
        if (n < 2) throw new Error(`layer ${name}: BatchNorm needs more than one value per channel with batch statistics (batch of 1?)`);
        // By hand rather than tf.moments: moments casts x (a full copy on wasm) and computes
        // x - mean once more; reusing `centered` saves two full-size ops forward and backward.
        const mean = tf.mean(x, axes);
        const centered = tf.sub(x, mean);
        const variance = tf.mean(tf.square(centered), axes);
        if (fctx.training) tf.tidy(() => {
          // Not part of the loss: the tape ignores these assignments, gradients are unaffected.
          runningMean.variable.assign(tf.add(tf.mul(runningMean.variable, 1 - BN_MOMENTUM), tf.mul(mean, BN_MOMENTUM)));
          const unbiased = tf.mul(variance, n / (n - 1));
          runningVar.variable.assign(tf.add(tf.mul(runningVar.variable, 1 - BN_MOMENTUM), tf.mul(unbiased, BN_MOMENTUM)));
        });
        // gamma / sqrt(var + eps) is per channel: one full-size multiply instead of two.
        const scale = tf.mul(gamma.variable, tf.rsqrt(tf.add(variance, BN_EPSILON)));
        return tf.add(tf.mul(centered, scale), beta.variable);
      },
    };
  };
}

export function activation(name: string, kind: Activation): LayerBuilder {
  if (kind !== "relu" && kind !== "sigmoid") {
    throw new Error(`layer ${name}: unknown activation "${String(kind)}" (use relu or sigmoid)`);
  }
  return (ctx) => ({
    summary: {
      name,
      type: kind === "relu" ? "ReLU" : "Sigmoid",
      kind: "other",
      outputShape: [...ctx.inputShape],
      params: 0,
      neurons: 0,
    },
    params: [],
    buffers: [],
    apply: kind === "relu" ? (x) => tf.relu(x) : (x) => tf.sigmoid(x),
  });
}

/** MaxPool2d(kernel_size=2): 2x2 windows, stride 2, floor of odd sizes. */
export function maxPool2(name: string): LayerBuilder {
  return (ctx) => {
    const [h, w, c] = shapeOf(ctx, 3, name) as [number, number, number];
    return {
      summary: { name, type: "MaxPool2D", kind: "other", outputShape: [Math.floor(h / 2), Math.floor(w / 2), c], params: 0, neurons: 0 },
      params: [],
      buffers: [],
      apply: (x) => tf.maxPool(x as tf.Tensor4D, 2, 2, "valid"),
    };
  };
}

export function flatten(name: string): LayerBuilder {
  return (ctx) => {
    const units = ctx.inputShape.reduce((a, b) => a * b, 1);
    return {
      summary: { name, type: "Flatten", kind: "other", outputShape: [units], params: 0, neurons: 0 },
      params: [],
      buffers: [],
      apply: (x) => tf.reshape(x, [x.shape[0] as number, units]),
    };
  };
}

/**
 * torch.nn.Dropout(p): in training, zero each unit with probability p and scale survivors by
 * 1 / (1 - p); p = 1 zeroes everything (as torch does). Identity in evaluation.
 * The mask comes from ctx.rng: a fresh mask every step, the same sequence for the same seed.
 */
export function dropout(name: string, p: number): LayerBuilder {
  if (!(p >= 0 && p <= 1)) throw new Error(`layer ${name}: dropout probability must be in [0, 1], got ${p}`);
  return (ctx) => ({
    summary: { name, type: "Dropout", kind: "other", outputShape: [...ctx.inputShape], params: 0, neurons: 0 },
    params: [],
    buffers: [],
    apply: (x, fctx) => {
      if (!fctx.training || p === 0) return x;
      if (!fctx.rng) throw new Error(`layer ${name}: training with dropout needs a random source (ForwardContext.rng)`);
      const scale = p === 1 ? 0 : 1 / (1 - p);
      const mask = new Float32Array(x.size);
      for (let i = 0; i < mask.length; i++) mask[i] = fctx.rng.next() < p ? 0 : scale;
      return tf.mul(x, tf.tensor(mask, x.shape, "float32"));
    },
  });
}
