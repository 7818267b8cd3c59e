import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import type { LoadedDataset } from "../../ml/dataset.ts";
import { classificationReport, evaluateInModes, evaluateModel, runInference } from "../../ml/evaluate.ts";
import { buildModel } from "../../ml/models.ts";
import { BN_EPSILON } from "../../ml/model/layers.ts";
import { MNIST_PIXELS } from "../../ml/mnist-files.ts";
import { smallDataset, tempDir, useTestBackend } from "./helpers.ts";

let ds: LoadedDataset;
let cleanup: () => Promise<void>;
before(async () => {
  await useTestBackend();
  const tmp = await tempDir("evaluate");
  cleanup = tmp.cleanup;
  ds = await smallDataset(tmp.dir, { trainSubset: 100, testSubset: 600 });
});
after(() => cleanup());

const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);

test("classification report and confusion matrix match sklearn on a hand-worked example", () => {
  // true 0 0 1 1 2 2 / predicted 0 1 1 1 2 0
  const r = classificationReport([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 0], 4);
  assert.deepEqual(r.confusionMatrix, [
    [1, 1, 0, 0],
    [0, 2, 0, 0],
    [1, 0, 1, 0],
    [0, 0, 0, 0],
  ]);
  close(r.accuracy, 4 / 6, "accuracy");
  const [c0, c1, c2, c3] = r.perClass;
  // class 0: 1 of 2 predicted-0 right, 1 of 2 true-0 found
  assert.deepEqual([c0?.precision, c0?.recall, c0?.f1, c0?.support], [0.5, 0.5, 0.5, 2]);
  // class 1: 2 of 3 predicted-1 right, both true-1 found: F1 = 2 * (2/3) / (5/3) = 0.8
  close(c1?.precision as number, 2 / 3, "precision 1");
  close(c1?.f1 as number, 0.8, "f1 1");
  // class 2: precision 1, recall 0.5, F1 2/3
  close(c2?.f1 as number, 2 / 3, "f1 2");
  // class 3: no examples, never predicted: zeros (sklearn's zero_division=0)
  assert.deepEqual([c3?.precision, c3?.recall, c3?.f1, c3?.support], [0, 0, 0, 0]);
  close(r.macroAvg.precision, (0.5 + 2 / 3 + 1 + 0) / 4, "macro precision");
  close(r.weightedAvg.recall, (2 * 0.5 + 2 * 1 + 2 * 0.5) / 6, "weighted recall");
  assert.throws(() => classificationReport([0, 1], [0]), /2 labels but 1 predictions/);
  assert.throws(() => classificationReport([0], [10]), /outside 0..9/);
});

test("evaluateModel: consistent accuracy, supports and loss, independent of the batch size", async () => {
  const before = tf.memory().numTensors;
  const model = buildModel(
    { arch: "lenet", batchNorm: false, dropout: 0, convActivation: "relu", init: "pytorch", loss: "cross-entropy" },
    0,
  );
  const a = await evaluateModel(model, ds.test, { batchSize: 500 });
  const b = await evaluateModel(model, ds.test, { batchSize: 64 });
  assert.deepEqual(a.confusionMatrix, b.confusionMatrix);
  assert.ok(Math.abs(a.loss - b.loss) < 1e-5, `loss ${a.loss} vs ${b.loss}`);
  assert.equal(a.count, 600);
  const trace = a.confusionMatrix.reduce((s, row, i) => s + (row[i] as number), 0);
  close(a.accuracy, trace / 600, "accuracy = trace / count");
  const supports = new Array(10).fill(0);
  for (const l of ds.test.labels) supports[l]++;
  assert.deepEqual(
    a.perClass.map((c) => c.support),
    supports,
  );
  // Untrained, torch-initialised: near-uniform predictions, loss close to ln 10.
  assert.ok(a.loss > 2.0 && a.loss < 2.7, `untrained loss ${a.loss}`);
  // Plain JSON.
  assert.deepEqual(JSON.parse(JSON.stringify(a)), a);
  model.dispose();
  assert.equal(tf.memory().numTensors, before);
});

/**
 * A LeNet with BatchNorm (after each pool) whose running statistics are far from any batch's, as
 * after a short training: eval mode and batch statistics then disagree.
 */
function lenetWithBatchNorm() {
  const model = buildModel({ arch: "lenet", batchNorm: true, dropout: 0, convActivation: "relu", init: "pytorch", loss: "cross-entropy" }, 5);
  for (const buffer of model.buffers) {
    const size = buffer.variable.size;
    buffer.variable.assign(tf.tensor1d(Float32Array.from({ length: size }, (_, i) => (buffer.name.endsWith("running_mean") ? 0.3 + 0.01 * i : 2.5 + 0.05 * i))));
  }
  // gamma and beta away from 1 and 0, so a wrong channel or a missing scale shows.
  for (const param of model.params.filter((p) => p.name.includes("bn"))) {
    const values = Float32Array.from({ length: param.variable.size }, (_, i) => (param.name.endsWith("gamma") ? 0.5 + 0.03 * i : -0.2 + 0.02 * i));
    param.variable.assign(tf.tensor1d(values));
  }
  return model;
}

test("evaluation modes: a BatchNorm network gives different numbers in eval mode and with batch statistics", async () => {
  const model = lenetWithBatchNorm();
  const before = tf.memory().numTensors;
  const runningBefore = model.buffers.map((buffer) => [...(buffer.variable.dataSync() as Float32Array)]);
  const running = await evaluateModel(model, ds.test, { batchSize: 64 });
  const batch = await evaluateModel(model, ds.test, { batchSize: 64, batchNorm: "batch-statistics" });
  assert.notEqual(running.loss, batch.loss, "the modes differ on a BatchNorm network");
  assert.notDeepEqual(running.confusionMatrix, batch.confusionMatrix);
  // With batch statistics the batch is part of the result; in eval mode it is not.
  const batchOf100 = await evaluateModel(model, ds.test, { batchSize: 100, batchNorm: "batch-statistics" });
  assert.ok(Math.abs(batchOf100.loss - batch.loss) > 1e-6, "batches of 64 and 100 normalise differently");
  const runningOf100 = await evaluateModel(model, ds.test, { batchSize: 100 });
  assert.ok(Math.abs(runningOf100.loss - running.loss) < 1e-5);
  // Evaluating never moves the running statistics (002's train mode would have: we do not).
  assert.deepEqual(model.buffers.map((buffer) => [...(buffer.variable.dataSync() as Float32Array)]), runningBefore);

  // The stage's entry point: the declared mode on top, eval mode beside it.
  const metrics = await evaluateInModes(model, ds.test, { batchNorm: "batch-statistics", batchSize: 64, testEachEpoch: false }, { batchSize: 500 });
  assert.equal(metrics.batchNorm, "batch-statistics");
  assert.equal(metrics.batchSize, 64);
  assert.equal(metrics.accuracy, batch.accuracy);
  assert.equal(metrics.otherMode?.batchNorm, "running-statistics");
  assert.equal(metrics.otherMode?.accuracy, running.accuracy);
  const plain = await evaluateInModes(model, ds.test, undefined);
  assert.equal(plain.batchNorm, "running-statistics");
  assert.equal(plain.otherMode, undefined);
  // Without BatchNorm the modes agree, and no second number is stored.
  const noBn = buildModel({ arch: "lenet", batchNorm: false, dropout: 0, convActivation: "relu", init: "pytorch", loss: "cross-entropy" }, 5);
  const same = await evaluateInModes(noBn, ds.test, { batchNorm: "batch-statistics", batchSize: 64, testEachEpoch: false });
  assert.equal(same.otherMode, undefined);
  assert.deepEqual(same.confusionMatrix, (await evaluateModel(noBn, ds.test)).confusionMatrix);
  noBn.dispose();
  model.dispose();
  assert.ok(tf.memory().numTensors <= before, "no tensors left behind");
});

test("evaluation modes: batch statistics equal a hand computation of BatchNorm over the batch", async () => {
  const model = lenetWithBatchNorm();
  const count = 6;
  const images = ds.test.images.slice(0, count * MNIST_PIXELS);
  const labels = ds.test.labels.slice(0, count);
  // Batches of 4: the first four images together, then the last two on their own.
  const result = await runInference(model, { count, images, labels }, { batchSize: 4, batchNorm: "batch-statistics", keepProbabilities: true });

  /** BatchNorm over NHWC values by hand: per channel, mean and biased variance over N, H, W. */
  const handBatchNorm = (x: Float32Array, channels: number, gamma: Float32Array, beta: Float32Array): Float32Array => {
    const out = new Float32Array(x.length);
    for (let c = 0; c < channels; c++) {
      let sum = 0;
      let n = 0;
      for (let i = c; i < x.length; i += channels) {
        sum += x[i]!;
        n++;
      }
      const mean = sum / n;
      let squares = 0;
      for (let i = c; i < x.length; i += channels) squares += (x[i]! - mean) ** 2;
      const scale = gamma[c]! / Math.sqrt(squares / n + BN_EPSILON);
      for (let i = c; i < x.length; i += channels) out[i] = (x[i]! - mean) * scale + beta[c]!;
    }
    return out;
  };
  const logitsByHand = (start: number, n: number): Float32Array => {
    let h = tf.tensor4d(images.slice(start * MNIST_PIXELS, (start + n) * MNIST_PIXELS), [n, 28, 28, 1]) as tf.Tensor;
    for (const layer of model.layers) {
      let next: tf.Tensor;
      if (layer.summary.type === "BatchNorm") {
        const [gamma, beta] = layer.params.map((p) => p.variable.dataSync() as Float32Array) as [Float32Array, Float32Array];
        const channels = h.shape.at(-1)!;
        next = tf.tensor(handBatchNorm(h.dataSync() as Float32Array, channels, gamma, beta), h.shape);
      } else {
        next = layer.apply(h, { training: false, rng: null });
      }
      h.dispose();
      h = next;
    }
    const logits = h.dataSync() as Float32Array;
    h.dispose();
    return logits;
  };
  const softmax = (logits: Float32Array): number[] => {
    const rows: number[] = [];
    for (let r = 0; r < logits.length / 10; r++) {
      const row = [...logits.subarray(r * 10, r * 10 + 10)];
      const top = Math.max(...row);
      const exps = row.map((value) => Math.exp(value - top));
      const total = exps.reduce((a, b) => a + b, 0);
      rows.push(...exps.map((value) => value / total));
    }
    return rows;
  };
  const expected = [...softmax(logitsByHand(0, 4)), ...softmax(logitsByHand(4, 2))];
  const got = [...result.probabilities!];
  assert.equal(got.length, expected.length);
  for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i]! - expected[i]!) < 1e-4, `probability ${i}: ${got[i]} vs hand ${expected[i]}`);
  // And not what eval mode gives: the running statistics were set far from these batches'.
  const evalMode = await runInference(model, { count, images, labels }, { batchSize: 4, keepProbabilities: true });
  assert.ok([...evalMode.probabilities!].some((value, i) => Math.abs(value - got[i]!) > 1e-3));
  model.dispose();
});
