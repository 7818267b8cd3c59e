import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import type { Architecture, ModelConfig } from "../../ml/config.ts";
import { EXPECTED_PARAMS, architectureSummary, buildModel } from "../../ml/models.ts";
import { Rng } from "../../ml/random.ts";
import { useTestBackend } from "./helpers.ts";

before(async () => {
  await useTestBackend();
});

const base = (arch: Architecture, extra: Partial<ModelConfig> = {}): ModelConfig => ({
  arch,
  batchNorm: false,
  dropout: 0,
  convActivation: "relu",
  init: "pytorch",
  loss: "cross-entropy",
  ...extra,
});

const values = (name: string, cfg: ModelConfig, seed: number): Float32Array => {
  const m = buildModel(cfg, seed);
  const v = m.variable(name).dataSync() as Float32Array;
  m.dispose();
  return v;
};

test("parameter counts equal EXPERIMENTS.md", () => {
  const paper: Record<string, number> = { cnn9: 18890, conv1: 12760, simple: 799078, lenet: 431080, textbook: 421642 };
  for (const [arch, count] of Object.entries(paper)) {
    assert.equal(EXPECTED_PARAMS[arch as Architecture], count);
  }
  for (const arch of Object.keys(EXPECTED_PARAMS) as Architecture[]) {
    const m = buildModel(base(arch, arch === "cnn9" || arch === "conv1" ? {} : { dropout: 0.5 }), 1);
    assert.equal(m.countParams(), EXPECTED_PARAMS[arch], arch);
    // Counted the torch way and also from the actual variables.
    assert.equal(m.params.reduce((n, p) => n + p.variable.size, 0), EXPECTED_PARAMS[arch], `${arch} variables`);
    m.dispose();
  }
  assert.equal(tf.memory().numTensors, 0, "dispose frees every variable");
});

test("simple's layer summary matches 002 (conv / fc split, neurons, shapes); BatchNorm adds 1,128", () => {
  const m = buildModel(base("simple"), 0);
  const s = m.summary();
  assert.deepEqual(
    [s.totalParams, s.convParams, s.fcParams, s.convNeurons, s.fcNeurons],
    [799078, 9568, 789510, 31360, 510],
  );
  assert.deepEqual(
    s.layers.map((l) => [l.name, l.kind, l.outputShape.join("x"), l.params]),
    [
      ["conv1", "conv", "28x28x32", 320],
      ["relu1", "other", "28x28x32", 0],
      ["pool1", "other", "14x14x32", 0],
      ["conv2", "conv", "14x14x32", 9248],
      ["relu2", "other", "14x14x32", 0],
      ["pool2", "other", "7x7x32", 0],
      ["flatten", "other", "1568", 0],
      ["fc1", "fc", "500", 784500],
      ["relu_fc1", "other", "500", 0],
      ["fc2", "fc", "10", 5010],
    ],
  );
  m.dispose();
  const bn = buildModel(base("simple", { batchNorm: true }), 0);
  assert.equal(bn.countParams(), 800206); // 002's torchsummary with BatchNorm
  assert.deepEqual(
    bn.summary().layers.map((l) => l.name),
    ["conv1", "bn1", "relu1", "pool1", "conv2", "bn2", "relu2", "pool2", "flatten", "fc1", "bn3", "relu_fc1", "fc2"],
  );
  bn.dispose();
  const lenet = buildModel(base("lenet", { batchNorm: true, dropout: 0.5, convActivation: "sigmoid" }), 0);
  assert.deepEqual(
    lenet.summary().layers.map((l) => l.name),
    ["conv1", "sigmoid1", "pool1", "bn1", "conv2", "sigmoid2", "pool2", "bn2", "flatten", "fc1", "relu_fc1", "dropout", "fc2"],
  );
  assert.deepEqual(lenet.summary().layers.find((l) => l.name === "pool2")?.outputShape, [4, 4, 50]);
  lenet.dispose();
  // Without a model to keep: builds, summarises, frees.
  assert.equal(architectureSummary(base("textbook")).fcParams, 402826);
  assert.equal(tf.memory().numTensors, 0);
});

test("initialisation is deterministic per seed (0 included) and follows torch's distributions", () => {
  const cfg = base("lenet");
  assert.deepEqual(values("fc1/kernel", cfg, 0), values("fc1/kernel", cfg, 0));
  assert.notDeepEqual(values("conv1/kernel", cfg, 0), values("conv1/kernel", cfg, 1));

  const maxAbs = (a: Float32Array): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const std = (a: Float32Array): number => Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
  // pytorch: U(+-1/sqrt(fan_in)) for weights and biases; lenet conv2 fan_in = 20 * 5 * 5.
  const bound = 1 / Math.sqrt(500);
  const w = values("conv2/kernel", cfg, 3);
  assert.ok(maxAbs(w) <= bound && maxAbs(w) > 0.99 * bound, `pytorch weight bound: max ${maxAbs(w)}, bound ${bound}`);
  assert.ok(Math.abs(std(w) - bound / Math.sqrt(3)) < 0.02 * bound, `pytorch weight std ${std(w)}`);
  assert.ok(maxAbs(values("conv2/bias", cfg, 3)) <= bound, "pytorch bias bound");
  // he-normal (cnn9): N(0, 2 / fan_in), conv2 fan_in = 8 * 81; bias keeps torch's default.
  const he = values("conv2/kernel", base("cnn9", { init: "he-normal" }), 3);
  assert.ok(Math.abs(std(he) - Math.sqrt(2 / 648)) < 0.03 * Math.sqrt(2 / 648), `he-normal std ${std(he)}`);
  assert.ok(maxAbs(values("conv2/bias", base("cnn9", { init: "he-normal" }), 3)) <= 1 / Math.sqrt(648), "he-normal keeps torch's bias");
  // xavier-uniform: U(+-sqrt(6 / (fan_in + fan_out))), lenet fc1 800 -> 500.
  const xb = Math.sqrt(6 / 1300);
  const xw = values("fc1/kernel", base("lenet", { init: "xavier-uniform" }), 3);
  assert.ok(maxAbs(xw) <= xb && maxAbs(xw) > 0.99 * xb, `xavier bound: max ${maxAbs(xw)}, bound ${xb}`);
});

test("BatchNorm trains on batch statistics and keeps torch's running averages (momentum 0.1, unbiased variance)", () => {
  const m = buildModel(base("lenet", { batchNorm: true }), 0);
  // Every intermediate tensor is freed by the tidy.
  tf.tidy(() => {
    const rng = new Rng(1);
    const x = tf.randomUniform([8, 28, 28, 1], 0, 1, "float32", 5) as tf.Tensor4D;
    // Expected stats of bn1's input (pool1's output) computed from an eval pass of the layers before it.
    const { activations } = m.forwardWithActivations(x);
    const pool1 = activations.find((a) => a.name === "pool1")?.tensor as tf.Tensor4D;
    const { mean, variance } = tf.moments(pool1, [0, 1, 2]);
    const n = 8 * 12 * 12;
    const expectMean = tf.tidy(() => tf.mul(mean, 0.1).dataSync());
    const expectVar = tf.tidy(() => tf.add(0.9, tf.mul(variance, (0.1 * n) / (n - 1))).dataSync());
    tf.tidy(() => m.forward(x, { training: true, rng }));
    const gotMean = m.variable("bn1/running_mean").dataSync();
    const gotVar = m.variable("bn1/running_var").dataSync();
    for (let c = 0; c < 20; c++) {
      assert.ok(Math.abs((gotMean[c] as number) - (expectMean[c] as number)) < 1e-5, `running mean ${c}: ${gotMean[c]} vs ${expectMean[c]}`);
      assert.ok(Math.abs((gotVar[c] as number) - (expectVar[c] as number)) < 1e-4, `running var ${c}: ${gotVar[c]} vs ${expectVar[c]}`);
    }
    // Training-mode output is normalised per channel with the batch statistics: mean 0 and
    // variance var / (var + eps) (gamma 1, beta 0).
    const trainOut = m.layers[3]?.apply(pool1, { training: true, rng }) as tf.Tensor;
    const stats = tf.moments(trainOut, [0, 1, 2]);
    const outMean = stats.mean.dataSync();
    const outVar = stats.variance.dataSync();
    const inVar = variance.dataSync();
    for (let c = 0; c < 20; c++) {
      const v = inVar[c] as number;
      assert.ok(Math.abs(outMean[c] as number) < 1e-4, `normalised mean of channel ${c}: ${outMean[c]}`);
      assert.ok(Math.abs((outVar[c] as number) - v / (v + 1e-5)) < 1e-3, `normalised variance of channel ${c}: ${outVar[c]}`);
    }
  });
  m.dispose();
});

test("dropout: a fresh mask each step, reproducible from the seed, identity in evaluation, p = 1 drops all", () => {
  const m = buildModel(base("simple", { dropout: 0.5 }), 0);
  const x = tf.randomUniform([16, 28, 28, 1], 0, 1, "float32", 9) as tf.Tensor4D;
  const run = (rng: Rng): Float32Array[] =>
    [0, 1].map(() => tf.tidy(() => m.forward(x, { training: true, rng }).dataSync() as Float32Array));
  const [a1, a2] = run(new Rng(7));
  const [b1, b2] = run(new Rng(7));
  assert.deepEqual(a1, b1);
  assert.deepEqual(a2, b2);
  assert.notDeepEqual(a1, a2, "consecutive steps use different masks");
  const e1 = tf.tidy(() => m.predict(x).dataSync());
  const e2 = tf.tidy(() => m.predict(x).dataSync());
  assert.deepEqual(e1, e2);
  assert.throws(() => tf.tidy(() => m.forward(x, { training: true, rng: null })), /needs a random source/);
  m.dispose();

  // p = 1: fc2 sees zeros, so the training output is fc2's bias for every image.
  const all = buildModel(base("lenet", { dropout: 1 }), 0);
  const out = tf.tidy(() => all.forward(x, { training: true, rng: new Rng(1) }).arraySync() as number[][]);
  const bias = Array.from(all.variable("fc2/bias").dataSync());
  for (const row of out) row.forEach((v, i) => assert.ok(Math.abs(v - (bias[i] as number)) < 1e-6, `logit ${i}: ${v} vs bias ${bias[i]}`));
  all.dispose();
  x.dispose();
  assert.equal(tf.memory().numTensors, 0);
});

test("configurations that the studies do not define are rejected clearly", () => {
  assert.throws(() => buildModel(base("cnn9", { dropout: 0.5 }), 0), /cnn9 has a single Linear layer/);
  assert.throws(() => buildModel(base("simple", { dropout: 1.5 }), 0), /dropout probability must be in \[0, 1\], got 1.5/);
  assert.throws(() => buildModel(base("nope" as Architecture), 0), /unknown architecture "nope"/);
  assert.throws(() => buildModel(base("simple", { init: "zeros" as ModelConfig["init"] }), 0), /unknown weight init "zeros"/);
  assert.throws(() => buildModel(base("simple"), -1), /model seed must be a non-negative integer/);
  assert.equal(tf.memory().numTensors, 0, "a failed build leaves no variables behind");
});
