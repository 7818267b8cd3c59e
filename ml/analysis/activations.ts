/**
 * Feature maps of one test image: what each conv layer's channels respond to.
 */
import * as tf from "@tensorflow/tfjs";
import type { Normalization } from "../config.ts";
import type { DatasetSplit } from "../dataset.ts";
import { MNIST_IMAGE_HEIGHT, MNIST_IMAGE_WIDTH } from "../mnist-files.ts";
import type { LayerSummary, MnistModel } from "../models.ts";
import { inputImage, round } from "./pixels.ts";
import { checkRow, predictedImage } from "./predictions.ts";
import type { ActivationLayer, ActivationMapsResult } from "./types.ts";

/** For every conv layer, the output of its activation (after any BatchNorm) for test row `row`. */
export async function activationMaps(
  model: MnistModel,
  test: DatasetSplit,
  normalize: Normalization | null,
  options: { row: number },
): Promise<ActivationMapsResult> {
  checkRow(test, options.row, "row");
  const summaries = model.layers.map((l) => l.summary);
  // Everything is read synchronously, so one tidy frees the input and every layer's output
  // (results leave it by assignment: tidy's return type only admits tensors).
  const layers: ActivationLayer[] = [];
  let probabilities: ArrayLike<number> = [];
  tf.tidy(() => {
    const x = tf.tensor4d(inputImage(test.images, options.row), [1, MNIST_IMAGE_HEIGHT, MNIST_IMAGE_WIDTH, 1]);
    const { logits, activations } = model.forwardWithActivations(x);
    summaries.forEach((conv, i) => {
      if (conv.kind !== "conv") return;
      const shown = shownLayer(summaries, i);
      const tensor = activations[shown]?.tensor;
      if (!tensor) throw new Error(`activationMaps: no output for layer ${summaries[shown]?.name ?? shown}`);
      layers.push(channelMaps(conv.name, summaries[shown]?.name ?? conv.name, tensor));
    });
    probabilities = tf.softmax(logits).dataSync() as Float32Array;
  });
  return { kind: "activation-maps", image: predictedImage(test, options.row, probabilities, normalize), layers };
}

/**
 * Index of the layer to show for the conv at `convIndex`: the activation right after it, looking
 * through BatchNorm only. Anything else (pool, flatten, the next conv) ends the search and the
 * conv's own output is shown, so the map always has the conv's height, width and channels.
 */
function shownLayer(summaries: LayerSummary[], convIndex: number): number {
  for (let j = convIndex + 1; j < summaries.length; j++) {
    const type = summaries[j]?.type;
    if (type === "ReLU" || type === "Sigmoid") return j;
    if (type !== "BatchNorm") break;
  }
  return convIndex;
}

/** NHWC [1, h, w, c] -> [c][h][w], so each channel's map is one contiguous image. */
function channelMaps(conv: string, shownAfter: string, tensor: tf.Tensor): ActivationLayer {
  const [, height, width, channels] = tensor.shape as [number, number, number, number];
  const data = tensor.dataSync() as Float32Array;
  const values = new Array<number>(data.length);
  let min = Infinity;
  let max = -Infinity;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        const v = data[(y * width + x) * channels + c] as number;
        if (v < min) min = v;
        if (v > max) max = v;
        values[(c * height + y) * width + x] = round(v);
      }
    }
  }
  return { conv, shownAfter, channels, height, width, values, min: round(min), max: round(max) };
}
