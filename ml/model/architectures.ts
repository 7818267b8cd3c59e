/**
 * The layer lists of each architecture, following the studies in /work/shared/seeds (PyTorch
 * notation in EXPERIMENTS.md). Variants come from ModelConfig:
 *  - batchNorm: where the study placed it. simple (002): after each conv and after fc1, before the
 *    ReLU. lenet (003): after each conv block's max-pool. cnn9 / conv1 / textbook never used
 *    BatchNorm in their studies; for them we use 002's placement (after each conv and any hidden
 *    fc, before the activation), the usual one.
 *  - dropout: after fc1's activation (003). cnn9 and conv1 have no hidden fc layer, so a dropout
 *    there is undefined and rejected.
 *  - convActivation: the activation after the conv layers (003's sigmoid variant); fc layers keep ReLU.
 */
import type { ModelConfig } from "../config.ts";
import { type LayerBuilder, activation, batchNorm, conv2d, dense, dropout, flatten, maxPool2 } from "./layers.ts";

type Arch = ModelConfig["arch"];

/** Trainable parameter counts without BatchNorm (EXPERIMENTS.md; tests check buildModel against them). */
export const EXPECTED_PARAMS: Record<Arch, number> = {
  cnn9: 18_890,
  conv1: 12_760,
  simple: 799_078,
  lenet: 431_080,
  textbook: 421_642,
  "textbook-plus": 467_818,
  "textbook-hints": 274_826,
};

export function architectureLayers(config: ModelConfig): LayerBuilder[] {
  const bn = (name: string): LayerBuilder[] => (config.batchNorm ? [batchNorm(name)] : []);
  const act = (name: string): LayerBuilder => activation(`${config.convActivation === "relu" ? "relu" : "sigmoid"}${name}`, config.convActivation);
  const noHiddenFc = (): void => {
    if (config.dropout > 0) {
      throw new Error(`arch ${config.arch} has a single Linear layer: "dropout after fc1's activation" does not apply (set dropout 0)`);
    }
  };
  const head = (units: number, bnName: string): LayerBuilder[] => [
    flatten("flatten"),
    dense("fc1", units),
    ...bn(bnName),
    activation("relu_fc1", "relu"),
    ...(config.dropout > 0 ? [dropout("dropout", config.dropout)] : []),
    dense("fc2", 10),
  ];

  switch (config.arch) {
    case "cnn9":
      noHiddenFc();
      return [
        conv2d("conv1", { filters: 8, kernel: 9, stride: 1, padding: "same" }),
        ...bn("bn1"),
        act("1"),
        maxPool2("pool1"),
        conv2d("conv2", { filters: 16, kernel: 9, stride: 1, padding: "same" }),
        ...bn("bn2"),
        act("2"),
        maxPool2("pool2"),
        flatten("flatten"),
        dense("fc", 10),
      ];
    case "conv1":
      noHiddenFc();
      return [
        conv2d("conv1", { filters: 10, kernel: 8, stride: 2, padding: "valid" }),
        ...bn("bn1"),
        act("1"),
        flatten("flatten"),
        dense("fc", 10),
      ];
    case "simple":
      return [
        conv2d("conv1", { filters: 32, kernel: 3, stride: 1, padding: "same" }),
        ...bn("bn1"),
        act("1"),
        maxPool2("pool1"),
        conv2d("conv2", { filters: 32, kernel: 3, stride: 1, padding: "same" }),
        ...bn("bn2"),
        act("2"),
        maxPool2("pool2"),
        ...head(500, "bn3"),
      ];
    case "lenet":
      return [
        conv2d("conv1", { filters: 20, kernel: 5, stride: 1, padding: "valid" }),
        act("1"),
        maxPool2("pool1"),
        ...bn("bn1"),
        conv2d("conv2", { filters: 50, kernel: 5, stride: 1, padding: "valid" }),
        act("2"),
        maxPool2("pool2"),
        ...bn("bn2"),
        // 003's BatchNorm variants have no BatchNorm1d after fc1.
        flatten("flatten"),
        dense("fc1", 500),
        activation("relu_fc1", "relu"),
        ...(config.dropout > 0 ? [dropout("dropout", config.dropout)] : []),
        dense("fc2", 10),
      ];
    case "textbook":
      return [
        conv2d("conv1", { filters: 32, kernel: 3, stride: 1, padding: "same" }),
        ...bn("bn1"),
        act("1"),
        maxPool2("pool1"),
        conv2d("conv2", { filters: 64, kernel: 3, stride: 1, padding: "same" }),
        ...bn("bn2"),
        act("2"),
        maxPool2("pool2"),
        ...head(128, "bn3"),
      ];
    case "textbook-plus":
      return textbookPlus(bn, act, head);
    case "textbook-hints":
      return textbookHints(bn, act, head);
    default:
      throw new Error(`unknown architecture "${String(config.arch)}": use cnn9, conv1, simple, lenet, textbook, textbook-plus or textbook-hints`);
  }
}

/**
 * textbook-plus: our answer to 004's closing challenge ("Can you reach 99.5%?").
 *
 * The textbook net with each conv doubled into a VGG-style block of two 3x3 convolutions (a 5x5
 * receptive field per block at the cost of two 3x3s, plus an extra non-linearity):
 *   [conv3x3(32) BN ReLU, conv3x3(32) BN ReLU, maxpool2]  28 -> 14
 *   [conv3x3(64) BN ReLU, conv3x3(64) BN ReLU, maxpool2]  14 -> 7
 *   flatten 3136 -> fc1 128 BN ReLU -> dropout -> fc2 10
 * 467,818 weights without BatchNorm (+ 640 BN gamma/beta with it).
 * Intended settings (what the experiment should use): batchNorm true, dropout 0.4, augmentShift 2
 * (random translations of up to 2 px are the single most effective regulariser for MNIST), Adam
 * lr 1e-3, ~10-15 epochs, normalize 0.1307 / 0.3081. About 6x the compute of `simple` per image.
 */
function textbookPlus(
  bn: (name: string) => LayerBuilder[],
  act: (suffix: string) => LayerBuilder,
  head: (units: number, bnName: string) => LayerBuilder[],
): LayerBuilder[] {
  const block = (i: number, filters: number): LayerBuilder[] => [
    conv2d(`conv${i}a`, { filters, kernel: 3, stride: 1, padding: "same" }),
    ...bn(`bn${i}a`),
    act(`${i}a`),
    conv2d(`conv${i}b`, { filters, kernel: 3, stride: 1, padding: "same" }),
    ...bn(`bn${i}b`),
    act(`${i}b`),
    maxPool2(`pool${i}`),
  ];
  return [...block(1, 32), ...block(2, 64), ...head(128, "bn_fc1")];
}

/**
 * textbook-hints: 004's challenge taken at its word — "1. Add a third convolutional block (128
 * filters) 2. Use 5×5 filters instead of 3×3 3. Add dropout layers":
 *   [conv5x5(32)  BN ReLU maxpool2]  28 -> 14
 *   [conv5x5(64)  BN ReLU maxpool2]  14 -> 7
 *   [conv3x3(128) BN ReLU maxpool2]   7 -> 3
 *   flatten 1152 -> fc1 128 BN ReLU -> dropout -> fc2 10
 * The third block keeps 3×3: on a 7×7 map most taps of a 5×5 kernel fall on the zero padding, and
 * it would cost 2.8× the block's arithmetic (10.0 M multiply-adds per image instead of 3.6 M, on
 * top of 10.0 M for conv2). 274,826 weights without BatchNorm (+ 704 BN gamma/beta with it).
 */
function textbookHints(
  bn: (name: string) => LayerBuilder[],
  act: (suffix: string) => LayerBuilder,
  head: (units: number, bnName: string) => LayerBuilder[],
): LayerBuilder[] {
  const block = (i: number, filters: number, kernel: number): LayerBuilder[] => [
    conv2d(`conv${i}`, { filters, kernel, stride: 1, padding: "same" }),
    ...bn(`bn${i}`),
    act(`${i}`),
    maxPool2(`pool${i}`),
  ];
  return [...block(1, 32, 5), ...block(2, 64, 5), ...block(3, 128, 3), ...head(128, "bn_fc1")];
}
