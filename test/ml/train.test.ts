/**
 * Real training on real MNIST subsets (wasm backend): every architecture learns, a seed
 * reproduces its run exactly, and nothing leaks.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import type { Architecture, ModelConfig, TrainingConfig } from "../../ml/config.ts";
import type { LoadedDataset } from "../../ml/dataset.ts";
import { evaluateModel } from "../../ml/evaluate.ts";
import { type EpochRecord, type ExperimentSpec, type TrainData, cosineLearningRate, epochMetrics, trainExperiment } from "../../ml/train.ts";
import { createOptimizer } from "../../ml/optimizers.ts";
import { smallDataset, tempDir, useTestBackend } from "./helpers.ts";

let ds: LoadedDataset;
let data: TrainData;
let cleanup: () => Promise<void>;
before(async () => {
  await useTestBackend();
  const tmp = await tempDir("train");
  cleanup = tmp.cleanup;
  // 2,500 training images, 500 validation images, 1,000 held-out test images.
  ds = await smallDataset(tmp.dir, { validation: { size: 500, seed: 1 }, trainSubset: 2500, testSubset: 1000 });
  assert.ok(ds.validation, "validation split");
  data = { train: ds.train, validation: ds.validation, background: ds.background };
});
after(() => cleanup());

const model = (arch: Architecture, extra: Partial<ModelConfig> = {}): ModelConfig => ({
  arch,
  batchNorm: false,
  dropout: 0,
  convActivation: "relu",
  init: "pytorch",
  loss: arch === "lenet" ? "log-softmax-nll" : "cross-entropy",
  ...extra,
});
const training = (extra: Partial<TrainingConfig> = {}): TrainingConfig => ({ epochs: 1, batchSize: 64, seed: 0, augmentShift: 0, ...extra });
const adam = { name: "adam", lr: 1e-3, momentum: 0 } as const;

/** A subset of the training split (the first n rows). */
const firstImages = (n: number): TrainData["train"] => ({
  count: n,
  images: ds.train.images.subarray(0, n * 784),
  labels: ds.train.labels.subarray(0, n),
});

const runs: Array<[string, ExperimentSpec]> = [
  ["cnn9 (He init)", { model: model("cnn9", { init: "he-normal" }), optimizer: adam, training: training() }],
  ["conv1", { model: model("conv1"), optimizer: adam, training: training() }],
  ["simple + BatchNorm", { model: model("simple", { batchNorm: true }), optimizer: adam, training: training() }],
  ["lenet + dropout 0.5", { model: model("lenet", { dropout: 0.5 }), optimizer: adam, training: training() }],
  ["textbook", { model: model("textbook"), optimizer: adam, training: training() }],
  [
    "textbook-plus (BatchNorm, dropout, shifts)",
    { model: model("textbook-plus", { batchNorm: true, dropout: 0.4 }), optimizer: adam, training: training({ augmentShift: 2 }) },
  ],
];

for (const [name, spec] of runs) {
  test(`${name}: one epoch on 2,500 images beats chance by far on 1,000 held-out images`, async (t) => {
    const before = tf.memory().numTensors;
    const result = await trainExperiment(spec, data);
    assert.equal(result.history.length, 1);
    const [epoch] = result.history as [EpochRecord];
    assert.ok(Number.isFinite(epoch.trainLoss) && epoch.trainLoss > 0, `train loss ${epoch.trainLoss}`);
    assert.ok(epoch.valAccuracy !== undefined && epoch.valLoss !== undefined, "validation metrics recorded");
    const report = await evaluateModel(result.model, ds.test);
    t.diagnostic(`test accuracy ${(100 * report.accuracy).toFixed(1)}%, ${epoch.imagesPerSecond.toFixed(0)} images/s`);
    assert.ok(report.accuracy > 0.7, `${name}: test accuracy ${report.accuracy}`);
    assert.ok(epoch.valAccuracy > 0.7, `${name}: validation accuracy ${epoch.valAccuracy}`);
    result.model.dispose();
    assert.equal(tf.memory().numTensors, before, "no tensors left after disposing the model");
  });
}

test("the same seed reproduces identical metrics (BatchNorm, dropout and shifts included); another seed differs", async () => {
  const spec: ExperimentSpec = {
    model: model("lenet", { batchNorm: true, dropout: 0.5 }),
    optimizer: { name: "sgd", lr: 0.01, momentum: 0.5 },
    training: training({ epochs: 2, augmentShift: 2, seed: 0 }),
  };
  const small: TrainData = { train: firstImages(640), validation: ds.validation, background: ds.background };
  const strip = (h: EpochRecord[]): unknown[] => h.map(epochMetrics);
  const run = async (seed: number): Promise<{ history: unknown[]; predictions: Int32Array }> => {
    const r = await trainExperiment({ ...spec, training: { ...spec.training, seed } }, small);
    const report = await evaluateModel(r.model, ds.test);
    r.model.dispose();
    return { history: strip(r.history), predictions: Int32Array.from(report.confusionMatrix.flat()) };
  };
  const a = await run(0);
  const b = await run(0);
  assert.deepEqual(a.history, b.history);
  assert.deepEqual(a.predictions, b.predictions);
  const c = await run(1);
  assert.notDeepEqual(a.history, c.history);
});

test("tensor count does not grow over epochs; progress is reported per batch", async () => {
  const base = tf.memory().numTensors;
  const atEpochEnd: number[] = [];
  const progress: Array<{ epoch: number; batch: number; batches: number }> = [];
  const result = await trainExperiment(
    { model: model("simple", { batchNorm: true, dropout: 0.5 }), optimizer: adam, training: training({ epochs: 3, augmentShift: 1 }) },
    { train: firstImages(300), validation: ds.validation, background: ds.background },
    {
      onProgress: (p) => {
        progress.push({ epoch: p.epoch, batch: p.batch, batches: p.batches });
        assert.ok(p.imagesPerSecond > 0 && p.etaSeconds >= 0 && Number.isFinite(p.loss), "progress values");
        if (p.batch === p.batches) atEpochEnd.push(tf.memory().numTensors);
      },
    },
  );
  assert.equal(progress.length, 3 * 5, "300 images / 64 = 5 batches (the last one partial) per epoch");
  assert.deepEqual(progress.at(-1), { epoch: 3, batch: 5, batches: 5 });
  assert.equal(atEpochEnd.length, 3);
  assert.equal(atEpochEnd[1], atEpochEnd[0], "epoch 2 holds as many tensors as epoch 1");
  assert.equal(atEpochEnd[2], atEpochEnd[0], "epoch 3 holds as many tensors as epoch 1");
  result.model.dispose();
  assert.equal(tf.memory().numTensors, base, "model and optimizer state fully freed");
});

test("an AbortSignal stops training between batches and frees everything", async () => {
  const base = tf.memory().numTensors;
  const controller = new AbortController();
  await assert.rejects(
    trainExperiment({ model: model("conv1"), optimizer: adam, training: training({ epochs: 5 }) }, data, {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.batch === 3) controller.abort();
      },
    }),
    { name: "AbortError" },
  );
  assert.equal(tf.memory().numTensors, base);
});

test("bad training settings are rejected before any work", async () => {
  const spec: ExperimentSpec = { model: model("conv1"), optimizer: adam, training: training() };
  await assert.rejects(trainExperiment({ ...spec, training: training({ batchSize: 0 }) }, data), /batchSize must be a positive integer/);
  await assert.rejects(trainExperiment({ ...spec, training: training({ seed: -3 }) }, data), /training.seed must be a non-negative integer/);
  await assert.rejects(
    trainExperiment({ ...spec, model: { ...spec.model, loss: "mse" as ModelConfig["loss"] } }, data),
    /unknown loss "mse"/,
  );
});

test("the declared evaluation: validation follows its BatchNorm mode, a per-epoch test pass is recorded and timed", async () => {
  const spec: ExperimentSpec = {
    model: model("lenet", { batchNorm: true }),
    optimizer: { name: "sgd", lr: 0.01, momentum: 0.5 },
    training: training({ epochs: 2 }),
    evaluation: { batchNorm: "batch-statistics", batchSize: 64, testEachEpoch: true },
  };
  const small: TrainData = { train: firstImages(640), validation: ds.validation, test: ds.test, background: ds.background };
  const result = await trainExperiment(spec, small);
  const last = result.history.at(-1)!;
  // What the loop recorded after the last epoch is what evaluating the final network the same way gives.
  const validation = await evaluateModel(result.model, ds.validation!, { batchNorm: "batch-statistics", batchSize: 64, loss: "log-softmax-nll" });
  const test = await evaluateModel(result.model, ds.test, { batchNorm: "batch-statistics", batchSize: 64, loss: "log-softmax-nll" });
  assert.equal(last.valAccuracy, validation.accuracy);
  assert.ok(Math.abs(last.valLoss! - validation.loss) < 1e-6);
  assert.equal(last.testAccuracy, test.accuracy);
  assert.ok(Math.abs(last.testLoss! - test.loss) < 1e-6);
  const evalMode = await evaluateModel(result.model, ds.validation!, { loss: "log-softmax-nll" });
  assert.notEqual(evalMode.loss, validation.loss, "eval mode would have recorded other validation numbers");
  assert.ok(result.history.every((epoch) => epoch.testAccuracy !== undefined && epoch.testSeconds > 0), "a test pass after every epoch, timed");
  // Timings stay out of the content; the test numbers are content.
  assert.deepEqual(Object.keys(epochMetrics(last)).sort(), ["epoch", "testAccuracy", "testLoss", "trainAccuracy", "trainLoss", "valAccuracy", "valLoss"]);
  result.model.dispose();

  // Off by default: no test numbers, no test time.
  const plain = await trainExperiment({ ...spec, evaluation: undefined, training: training() }, small);
  assert.equal(plain.history[0]!.testAccuracy, undefined);
  assert.equal(plain.history[0]!.testSeconds, 0);
  plain.model.dispose();
  await assert.rejects(trainExperiment(spec, { ...small, test: null }), /testEachEpoch is set, but no test split/);
});

test("selectEpoch best-validation-accuracy keeps the best epoch's weights, BatchNorm statistics included; training itself is unchanged", async () => {
  // A learning rate high enough that validation accuracy peaks at epoch 1 of 3 here (found by trying; checked below).
  const spec: ExperimentSpec = {
    model: model("lenet", { batchNorm: true }),
    optimizer: { name: "sgd", lr: 0.1, momentum: 0.9 },
    training: training({ epochs: 3, seed: 0, selectEpoch: "best-validation-accuracy" }),
  };
  const small: TrainData = { train: firstImages(640), validation: ds.validation, background: ds.background };
  const selected = await trainExperiment(spec, small);
  const accuracies = selected.history.map((epoch) => epoch.valAccuracy!);
  const bestEpoch = accuracies.indexOf(Math.max(...accuracies)) + 1;
  assert.equal(selected.selectedEpoch, bestEpoch);
  assert.ok(bestEpoch < 3, `this fixture must peak before the last epoch to test restoring (validation accuracies ${accuracies.join(", ")})`);
  const evalLoss = "log-softmax-nll" as const;
  const kept = await evaluateModel(selected.model, ds.validation!, { loss: evalLoss });
  assert.equal(kept.accuracy, accuracies[bestEpoch - 1], "the returned network is the best epoch's");

  const last = await trainExperiment({ ...spec, training: { ...spec.training, selectEpoch: "last" } }, small);
  assert.deepEqual(last.history.map(epochMetrics), selected.history.map(epochMetrics), "selection does not change training");
  assert.equal(last.selectedEpoch, 3);
  assert.equal((await evaluateModel(last.model, ds.validation!, { loss: evalLoss })).accuracy, accuracies[2]);
  selected.model.dispose();
  last.model.dispose();
  await assert.rejects(trainExperiment(spec, { ...small, validation: null }), /needs a validation split/);
});

test("the cosine schedule: torch's CosineAnnealingLR per batch, from lr to 0; a run with it differs from a constant rate", async () => {
  assert.equal(cosineLearningRate(0.002, 0, 100), 0.002);
  assert.ok(Math.abs(cosineLearningRate(0.002, 50, 100) - 0.001) < 1e-15);
  assert.ok(Math.abs(cosineLearningRate(0.002, 25, 100) - 0.002 * (1 + Math.SQRT1_2) / 2) < 1e-15);
  assert.ok(cosineLearningRate(0.002, 100, 100) < 1e-18);
  const spec: ExperimentSpec = { model: model("conv1"), optimizer: { ...adam }, training: training({ epochs: 2 }) };
  const small: TrainData = { train: firstImages(320), validation: ds.validation, background: ds.background };
  // Watch the rates the loop sets, on the optimizers' shared base class.
  const probe = createOptimizer(adam, []);
  const base = Object.getPrototypeOf(Object.getPrototypeOf(probe)) as { setLearningRate(lr: number): void };
  probe.dispose();
  const original = base.setLearningRate;
  const rates: number[] = [];
  base.setLearningRate = function (this: unknown, lr: number) {
    rates.push(lr);
    original.call(this, lr);
  };
  let cosine;
  let constant;
  try {
    constant = await trainExperiment(spec, small);
    assert.deepEqual(rates, [], "a constant rate is never changed");
    cosine = await trainExperiment({ ...spec, optimizer: { ...adam, schedule: "cosine" } }, small);
  } finally {
    base.setLearningRate = original;
  }
  // 320 images in batches of 64: 5 steps per epoch, 10 in all, each at its step's rate.
  assert.deepEqual(rates, Array.from({ length: 10 }, (_, step) => cosineLearningRate(adam.lr, step, 10)));
  // The first step runs at the full rate either way, later ones slower: epoch 1 already differs.
  assert.notDeepEqual(cosine.history.map(epochMetrics), constant.history.map(epochMetrics));
  constant.model.dispose();
  cosine.model.dispose();
});
