import assert from "node:assert/strict";
import { readFile, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import type { ModelConfig } from "../../ml/config.ts";
import { buildModel } from "../../ml/models.ts";
import { Rng } from "../../ml/random.ts";
import { loadModel, saveModel } from "../../ml/weights.ts";
import { tempDir, useTestBackend } from "./helpers.ts";

let dir: string;
let cleanup: () => Promise<void>;
before(async () => {
  await useTestBackend();
  ({ dir, cleanup } = await tempDir("weights"));
});
after(() => cleanup());

const config: ModelConfig = { arch: "lenet", batchNorm: true, dropout: 0.5, convActivation: "relu", init: "xavier-uniform", loss: "log-softmax-nll" };

test("save then load restores every weight and BatchNorm statistic: identical predictions", async () => {
  const model = buildModel(config, 11);
  const x = tf.randomUniform([4, 28, 28, 1], 0, 1, "float32", 3) as tf.Tensor4D;
  // A training pass moves the running statistics away from their initial 0 / 1.
  tf.tidy(() => model.forward(x, { training: true, rng: new Rng(0) }));
  const out = join(dir, "lenet");
  const files = await saveModel(model, out, { experiment: "lenet-bn-xavier" });
  const json = JSON.parse(await readFile(files.modelJson, "utf8"));
  assert.equal(json.weightsManifest[0].paths[0], "weights.bin");
  assert.ok(json.weightsManifest[0].weights.some((w: { name: string }) => w.name === "bn1/running_var"), "BN statistics saved");
  assert.deepEqual(json.modelTopology.config, config);
  assert.equal(json.userDefinedMetadata.experiment, "lenet-bn-xavier");
  // 431,080 weights + 140 BatchNorm gamma/beta + 140 running statistics, float32.
  assert.equal((await readFile(files.weightsBin)).length, (431080 + 140 + 140) * 4);

  const loaded = await loadModel(out);
  for (const v of model.allVariables) {
    assert.deepEqual(loaded.variable(v.name).dataSync(), v.variable.dataSync(), v.name);
  }
  const a = tf.tidy(() => model.predict(x).dataSync());
  const b = tf.tidy(() => loaded.predict(x).dataSync());
  assert.deepEqual(a, b);
  model.dispose();
  loaded.dispose();
  x.dispose();
});

test("mismatched or damaged files are rejected with the reason", async () => {
  const model = buildModel(config, 1);
  const out = join(dir, "damaged");
  const files = await saveModel(model, out);
  model.dispose();
  const before = tf.memory().numTensors;

  const json = JSON.parse(await readFile(files.modelJson, "utf8"));
  json.modelTopology.config.batchNorm = false;
  await writeFile(files.modelJson, JSON.stringify(json));
  await assert.rejects(loadModel(out), /weights do not fit arch lenet \(missing: none; unexpected: bn1\/gamma/);
  assert.equal(tf.memory().numTensors, before, "a failed load frees what it built");

  json.modelTopology.config.batchNorm = true;
  await writeFile(files.modelJson, JSON.stringify(json));
  await truncate(files.weightsBin, 1000);
  await assert.rejects(loadModel(out), /weight files hold 1000 bytes, the manifest describes 1725440/);
  await assert.rejects(loadModel(join(dir, "nothing-here")), /cannot read .*nothing-here\/model.json/);
});
