/**
 * Our RMSprop (ml/optimizers.ts, on wasm through the fused update) against torch.optim.RMSprop
 * itself, run by test/reference/rmsprop_reference.py on the same starting weights and the same
 * gradient sequence: the gradients are given, not recomputed, so this compares the optimizers
 * alone. Two inputs: gradients spanning zero to 1e4 (where eps placement, the square average's
 * start and the first step show), and five steps of the `simple` network on one fixed batch of 64
 * real MNIST images at study 002's lr 1e-3.
 *
 * Needs a python3 that imports torch (Debian: apt-get install python3-torch; PYTHON=/path picks
 * the interpreter). Without one the test is skipped, and fails under CI=true.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import type { LoadedDataset } from "../../ml/dataset.ts";
import { meanLoss } from "../../ml/loss.ts";
import { buildModel } from "../../ml/models.ts";
import { createOptimizer } from "../../ml/optimizers.ts";
import { smallDataset, tempDir, useTestBackend } from "./helpers.ts";

const SCRIPT = fileURLToPath(new URL("../reference/rmsprop_reference.py", import.meta.url));

/** The first interpreter that imports torch: $PYTHON, else python3 on PATH, else Debian's own (a pyenv python3 may shadow it). */
function findTorchPython(): { python?: string; tried: string[] } {
  const candidates = process.env.PYTHON ? [process.env.PYTHON] : ["python3", "/usr/bin/python3"];
  for (const python of candidates) {
    const probe = spawnSync(python, ["-c", "import torch"], { encoding: "utf8" });
    if (probe.status === 0) return { python, tried: candidates };
  }
  return { tried: candidates };
}

const found = findTorchPython();
const skip = found.python === undefined && process.env.CI !== "true"
  ? `needs PyTorch: none of ${found.tried.join(", ")} can import torch (apt-get install python3-torch, or set PYTHON)`
  : false;

type Encoded = number[] | { float32: string };
interface TorchRun {
  torch: string;
  hyperparameters: Record<string, unknown>;
  steps: Array<{ params: Encoded[]; square_avg: Encoded[] }>;
}

const encode = (values: Float32Array): Encoded => ({ float32: Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString("base64") });
function decode(array: Encoded): Float32Array {
  if (Array.isArray(array)) return Float32Array.from(array);
  const bytes = Buffer.from(array.float32, "base64");
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

function torchRmsprop(lr: number, params: Float32Array[], grads: Float32Array[][]): TorchRun {
  if (found.python === undefined) {
    throw new Error(`PyTorch is required under CI=true: none of ${found.tried.join(", ")} can import torch; install python3-torch (Debian) or set PYTHON`);
  }
  const input = JSON.stringify({ hyperparameters: { lr }, params: params.map(encode), grads: grads.map((step) => step.map(encode)) });
  const run = spawnSync(found.python, [SCRIPT], { input, encoding: "utf8", maxBuffer: 1 << 30 });
  assert.equal(run.status, 0, `rmsprop_reference.py failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as TorchRun;
}

/** Our optimizer from `params` over `grads`; the parameters after each step. */
function oursRmsprop(lr: number, params: Float32Array[], grads: Float32Array[][]): Float32Array[][] {
  const variables = params.map((p, k) => tf.variable(tf.tensor1d(p), true, `rmsprop-vs-torch-${k}-${Math.random()}`));
  const optimizer = createOptimizer({ name: "rmsprop", lr, momentum: 0 }, variables);
  try {
    return grads.map((step) => {
      const named = Object.fromEntries(step.map((g, k) => [variables[k]!.name, tf.tensor1d(g)]));
      optimizer.step(named);
      tf.dispose(Object.values(named));
      return variables.map((v) => v.dataSync() as Float32Array);
    });
  } finally {
    optimizer.dispose();
    tf.dispose(variables);
  }
}

/** tfjs's own tf.train.rmsprop with torch's alpha and eps: it adds eps inside the square root. */
function tfjsRmsprop(lr: number, params: Float32Array[], grads: Float32Array[][]): Float32Array[][] {
  const variables = params.map((p, k) => tf.variable(tf.tensor1d(p), true, `tfjs-rmsprop-${k}-${Math.random()}`));
  const optimizer = tf.train.rmsprop(lr, 0.99, 0, 1e-8);
  try {
    return grads.map((step) => {
      const named = Object.fromEntries(step.map((g, k) => [variables[k]!.name, tf.tensor1d(g)]));
      optimizer.applyGradients(named);
      tf.dispose(Object.values(named));
      return variables.map((v) => v.dataSync() as Float32Array);
    });
  } finally {
    optimizer.dispose();
    tf.dispose(variables);
  }
}

/** The spacing of float32 values around x (its unit in the last place). */
function ulp(x: number): number {
  return 2 ** (Math.floor(Math.log2(Math.max(Math.abs(x), 2 ** -126))) - 23);
}

interface Agreement {
  differing: number;
  total: number;
  worstAbs: number;
  /** The largest difference in units of the tolerance's ulp. */
  worstUlps: number;
}

/**
 * Both trajectories, step by step. Each step moves a parameter by at most 10·lr (|g| / sqrt(v) ≤
 * 1 / sqrt(1 - alpha)), so after s steps its values lie within M = |p0| + 10·lr·s, and two float32
 * evaluations of the same rule that round differently (torch's CPU kernel fuses v·alpha + (1 -
 * alpha)·g·g into one multiply-add, ours rounds the product first) drift apart by a few ulp(M) per
 * step (measured: at most 2.5 on `simple`, where a step carries p across zero). A different rule
 * (eps inside the root, a square average starting at 1) is off by far more.
 */
function compare(ours: Float32Array[][], start: Float32Array[], torch: TorchRun, lr: number, ulpsPerStep = 4): Agreement[] {
  assert.equal(torch.steps.length, ours.length, "one torch result per step");
  return ours.map((stepOurs, s) => {
    const agreement: Agreement = { differing: 0, total: 0, worstAbs: 0, worstUlps: 0 };
    stepOurs.forEach((mine, k) => {
      const theirs = decode(torch.steps[s]!.params[k]!);
      assert.equal(mine.length, theirs.length, `step ${s + 1}, parameter ${k}: size`);
      for (let i = 0; i < mine.length; i++) {
        const [a, b] = [mine[i]!, theirs[i]!];
        const scale = ulp(Math.max(Math.abs(start[k]![i]!), Math.abs(a), Math.abs(b)) + 10 * lr * (s + 1));
        const units = Math.abs(a - b) / scale;
        agreement.total++;
        if (a !== b) agreement.differing++;
        agreement.worstAbs = Math.max(agreement.worstAbs, Math.abs(a - b));
        agreement.worstUlps = Math.max(agreement.worstUlps, units);
        assert.ok(units <= ulpsPerStep * (s + 1), `step ${s + 1}, parameter ${k}[${i}]: ours ${a}, torch ${b} (${units} ulp of the parameter's scale apart)`);
      }
    });
    return agreement;
  });
}

const report = (agreements: Agreement[]): string =>
  agreements.map((a, s) => `step ${s + 1}: ${a.differing}/${a.total} differ, worst ${a.worstAbs.toExponential(2)} (${a.worstUlps} ulp)`).join("; ");

before(async () => {
  await useTestBackend();
});

test("RMSprop matches torch.optim.RMSprop across gradient scales (lr 0.01, torch's default, and 1e-3, study 002's)", { skip }, (t) => {
  // Zero, tiny (eps dominates: the step is lr·g/(0.1|g| + 1e-8)), typical and huge gradients,
  // changing sign and size between steps; a step of all zeros leaves p alone but decays v.
  const magnitudes = [0, 1e-12, 1e-9, 1e-8, 1e-7, 1e-6, 1e-4, 1e-2, 0.3, 1, 7, 1e4];
  const p0 = Float32Array.from(magnitudes, (_, i) => (i % 3 === 0 ? -1 : 1) * (0.05 + 0.1 * i));
  const grads = [1, -1, 0, 0.5, -3, 1].map((scale, s) => [Float32Array.from(magnitudes, (m, i) => m * scale * (i % 2 === s % 2 ? 1 : -1))]);
  for (const lr of [0.01, 1e-3]) {
    const torch = torchRmsprop(lr, [p0], grads);
    assert.equal(torch.hyperparameters.alpha, 0.99);
    assert.equal(torch.hyperparameters.eps, 1e-8);
    assert.equal(torch.hyperparameters.centered, false);
    assert.equal(torch.hyperparameters.momentum, 0);
    const ours = oursRmsprop(lr, [p0], grads);
    // First step from a zero square average: v = 0.01 g², so p moves by lr·g/(0.1|g| + eps), i.e. 10·lr for |g| ≫ 1e-7.
    const firstMove = Math.abs(ours[0]![0]![9]! - p0[9]!);
    assert.ok(Math.abs(firstMove - 10 * lr) < 1e-6, `first step of a unit gradient moved ${firstMove}, expected 10·lr = ${10 * lr}`);
    t.diagnostic(`torch ${torch.torch}, lr ${lr}: ${report(compare(ours, [p0], torch, lr))}`);
    // The comparison can tell rules apart: eps inside the root shrinks the steps of small gradients.
    assert.throws(() => compare(tfjsRmsprop(lr, [p0], grads), [p0], torch, lr), /ulp of the parameter's scale apart/);
  }
});

test("RMSprop matches torch.optim.RMSprop on `simple`'s gradients for one fixed batch of 64 MNIST images, lr 1e-3", { skip }, async (t) => {
  const temp = await tempDir("rmsprop-torch");
  let data: LoadedDataset;
  try {
    data = await smallDataset(temp.dir, { normalize: null, trainSubset: 64, testSubset: 10 });
  } finally {
    await temp.cleanup();
  }
  const lr = 1e-3;
  const model = buildModel({ arch: "simple", batchNorm: false, dropout: 0, convActivation: "relu", init: "pytorch", loss: "cross-entropy" }, 11);
  const variables = model.trainableVariables();
  const initial = variables.map((v) => Float32Array.from(v.dataSync() as Float32Array));
  const optimizer = createOptimizer({ name: "rmsprop", lr, momentum: 0 }, variables);
  const grads: Float32Array[][] = [];
  const ours: Float32Array[][] = [];
  const losses: number[] = [];
  try {
    for (let step = 0; step < 5; step++) {
      tf.tidy(() => {
        const x = tf.tensor4d(data.train.images.subarray(0, 64 * 784), [64, 28, 28, 1]);
        const y = tf.tensor1d(data.train.labels.subarray(0, 64), "int32");
        const { value, grads: g } = tf.variableGrads(() => meanLoss(model.forward(x, { training: true, rng: null }), y), variables);
        losses.push(value.dataSync()[0]!);
        grads.push(variables.map((v) => Float32Array.from(g[v.name]!.dataSync() as Float32Array)));
        optimizer.step(g);
      });
      ours.push(variables.map((v) => Float32Array.from(v.dataSync() as Float32Array)));
    }
  } finally {
    optimizer.dispose();
    model.dispose();
  }
  assert.ok(losses.at(-1)! < losses[0]!, `the batch's loss fell: ${losses.map((l) => l.toFixed(4)).join(" → ")}`);
  const torch = torchRmsprop(lr, initial, grads);
  t.diagnostic(`torch ${torch.torch}; loss ${losses.map((l) => l.toFixed(4)).join(" → ")}; ${report(compare(ours, initial, torch, lr))}`);
  // What tfjs's own rule would have done with the same gradients: how many parameters end more than 1e-6 away.
  const tfjs = tfjsRmsprop(lr, initial, grads);
  const torchFinal = torch.steps.at(-1)!.params.map(decode);
  const off = tfjs.at(-1)!.reduce((n, p, k) => n + p.filter((v, i) => Math.abs(v - torchFinal[k]![i]!) > 1e-6).length, 0);
  t.diagnostic(`tf.train.rmsprop(lr, 0.99, 0, 1e-8) instead: ${off} of ${torchFinal.reduce((n, p) => n + p.length, 0)} parameters end more than 1e-6 from torch's`);
  assert.throws(() => compare(tfjs, initial, torch, lr), /ulp of the parameter's scale apart/);
});
