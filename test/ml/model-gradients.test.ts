/**
 * The training gradients of every architecture, as the training loop computes them (buildModel,
 * forward in training mode, the study's loss, tf.variableGrads), on the wasm backend with our
 * kernels against the pure-JS cpu backend, on a batch of real MNIST images. The per-kernel tests
 * (wasm-kernels.test.ts) check each kernel; this checks that the model code takes only correct
 * paths (the first conv's unfused formulation, Dense's transposed products, BatchNorm, dropout,
 * sigmoid, pooling) and that they compose.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import type { ModelConfig } from "../../ml/config.ts";
import type { LoadedDataset } from "../../ml/dataset.ts";
import { meanLoss } from "../../ml/loss.ts";
import { buildModel } from "../../ml/models.ts";
import { Rng } from "../../ml/random.ts";
import { selectBackend } from "../../ml/backend.ts";
import { smallDataset, tempDir } from "./helpers.ts";

const BATCH = 12; // not a multiple of 8: XNNPACK's tiles get remainders
let data: LoadedDataset;
let cleanup: () => Promise<void>;

before(async () => {
  await selectBackend("wasm"); // registers our kernels, and makes wasm selectable below
  const temp = await tempDir("model-grads");
  cleanup = temp.cleanup;
  data = await smallDataset(temp.dir, { trainSubset: BATCH, testSubset: 10 });
});
after(async () => cleanup());

const base: ModelConfig = { arch: "simple", batchNorm: false, dropout: 0, convActivation: "relu", init: "pytorch", loss: "cross-entropy" };
const configs: Array<Partial<ModelConfig>> = [
  { arch: "simple", batchNorm: true },
  { arch: "lenet", dropout: 0.5, loss: "log-softmax-nll" },
  { arch: "lenet", batchNorm: true, convActivation: "sigmoid" },
  { arch: "textbook" },
  { arch: "cnn9", init: "he-normal" },
  { arch: "conv1" },
];

/** Loss and every trainable variable's gradient, in the model's variable order. */
async function gradientsOn(backend: "wasm" | "cpu", config: ModelConfig): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  await tf.ready();
  const model = buildModel(config, 3);
  try {
    return tf.tidy(() => {
      const x = tf.tensor4d(data.train.images.subarray(0, BATCH * 784), [BATCH, 28, 28, 1]);
      const y = tf.tensor1d(data.train.labels.subarray(0, BATCH), "int32");
      const rng = new Rng(11); // the same dropout masks on both backends
      const { value, grads } = tf.variableGrads(
        () => meanLoss(model.forward(x, { training: true, rng }), y, config.loss),
        model.trainableVariables(),
      );
      return [value, ...model.trainableVariables().map((v) => grads[v.name]!)].map((t) => Float32Array.from(t.dataSync()));
    });
  } finally {
    model.dispose();
  }
}

for (const extra of configs) {
  const config = { ...base, ...extra };
  test(`${JSON.stringify(extra)}: wasm training gradients equal cpu's`, async () => {
    const wasm = await gradientsOn("wasm", config);
    const cpu = await gradientsOn("cpu", config);
    assert.equal(wasm.length, cpu.length);
    assert.ok(cpu[0]![0]! > 0.5, `an untrained network's loss: ${cpu[0]![0]}`);
    const largest = (values: Float32Array): number => values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const modelScale = Math.max(...cpu.slice(1).map(largest));
    wasm.forEach((got, i) => {
      const want = cpu[i]!;
      let worst = 0;
      for (let k = 0; k < want.length; k++) worst = Math.max(worst, Math.abs(got[k]! - want[k]!));
      // float32 sums in a different order: 2e-4 of the tensor's largest entry, plus 1e-5 of the
      // model's largest gradient. The floor is for gradients that are 0 in real arithmetic, where
      // both backends return rounding noise: a conv bias followed by BatchNorm (BatchNorm removes
      // any constant shift), 5e-8 on cpu and 2.4e-6 on wasm for `simple` (model's largest: 0.47).
      const tolerance = 2e-4 * largest(want) + 1e-5 * modelScale;
      assert.ok(worst <= tolerance, `tensor ${i} (${want.length} values): max |wasm - cpu| ${worst} vs max |cpu| ${largest(want)}, model ${modelScale}`);
    });
  });
}
