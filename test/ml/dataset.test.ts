import assert from "node:assert/strict";
import { readFile, truncate } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { DatasetConfig } from "../../ml/config.ts";
import { loadDataset, prepareDataset } from "../../ml/dataset.ts";
import { readIdxImages, readIdxLabels } from "../../ml/idx.ts";
import { computeSplitIndices } from "../../ml/split.ts";
import { rawMnist, tempDir } from "./helpers.ts";

let dir: string;
let raw: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ dir, cleanup } = await tempDir("dataset"));
  raw = await rawMnist(dir);
});
after(() => cleanup());

const study002: DatasetConfig = { normalize: null, validation: { size: 10000, seed: 42 }, trainSubset: null, testSubset: null };

test("002's 50k/10k split: disjoint, complete, original order, labels and pixels intact", async () => {
  const out = join(dir, "split-50k");
  const prepared = await prepareDataset(study002, raw, out);
  assert.equal(prepared.header.splits.train.count, 50000);
  assert.equal(prepared.header.splits.validation?.count, 10000);
  assert.equal(prepared.header.splits.test.count, 10000);
  assert.deepEqual(prepared.header.splits.test.classCounts, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);

  const ds = await loadDataset(out);
  const val = ds.validation;
  assert.ok(val);
  const all = new Set([...ds.train.indices, ...val.indices]);
  assert.equal(all.size, 60000, "train and validation are disjoint and cover all 60k");
  assert.ok(ds.train.indices.every((v, i, a) => i === 0 || v > (a[i - 1] as number)), "ascending original order");

  const images = await readIdxImages(join(raw, "train-images-idx3-ubyte"));
  const labels = await readIdxLabels(join(raw, "train-labels-idx1-ubyte"));
  for (const row of [0, 1234, 49999]) {
    const k = ds.train.indices[row] as number;
    assert.equal(ds.train.labels[row], labels[k]);
    for (const p of [0, 300, 400, 783]) {
      assert.equal(ds.train.images[row * 784 + p], Math.fround((images.pixels[k * 784 + p] as number) / 255));
    }
  }
  assert.equal(ds.background, 0);
  assert.equal(ds.test.labels[0], 7);
});

test("the same config reproduces the same files; another seed (0 included) a different split", async () => {
  const a = await prepareDataset(study002, raw, join(dir, "repro-a"));
  const b = await prepareDataset(study002, raw, join(dir, "repro-b"));
  assert.equal(a.files.length, b.files.length);
  for (let i = 0; i < a.files.length; i++) {
    assert.deepEqual(await readFile(a.files[i] as string), await readFile(b.files[i] as string));
  }
  const s42 = computeSplitIndices(study002, 60000, 10000);
  const s0 = computeSplitIndices({ ...study002, validation: { size: 10000, seed: 0 } }, 60000, 10000);
  const s1 = computeSplitIndices({ ...study002, validation: { size: 10000, seed: 1 } }, 60000, 10000);
  assert.notDeepEqual(s0.validation, s42.validation);
  assert.notDeepEqual(s0.validation, s1.validation);
});

test("subsets are seeded shuffles of what remains after the validation split", () => {
  const config: DatasetConfig = { normalize: null, validation: { size: 1000, seed: 5 }, trainSubset: 2500, testSubset: 700 };
  const s = computeSplitIndices(config, 60000, 10000);
  assert.equal(s.train.length, 2500);
  assert.equal(s.test.length, 700);
  const val = new Set(s.validation);
  assert.ok(s.train.every((k) => !val.has(k)));
  // Not simply the first 2500 images.
  assert.ok((s.train[2499] as number) > 10000);
  // Adding a test subset does not move the validation split.
  const noSubset = computeSplitIndices({ ...config, testSubset: null, trainSubset: null }, 60000, 10000);
  assert.deepEqual(noSubset.validation, s.validation);
});

test("normalization: (x/255 - mean) / std, black pixels become the background value", async () => {
  const out = join(dir, "normalized");
  await prepareDataset({ normalize: { mean: 0.1307, std: 0.3081 }, validation: null, trainSubset: 100, testSubset: 100 }, raw, out);
  const ds = await loadDataset(out);
  assert.equal(ds.validation, null);
  assert.ok(Math.abs(ds.background - -0.1307 / 0.3081) < 1e-6);
  let min = Infinity;
  let max = -Infinity;
  for (const v of ds.train.images) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  assert.ok(Math.abs(min - ds.background) < 1e-6);
  assert.ok(Math.abs(max - (1 - 0.1307) / 0.3081) < 1e-5);
});

test("bad configs and damaged stores give clear errors", async () => {
  await assert.rejects(
    prepareDataset({ ...study002, validation: { size: 60000, seed: 1 } }, raw, join(dir, "bad")),
    /validation.size must be an integer in 1..59999/,
  );
  await assert.rejects(
    prepareDataset({ ...study002, trainSubset: 50001 }, raw, join(dir, "bad")),
    /trainSubset must be an integer in 1..50000/,
  );
  await assert.rejects(prepareDataset({ ...study002, normalize: { mean: 0, std: 0 } }, raw, join(dir, "bad")), /std must be > 0/);
  const out = join(dir, "damaged");
  await prepareDataset({ normalize: null, validation: null, trainSubset: 100, testSubset: 100 }, raw, out);
  await truncate(join(out, "test-labels.u8"), 50);
  await assert.rejects(loadDataset(out), /test test-labels.u8 has 50 bytes, header says 100/);
  await assert.rejects(loadDataset(join(dir, "nowhere")), /cannot read dataset header/);
});
