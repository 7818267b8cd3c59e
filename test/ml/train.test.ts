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
import { type EpochRecord, type ExperimentSpec, type TrainData, epochMetrics, trainExperiment } from "../../ml/train.ts";
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
