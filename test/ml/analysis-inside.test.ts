/** Conv filters and activation maps (one file, so the trained fixtures are built once). */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { activationMaps } from "../../ml/analysis/activations.ts";
import { convFilters } from "../../ml/analysis/filters.ts";
import type { ActivationLayer } from "../../ml/analysis/types.ts";
import type { ModelConfig } from "../../ml/config.ts";
import { runInference } from "../../ml/evaluate.ts";
import { type MnistModel, buildModel } from "../../ml/models.ts";
import { BN_EPSILON } from "../../ml/model/layers.ts";
import { type TrainedFixture, trainedFixture } from "./trained-fixture.ts";

let plain: TrainedFixture;
let withBn: TrainedFixture;
before(async () => {
  plain = await trainedFixture("simple");
  withBn = await trainedFixture("simple", { batchNorm: true });
});
after(async () => {
  await plain?.cleanup();
  await withBn?.cleanup();
});

const config = (extra: Partial<ModelConfig>): ModelConfig => ({
  arch: "simple",
  batchNorm: false,
  dropout: 0,
  convActivation: "relu",
  init: "pytorch",
  loss: "cross-entropy",
  ...extra,
});

/** An untrained model of another shape (structure checks need no training). */
function withModel<T>(extra: Partial<ModelConfig>, use: (model: MnistModel) => T): T {
  const model = buildModel(config(extra), 1);
  try {
    return use(model);
  } finally {
    model.dispose();
  }
}

/** Layer `name`'s output for test row `row`, as a plain NHWC array. */
function layerOutput(model: MnistModel, images: Float32Array, row: number, name: string): Float32Array {
  let data = new Float32Array(0);
  tf.tidy(() => {
    const x = tf.tensor4d(images.slice(row * 784, (row + 1) * 784), [1, 28, 28, 1]);
    const found = model.forwardWithActivations(x).activations.find((a) => a.name === name);
    assert.ok(found, `no layer ${name}`);
    data = Float32Array.from(found.tensor.dataSync());
  });
  return data;
}

/** values[c][y][x] == nhwc[0][y][x][c] (up to the 4-decimal rounding). */
function assertRelaid(layer: ActivationLayer, nhwc: Float32Array): void {
  const { channels: C, height: H, width: W } = layer;
  assert.equal(layer.values.length, nhwc.length);
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const got = layer.values[(c * H + y) * W + x] as number;
        const want = nhwc[(y * W + x) * C + c] as number;
        assert.ok(Math.abs(got - want) <= 5e-5 + 1e-6 * Math.abs(want), `${layer.conv} [c${c} y${y} x${x}]: ${got} vs ${want}`);
      }
    }
  }
}

test("filters of simple: [out][in][kh][kw] re-laid from the tfjs kernel", () => {
  const model = plain.model;
  const tensorsBefore = tf.memory().numTensors;
  const result = convFilters(model, { layers: 2 });
  assert.equal(tf.memory().numTensors, tensorsBefore, "tensors leaked");
  assert.equal(result.kind, "filters");
  assert.deepEqual(
    result.layers.map((l) => [l.name, l.outChannels, l.inChannels, l.kernelHeight, l.kernelWidth, l.weights.length]),
    [
      ["conv1", 32, 1, 3, 3, 32 * 9],
      ["conv2", 32, 32, 3, 3, 32 * 32 * 9],
    ],
  );
  const conv2 = result.layers[1];
  assert.ok(conv2);
  const kernel = model.variable("conv2/kernel").arraySync() as number[][][][]; // [kh][kw][in][out]
  for (const [o, i, y, x] of [
    [0, 0, 0, 0],
    [5, 17, 1, 2],
    [31, 31, 2, 2],
    [12, 3, 2, 0],
  ] as const) {
    const want = kernel[y]?.[x]?.[i]?.[o] as number;
    const got = conv2.weights[((o * 32 + i) * 3 + y) * 3 + x] as number;
    assert.ok(Math.abs(got - want) <= 5e-5, `conv2 (out ${o}, in ${i}, ${y}, ${x}): ${got} vs ${want}`);
  }
  const flat = model.variable("conv2/kernel").dataSync() as Float32Array;
  const maxAbs = flat.reduce((m, w) => Math.max(m, Math.abs(w)), 0);
  assert.ok(Math.abs(conv2.maxAbs - maxAbs) <= 5e-5, `maxAbs ${conv2.maxAbs} vs ${maxAbs}`);
  assert.ok(conv2.weights.every((w) => Math.abs(w) <= conv2.maxAbs), "a weight exceeds maxAbs");
  // Asking for more layers than exist returns those there are; fewer returns the first.
  assert.equal(convFilters(model, { layers: 9 }).layers.length, 2);
  assert.deepEqual(convFilters(model, { layers: 1 }).layers, [result.layers[0]]);
});

test("filters of other architectures: conv1 has one conv layer, textbook-plus's come in order", () => {
  withModel({ arch: "conv1" }, (model) => {
    const layers = convFilters(model, { layers: 2 }).layers;
    assert.deepEqual(
      layers.map((l) => [l.name, l.outChannels, l.inChannels, l.kernelHeight, l.kernelWidth]),
      [["conv1", 10, 1, 8, 8]],
    );
  });
  withModel({ arch: "textbook-plus", batchNorm: true }, (model) => {
    assert.deepEqual(
      convFilters(model, { layers: 3 }).layers.map((l) => [l.name, l.outChannels, l.inChannels]),
      [
        ["conv1a", 32, 1],
        ["conv1b", 32, 32],
        ["conv2a", 64, 32],
      ],
    );
  });
  for (const layers of [0, -1, 1.5]) {
    assert.throws(() => convFilters(plain.model, { layers }), new RegExp(`layers .*got ${layers}`));
  }
});

test("activation maps of simple: the ReLU outputs after conv1 and conv2, re-laid [c][h][w]", async () => {
  const { model, dataset } = plain;
  const row = 7;
  const tensorsBefore = tf.memory().numTensors;
  const result = await activationMaps(model, dataset.test, dataset.header.normalize, { row });
  assert.equal(tf.memory().numTensors, tensorsBefore, "tensors leaked");
  assert.equal(result.kind, "activation-maps");
  assert.deepEqual(
    result.layers.map((l) => [l.conv, l.shownAfter, l.height, l.width, l.channels]),
    [
      ["conv1", "relu1", 28, 28, 32],
      ["conv2", "relu2", 14, 14, 32],
    ],
  );
  for (const layer of result.layers) {
    assert.ok(layer.values.every((v) => v >= 0), `${layer.conv}: negative value after ReLU`);
    assert.equal(layer.min, Math.min(...layer.values));
    assert.equal(layer.max, Math.max(...layer.values));
    assert.ok(layer.max > 0, `${layer.conv}: all channels dead`);
    assertRelaid(layer, layerOutput(model, dataset.test.images, row, layer.shownAfter));
  }
  const inference = await runInference(model, dataset.test, { keepProbabilities: true });
  assert.equal(result.image.row, row);
  assert.equal(result.image.label, dataset.test.labels[row]);
  assert.equal(result.image.predicted, inference.predictions[row]);
  const p = (inference.probabilities as Float32Array)[row * 10 + result.image.predicted] as number;
  assert.ok(Math.abs(result.image.confidence - p) <= 1e-4, `confidence ${result.image.confidence} vs ${p}`);
  assert.equal(result.image.pixels.length, 784);

  for (const bad of [-1, dataset.test.count, 2.5]) {
    await assert.rejects(activationMaps(model, dataset.test, dataset.header.normalize, { row: bad }), new RegExp(`row .*got ${bad}`));
  }
});

test("activation maps with BatchNorm show the activation after BN, i.e. relu(bn(conv))", async () => {
  const { model, dataset } = withBn;
  const row = 3;
  const tensorsBefore = tf.memory().numTensors;
  const result = await activationMaps(model, dataset.test, dataset.header.normalize, { row });
  assert.equal(tf.memory().numTensors, tensorsBefore, "tensors leaked");
  assert.deepEqual(
    result.layers.map((l) => [l.conv, l.shownAfter]),
    [
      ["conv1", "relu1"],
      ["conv2", "relu2"],
    ],
  );
  const conv1 = layerOutput(model, dataset.test.images, row, "conv1");
  const [mean, variance, gamma, beta] = ["running_mean", "running_var", "gamma", "beta"].map((v) => model.variable(`bn1/${v}`).dataSync());
  const expected = conv1.map((z, i) => {
    const c = i % 32;
    const bn = ((z - (mean?.[c] as number)) / Math.sqrt((variance?.[c] as number) + BN_EPSILON)) * (gamma?.[c] as number) + (beta?.[c] as number);
    return Math.max(0, bn);
  });
  const shown = result.layers[0];
  assert.ok(shown);
  assertRelaid(shown, expected);
  // Training moved the running statistics, so skipping BN would have shown something else.
  const withoutBn = conv1.map((z) => Math.max(0, z));
  const gap = withoutBn.reduce((m, v, i) => Math.max(m, Math.abs(v - (expected[i] as number))), 0);
  assert.ok(gap > 0.05, `BN made no visible difference (max gap ${gap})`);
});

test("activation maps of other architectures: sigmoid, conv1's single layer, lenet's BN after the pool", async () => {
  const test = plain.dataset.test;
  const normalize = plain.dataset.header.normalize;
  const cases: Array<[Partial<ModelConfig>, Array<[string, string, number, number, number]>]> = [
    [{ convActivation: "sigmoid" }, [["conv1", "sigmoid1", 28, 28, 32], ["conv2", "sigmoid2", 14, 14, 32]]],
    [{ arch: "conv1", batchNorm: true }, [["conv1", "relu1", 11, 11, 10]]],
    [{ arch: "lenet", batchNorm: true }, [["conv1", "relu1", 24, 24, 20], ["conv2", "relu2", 8, 8, 50]]],
    [
      { arch: "textbook-plus", batchNorm: true },
      [
        ["conv1a", "relu1a", 28, 28, 32],
        ["conv1b", "relu1b", 28, 28, 32],
        ["conv2a", "relu2a", 14, 14, 64],
        ["conv2b", "relu2b", 14, 14, 64],
      ],
    ],
  ];
  for (const [extra, want] of cases) {
    const model = buildModel(config(extra), 2);
    try {
      const tensorsBefore = tf.memory().numTensors;
      const result = await activationMaps(model, test, normalize, { row: 0 });
      assert.equal(tf.memory().numTensors, tensorsBefore, `${JSON.stringify(extra)}: tensors leaked`);
      assert.deepEqual(
        result.layers.map((l) => [l.conv, l.shownAfter, l.height, l.width, l.channels]),
        want,
      );
      if (extra.convActivation === "sigmoid") {
        for (const l of result.layers) assert.ok(l.min >= 0 && l.max <= 1, `sigmoid range ${l.min}..${l.max}`);
      }
    } finally {
      model.dispose();
    }
  }
});
