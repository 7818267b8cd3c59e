import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { misclassified, predictedImage, predictionGrid } from "../../ml/analysis/predictions.ts";
import type { PredictedImage } from "../../ml/analysis/types.ts";
import type { Normalization } from "../../ml/config.ts";
import type { DatasetSplit } from "../../ml/dataset.ts";
import { type InferenceResult, runInference } from "../../ml/evaluate.ts";
import { readIdxImages } from "../../ml/idx.ts";
import { MNIST_CLASSES, MNIST_PIXELS, mnistFile } from "../../ml/mnist-files.ts";
import type { MnistModel } from "../../ml/models.ts";
import { rawMnist, tempDir } from "./helpers.ts";
import { type TrainedFixture, trainedFixture } from "./trained-fixture.ts";

let fixture: TrainedFixture;
let model: MnistModel;
let testSplit: DatasetSplit;
let normalize: Normalization | null;
let inference: InferenceResult;
/** The original t10k pixel bytes, to check display pixels against the source rather than ourselves. */
let rawTestPixels: Uint8Array;
let cleanupRaw: () => Promise<void>;

before(async () => {
  fixture = await trainedFixture();
  model = fixture.model;
  testSplit = fixture.dataset.test;
  normalize = fixture.dataset.header.normalize;
  inference = await runInference(model, testSplit, { keepProbabilities: true });
  const tmp = await tempDir("analysis-raw");
  cleanupRaw = tmp.cleanup;
  rawTestPixels = (await readIdxImages(join(await rawMnist(tmp.dir), mnistFile("testImages").name))).pixels;
});
after(async () => {
  await fixture?.cleanup();
  await cleanupRaw?.();
});

const probsOf = (row: number): Float32Array => (inference.probabilities as Float32Array).subarray(row * MNIST_CLASSES, (row + 1) * MNIST_CLASSES);

/** Agrees with an independent runInference pass and with the source MNIST bytes. */
function checkItem(item: PredictedImage): void {
  const { row } = item;
  assert.equal(item.label, testSplit.labels[row], `label of row ${row}`);
  assert.equal(item.mnistIndex, testSplit.indices[row], `mnistIndex of row ${row}`);
  assert.equal(item.predicted, inference.predictions[row], `prediction of row ${row}`);
  const probs = probsOf(row);
  assert.ok(Math.abs(item.confidence - (probs[item.predicted] as number)) <= 1e-4, `confidence of row ${row}`);
  assert.ok(Math.abs(item.trueProbability - (probs[item.label] as number)) <= 1e-4, `trueProbability of row ${row}`);
  assert.equal(item.pixels.length, MNIST_PIXELS);
  const source = rawTestPixels.subarray(item.mnistIndex * MNIST_PIXELS, (item.mnistIndex + 1) * MNIST_PIXELS);
  item.pixels.forEach((p, i) => {
    assert.ok(p >= 0 && p <= 1, `pixel ${i} of row ${row} = ${p}`);
    // 4-decimal rounding plus float32 normalization round-trip error.
    assert.ok(Math.abs(p - (source[i] as number) / 255) <= 6e-5, `pixel ${i} of row ${row}: ${p} vs byte ${source[i]}`);
  });
}

test("prediction grid: count distinct rows, reproducible from the seed, matching inference and the source images", async () => {
  const tensorsBefore = tf.memory().numTensors;
  const grid = await predictionGrid(model, testSplit, normalize, { count: 16, seed: 3 });
  assert.equal(tf.memory().numTensors, tensorsBefore, "tensors leaked");
  assert.equal(grid.kind, "prediction-grid");
  assert.equal(grid.seed, 3);
  assert.equal(grid.items.length, 16);
  const rows = grid.items.map((i) => i.row);
  assert.equal(new Set(rows).size, 16, `rows not distinct: ${rows}`);
  for (const item of grid.items) checkItem(item);

  const again = await predictionGrid(model, testSplit, normalize, { count: 16, seed: 3 });
  assert.deepEqual(again, grid);
  const other = await predictionGrid(model, testSplit, normalize, { count: 16, seed: 4 });
  assert.notDeepEqual(
    other.items.map((i) => i.row),
    rows,
  );
  // A larger grid extends a smaller one (a prefix of the same draw).
  const larger = await predictionGrid(model, testSplit, normalize, { count: 20, seed: 3 });
  assert.deepEqual(
    larger.items.slice(0, 16).map((i) => i.row),
    rows,
  );
});

test("prediction grid can cover the whole split", async () => {
  const grid = await predictionGrid(model, testSplit, normalize, { count: testSplit.count, seed: 0 });
  assert.deepEqual(
    grid.items.map((i) => i.row).sort((a, b) => a - b),
    Array.from({ length: testSplit.count }, (_, i) => i),
  );
});

test("misclassified: the error count and the most confident mistakes first", async () => {
  const wrongRows = Array.from(inference.predictions.keys()).filter((r) => inference.predictions[r] !== testSplit.labels[r]);
  assert.ok(wrongRows.length > 5, `the fixture should make a few mistakes, made ${wrongRows.length}`);
  const tensorsBefore = tf.memory().numTensors;
  const result = await misclassified(model, testSplit, normalize, { count: 5, batchSize: 128 });
  assert.equal(tf.memory().numTensors, tensorsBefore, "tensors leaked");
  assert.equal(result.kind, "misclassified");
  assert.equal(result.testCount, testSplit.count);
  assert.equal(result.errorCount, wrongRows.length);
  assert.equal(result.errorCount, testSplit.count - inference.correct);
  assert.equal(result.items.length, 5);
  for (const item of result.items) {
    checkItem(item);
    assert.notEqual(item.predicted, item.label);
    assert.ok(item.confidence >= 1 / MNIST_CLASSES, `confidence ${item.confidence}`);
    assert.ok(item.trueProbability <= item.confidence);
  }
  const expected = wrongRows
    .map((row) => ({ row, c: probsOf(row)[inference.predictions[row] as number] as number }))
    .sort((a, b) => b.c - a.c || a.row - b.row)
    .slice(0, 5)
    .map((e) => e.row);
  assert.deepEqual(
    result.items.map((i) => i.row),
    expected,
  );
  for (let i = 1; i < result.items.length; i++) {
    assert.ok((result.items[i - 1]?.confidence as number) >= (result.items[i]?.confidence as number), "not sorted by confidence");
  }

  // Asking for more than there are mistakes returns them all.
  const all = await misclassified(model, testSplit, normalize, { count: testSplit.count });
  assert.equal(all.items.length, wrongRows.length);
  assert.deepEqual(all.items.slice(0, 5), result.items);
});

test("options are validated, naming the option and the value", async () => {
  for (const count of [0, -1, 1.5, 501, Number.NaN]) {
    await assert.rejects(predictionGrid(model, testSplit, normalize, { count, seed: 1 }), new RegExp(`count .*got ${count}`));
    await assert.rejects(misclassified(model, testSplit, normalize, { count }), new RegExp(`count .*got ${count}`));
  }
  await assert.rejects(predictionGrid(model, testSplit, normalize, { count: 3, seed: -1 }), /seed .*-1/);
  const aborted = AbortSignal.abort();
  await assert.rejects(misclassified(model, testSplit, normalize, { count: 3, signal: aborted }), { name: "AbortError" });
});

test("predictedImage: arg-max, the true class's probability, display pixels without normalization", () => {
  // Two tiny rows in display space (normalize null): pixel values are the stored values.
  const images = new Float32Array(2 * MNIST_PIXELS);
  images[MNIST_PIXELS + 5] = 1;
  images[MNIST_PIXELS + 6] = 128 / 255;
  const split: DatasetSplit = { count: 2, images, labels: Int32Array.from([4, 7]), indices: Uint32Array.from([900, 17]) };
  const probs = [0.01, 0.02, 0.5, 0.03, 0.3, 0.04, 0.02, 0.05, 0.02, 0.01];
  const item = predictedImage(split, 1, probs, null);
  assert.deepEqual(
    { ...item, pixels: undefined },
    { row: 1, mnistIndex: 17, label: 7, predicted: 2, confidence: 0.5, trueProbability: 0.05, pixels: undefined },
  );
  assert.equal(item.pixels[5], 1);
  assert.equal(item.pixels[6], 0.502);
  assert.equal(item.pixels.filter((p) => p !== 0).length, 2);
  assert.equal(predictedImage(split, 0, probs, null, 4).confidence, 0.3);
  assert.throws(() => predictedImage(split, 2, probs, null), /row .*got 2/);
  assert.throws(() => predictedImage(split, 0, probs.slice(1), null), /10 probabilities, got 9/);
  assert.throws(() => predictedImage(split, 0, probs, null, 10), /predicted .*got 10/);
});
