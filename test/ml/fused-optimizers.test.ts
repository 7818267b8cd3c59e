/**
 * The fused optimizer updates (ml/wasm/optimizer-updates.ts, one wasm pass per parameter) against
 * the tensor formulation in ml/optimizers.ts, both on wasm: every weight and state bit must match,
 * over several steps, for parameters whose sizes hit the 4-wide loop, the scalar tail and both.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import type { OptimizerConfig } from "../../ml/config.ts";
import { createOptimizer } from "../../ml/optimizers.ts";
import { FUSED_UPDATE_KERNELS } from "../../ml/wasm/optimizer-updates.ts";
import { registerWasmTrainingKernels } from "../../ml/wasm/register-training-kernels.ts";
import { selectBackend } from "../../ml/backend.ts";

before(async () => {
  await selectBackend("wasm");
});

const SHAPES = [[7, 5], [3], [4, 4]]; // 35 = 8·4 + 3, 3 (tail only), 16 (vectors only)
const CONFIGS: OptimizerConfig[] = [
  { name: "sgd", lr: 0.01, momentum: 0 },
  { name: "sgd", lr: 0.05, momentum: 0.9 },
  { name: "rmsprop", lr: 0.001, momentum: 0 },
  { name: "adam", lr: 0.001, momentum: 0 },
];

/** Trains SHAPES' parameters for 5 steps of seeded gradients: a digest of every bit, the values, whether all moved. */
function run(config: OptimizerConfig): { digest: string; values: number[]; moved: boolean } {
  const params = SHAPES.map((shape, k) => tf.variable(tf.randomNormal(shape, 0, 1, "float32", 100 + k), true, `p${k}-${Math.random()}`));
  const initial = params.flatMap((p) => [...p.dataSync()]);
  const optimizer = createOptimizer(config, params);
  for (let step = 0; step < 5; step++) {
    // Seeds stay nonzero: tfjs takes seed 0 as "no seed" (Math.random).
    const grads = tf.tidy(() => Object.fromEntries(params.map((p, k) => [p.name, tf.randomNormal(p.shape, 0, 0.5, "float32", 1000 + 10 * step + k)])));
    optimizer.step(grads);
    tf.dispose(Object.values(grads));
  }
  const hash = createHash("sha256");
  const values: number[] = [];
  for (const p of params) {
    const data = p.dataSync() as Float32Array;
    hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    values.push(...data);
  }
  optimizer.dispose();
  tf.dispose(params);
  return { digest: hash.digest("hex"), values, moved: values.every((v, i) => v !== initial[i]) };
}

function withoutFusedKernels<T>(f: () => T): T {
  for (const name of FUSED_UPDATE_KERNELS) tf.unregisterKernel(name, "wasm");
  try {
    return f();
  } finally {
    registerWasmTrainingKernels();
  }
}

test("every fused update kernel is registered for wasm", () => {
  for (const name of FUSED_UPDATE_KERNELS) assert.ok(tf.getKernel(name, "wasm"), name);
});

for (const config of CONFIGS) {
  test(`${config.name} (momentum ${config.momentum}): fused and tensor updates agree bit for bit`, () => {
    const calls = { fused: 0 };
    const fused = (() => {
      // Count the fused kernel's calls, so the test knows the fused path really ran.
      const name = { sgd: config.momentum > 0 ? "SgdMomentumUpdate" : "SgdUpdate", rmsprop: "RmspropUpdate", adam: "AdamUpdate" }[config.name];
      const kernel = tf.getKernel(name, "wasm")!;
      tf.unregisterKernel(name, "wasm");
      tf.registerKernel({ ...kernel, kernelFunc: (args) => (calls.fused++, kernel.kernelFunc(args)) });
      try {
        return run(config);
      } finally {
        tf.unregisterKernel(name, "wasm");
        tf.registerKernel(kernel);
      }
    })();
    assert.equal(calls.fused, 5 * SHAPES.length, "one fused call per parameter and step");
    const tensor = withoutFusedKernels(() => run(config));
    assert.ok(fused.values.every(Number.isFinite));
    assert.ok(fused.moved && tensor.moved, "every parameter element moved");
    assert.equal(fused.digest, tensor.digest, `max difference ${Math.max(...fused.values.map((v, i) => Math.abs(v - tensor.values[i]!)))}`);
  });
}
