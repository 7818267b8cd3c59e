/**
 * Each optimizer against numbers worked out by hand from torch.optim's update rules, on a
 * two-element parameter p0 = [1, -2] and the gradients g1 = [0.5, -1], g2 = [0.1, 0.2], g3 = [-0.3, 0.4].
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import type { OptimizerConfig } from "../../ml/config.ts";
import { createOptimizer } from "../../ml/optimizers.ts";
import { useTestBackend } from "./helpers.ts";

before(async () => {
  await useTestBackend();
});

const GRADS = [
  [0.5, -1],
  [0.1, 0.2],
  [-0.3, 0.4],
];

/** Run the optimizer over GRADS from p0 and return p after each step. */
function trajectory(config: OptimizerConfig, grads = GRADS, p0 = [1, -2]): number[][] {
  const p = tf.variable(tf.tensor1d(p0), true, `p-${config.name}-${Math.random()}`);
  const opt = createOptimizer(config, [p]);
  const out: number[][] = [];
  for (const g of grads) {
    const gt = tf.tensor1d(g);
    opt.step({ [p.name]: gt });
    gt.dispose();
    out.push(Array.from(p.dataSync()));
  }
  opt.dispose();
  p.dispose();
  return out;
}

function assertClose(actual: number[][], expected: number[][], tol = 1e-6): void {
  expected.forEach((row, s) =>
    row.forEach((e, i) => {
      const a = actual[s]?.[i] as number;
      assert.ok(Math.abs(a - e) <= tol, `step ${s + 1}, element ${i}: got ${a}, expected ${e}`);
    }),
  );
}

test("SGD: p -= lr * g", () => {
  // lr 0.1: [1, -2] - 0.1 * [0.5, -1] = [0.95, -1.9]; - 0.1 * [0.1, 0.2] = [0.94, -1.92]; - 0.1 * [-0.3, 0.4] = [0.97, -1.96]
  assertClose(trajectory({ name: "sgd", lr: 0.1, momentum: 0 }), [
    [0.95, -1.9],
    [0.94, -1.92],
    [0.97, -1.96],
  ]);
});

test("SGD with momentum: buf = m * buf + g (buf = g at first), p -= lr * buf", () => {
  // m 0.9, lr 0.1: buf1 = [0.5, -1]             -> p1 = [0.95, -1.9]
  //                buf2 = 0.9 * buf1 + g2 = [0.55, -0.7]   -> p2 = [0.895, -1.83]
  //                buf3 = 0.9 * buf2 + g3 = [0.195, -0.23] -> p3 = [0.8755, -1.807]
  assertClose(trajectory({ name: "sgd", lr: 0.1, momentum: 0.9 }), [
    [0.95, -1.9],
    [0.895, -1.83],
    [0.8755, -1.807],
  ]);
});

test("RMSprop: v = 0.99 v + 0.01 g^2, p -= lr * g / (sqrt(v) + 1e-8)", () => {
  // lr 0.01: v1 = [0.0025, 0.01], sqrt = [0.05, 0.1]            -> p1 = [0.9, -1.9]
  //          v2 = [0.002575, 0.0103], sqrt = [0.0507445, 0.1014889]
  //          p2 = p1 - 0.01 * [0.1, 0.2] / sqrt = [0.9 - 0.0197066, -1.9 - 0.0197066]
  assertClose(trajectory({ name: "rmsprop", lr: 0.01, momentum: 0 }), [
    [0.90000002, -1.90000001],
    [0.88029344, -1.91970659],
    [0.93137437, -1.95653426],
  ]);
});

test("RMSprop puts eps outside the square root (tf.train.rmsprop puts it inside)", () => {
  // g = 1e-8: v = 1e-18, sqrt(v) = 1e-9, step = lr * 1e-8 / (1e-9 + 1e-8) = lr / 1.1.
  // With eps inside the root the step would be lr * 1e-8 / sqrt(1e-18 + 1e-8) = lr * 1e-4.
  const [p1] = trajectory({ name: "rmsprop", lr: 0.01, momentum: 0 }, [[1e-8]], [0]);
  assertClose([p1 as number[]], [[-0.01 / 1.1]], 1e-7);
});

test("Adam: bias-corrected moments, p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)", () => {
  // Step 1: m/(1-b1) = g and v/(1-b2) = g^2, so p moves by lr * g / (|g| + eps) = lr * sign(g).
  assertClose(trajectory({ name: "adam", lr: 0.01, momentum: 0 }), [
    [0.99, -1.99],
    [0.98196959, -1.98488974],
    [0.97986246, -1.98354734],
  ]);
});

test("parameters without a gradient are left alone; state is freed on dispose", () => {
  const before = tf.memory().numTensors;
  const init = tf.tensor1d([1]);
  const a = tf.variable(init, true, "opt-a");
  const b = tf.variable(init, true, "opt-b");
  init.dispose();
  const opt = createOptimizer({ name: "adam", lr: 0.1, momentum: 0 }, [a, b]);
  const g = tf.tensor1d([1]);
  opt.step({ [a.name]: g });
  assert.ok((a.dataSync()[0] as number) < 1, "a moved");
  assert.equal(b.dataSync()[0], 1, "b untouched");
  opt.dispose();
  tf.dispose([a, b, g]);
  assert.equal(tf.memory().numTensors, before, "optimizer state freed");
  assert.throws(() => createOptimizer({ name: "sgd", lr: 0.1, momentum: 1 }, []), /momentum must be in \[0, 1\)/);
  assert.throws(() => createOptimizer({ name: "adamw" as "adam", lr: 0.1, momentum: 0 }, []), /unknown optimizer "adamw"/);
  assert.throws(() => createOptimizer({ name: "adam", lr: 0, momentum: 0 }, []), /lr must be a positive number/);
});
