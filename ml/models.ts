/**
 * buildModel(config, seed): one of the study networks as a functional model over tf.variables.
 *
 * The model always outputs logits (pre-softmax). For `lenet` the study returns log_softmax and
 * trains with NLL; log_softmax is monotone and NLL(log_softmax(z)) = cross-entropy(z), so
 * predictions and losses are identical — the loss function (ml/loss.ts) applies the log-softmax.
 *
 * Variables are registered with tfjs under a per-model scope ("m<N>/conv1/kernel") because tfjs
 * rejects two variables with one name; saved weights use the stable names ("conv1/kernel").
 */
import * as tf from "@tensorflow/tfjs";
import type { ModelConfig } from "./config.ts";
import { MNIST_CLASSES, MNIST_IMAGE_HEIGHT, MNIST_IMAGE_WIDTH } from "./mnist-files.ts";
import { architectureLayers } from "./model/architectures.ts";
import type { ForwardContext, Layer, LayerSummary, NamedVariable } from "./model/layers.ts";
import { type ParameterSplit, splitParameters } from "./model/summary.ts";
import { Rng, assertSeed, deriveSeed } from "./random.ts";

export type { ForwardContext, LayerKind, LayerSummary, NamedVariable } from "./model/layers.ts";
export { EXPECTED_PARAMS } from "./model/architectures.ts";

export const INPUT_SHAPE = [MNIST_IMAGE_HEIGHT, MNIST_IMAGE_WIDTH, 1] as const;

let modelCounter = 0;

/** The layers and 002's conv / fc split of parameters and neurons (ml/model/summary.ts). */
export interface ModelSummary extends ParameterSplit {
  layers: LayerSummary[];
}

export class MnistModel {
  readonly layers: readonly Layer[];
  private disposed = false;

  constructor(
    readonly config: ModelConfig,
    readonly seed: number,
    layers: Layer[],
  ) {
    this.layers = layers;
  }

  /** Trainable variables, in layer order. */
  get params(): NamedVariable[] {
    return this.layers.flatMap((l) => l.params);
  }

  /** Non-trainable state (BatchNorm running statistics). */
  get buffers(): NamedVariable[] {
    return this.layers.flatMap((l) => l.buffers);
  }

  /** Everything that is saved: params then buffers. */
  get allVariables(): NamedVariable[] {
    return [...this.params, ...this.buffers];
  }

  trainableVariables(): tf.Variable[] {
    return this.params.map((p) => p.variable);
  }

  countParams(): number {
    return this.layers.reduce((n, l) => n + l.summary.params, 0);
  }

  summary(): ModelSummary {
    const layers = this.layers.map((l) => ({ ...l.summary, outputShape: [...l.summary.outputShape] }));
    return { layers, ...splitParameters(layers) };
  }

  /** Logits [batch, 10] for images [batch, 28, 28, 1]. Caller owns the result (use inside tf.tidy). */
  forward(x: tf.Tensor4D, ctx: ForwardContext = { training: false, rng: null }): tf.Tensor2D {
    this.assertUsable(x);
    let h: tf.Tensor = x;
    for (const layer of this.layers) h = layer.apply(h, ctx);
    return h as tf.Tensor2D;
  }

  /** Evaluation-mode logits. */
  predict(x: tf.Tensor4D): tf.Tensor2D {
    return this.forward(x, { training: false, rng: null });
  }

  /**
   * Evaluation-mode forward pass that also returns every layer's output, by layer name (for
   * activation maps: e.g. "relu1" is conv1's feature map after its activation).
   * Caller owns all returned tensors.
   */
  forwardWithActivations(x: tf.Tensor4D): { logits: tf.Tensor2D; activations: Array<{ name: string; tensor: tf.Tensor }> } {
    this.assertUsable(x);
    const activations: Array<{ name: string; tensor: tf.Tensor }> = [];
    let h: tf.Tensor = x;
    for (const layer of this.layers) {
      h = layer.apply(h, { training: false, rng: null });
      activations.push({ name: layer.summary.name, tensor: h });
    }
    return { logits: h as tf.Tensor2D, activations };
  }

  /** A variable by its stable name, e.g. "conv1/kernel" ([kh, kw, in, out]). */
  variable(name: string): tf.Variable {
    const found = this.allVariables.find((v) => v.name === name);
    if (!found) {
      throw new Error(`model ${this.config.arch} has no variable "${name}" (has: ${this.allVariables.map((v) => v.name).join(", ")})`);
    }
    return found.variable;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of this.allVariables) v.variable.dispose();
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  private assertUsable(x: tf.Tensor): void {
    if (this.disposed) throw new Error(`model ${this.config.arch} was disposed`);
    const [, h, w, c] = x.shape;
    if (x.rank !== 4 || h !== INPUT_SHAPE[0] || w !== INPUT_SHAPE[1] || c !== INPUT_SHAPE[2]) {
      throw new Error(`model ${this.config.arch} expects images [batch, 28, 28, 1], got [${x.shape.join(", ")}]`);
    }
  }
}

/** Build `config`'s network with weights initialised deterministically from `seed`. */
export function buildModel(config: ModelConfig, seed: number): MnistModel {
  assertSeed(seed, "model seed");
  const builders = architectureLayers(config);
  const rng = new Rng(deriveSeed(seed, "init"));
  const scope = `m${++modelCounter}`;
  let inputShape: number[] = [...INPUT_SHAPE];
  const layers: Layer[] = [];
  try {
    for (const build of builders) {
      const inputIsData = layers.every((l) => l.params.length === 0);
      const layer = build({ inputShape, init: config.init, rng, scope, inputIsData });
      layers.push(layer);
      inputShape = layer.summary.outputShape;
    }
  } catch (error) {
    for (const l of layers) for (const v of [...l.params, ...l.buffers]) v.variable.dispose();
    throw error;
  }
  const last = layers[layers.length - 1];
  if (last?.summary.outputShape.length !== 1 || last.summary.outputShape[0] !== MNIST_CLASSES) {
    throw new Error(`arch ${config.arch} does not end in ${MNIST_CLASSES} logits`);
  }
  return new MnistModel(config, seed, layers);
}

/** The layer summary of an architecture without keeping a model around (e.g. for a summary stage). */
export function architectureSummary(config: ModelConfig): ModelSummary {
  const model = buildModel(config, 0);
  try {
    return model.summary();
  } finally {
    model.dispose();
  }
}
