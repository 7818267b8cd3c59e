import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { IdxFormatError, parseIdx, readIdxImages, readIdxLabels } from "../../ml/idx.ts";
import { mnistFile } from "../../ml/mnist-files.ts";
import { rawMnist, tempDir } from "./helpers.ts";

let dir: string;
let raw: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ dir, cleanup } = await tempDir("idx"));
  raw = await rawMnist(dir);
});
after(() => cleanup());

test("parses the real MNIST test files", async () => {
  const images = await readIdxImages(join(raw, mnistFile("testImages").name));
  assert.deepEqual([images.count, images.rows, images.cols], [10000, 28, 28]);
  assert.equal(images.pixels.length, 10000 * 784);
  const labels = await readIdxLabels(join(raw, mnistFile("testLabels").name));
  const counts = new Array(10).fill(0);
  for (const l of labels) counts[l]++;
  // EXPERIMENTS.md: test class counts.
  assert.deepEqual(counts, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  // The first test image is a 7.
  assert.equal(labels[0], 7);
});

test("rejects a truncated file, naming it and the shortfall", async () => {
  const path = join(raw, mnistFile("testImages").name);
  const bytes = await readFile(path);
  const cut = join(dir, "cut-images");
  await writeFile(cut, bytes.subarray(0, bytes.length - 100));
  await assert.rejects(readIdxImages(cut), (e: unknown) => {
    assert.ok(e instanceof IdxFormatError);
    assert.match(e.message, /cut-images/);
    assert.match(e.message, /truncated/);
    assert.match(e.message, /100 missing/);
    return true;
  });
  assert.throws(() => parseIdx(bytes.subarray(0, 10), "tiny"), /tiny: truncated header/);
});

test("rejects an oversized file and a wrong magic number", async () => {
  const labels = await readFile(join(raw, mnistFile("testLabels").name));
  const padded = new Uint8Array(labels.length + 3);
  padded.set(labels);
  assert.throws(() => parseIdx(padded, "padded-labels"), /padded-labels: oversized.*3 extra/);
  const corrupted = Uint8Array.from(labels);
  corrupted[2] = 0x0d; // data type "float" instead of unsigned byte
  assert.throws(() => parseIdx(corrupted, "bad-magic"), /bad-magic: wrong magic number 0x00000d01/);
  // A label file where images are expected.
  await assert.rejects(readIdxImages(join(raw, mnistFile("testLabels").name)), /wrong magic number 0x00000801, expected 0x00000803/);
});

test("rejects labels outside 0..9", async () => {
  const labels = Uint8Array.from(await readFile(join(raw, mnistFile("testLabels").name)));
  labels[8 + 5] = 12;
  const path = join(dir, "bad-labels");
  await writeFile(path, labels);
  await assert.rejects(readIdxLabels(path), /label 12 at index 5/);
});
