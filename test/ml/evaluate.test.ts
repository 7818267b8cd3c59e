import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import type { LoadedDataset } from "../../ml/dataset.ts";
import { classificationReport, evaluateModel } from "../../ml/evaluate.ts";
import { buildModel } from "../../ml/models.ts";
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
