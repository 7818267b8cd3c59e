import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { type BackendPreference, selectBackend } from "../../ml/backend.ts";

const installed = (pkg: string): boolean => {
  try {
    createRequire(import.meta.url).resolve(pkg);
    return true;
  } catch {
    return false;
  }
};
const hasNode = installed("@tensorflow/tfjs-node");
const hasNodeGpu = installed("@tensorflow/tfjs-node-gpu");

test("a forced native backend that is not installed fails with the reason and the fix", { skip: hasNode && "tfjs-node is installed here" }, async () => {
  await assert.rejects(selectBackend("tensorflow"), (e: unknown) => {
    const message = (e as Error).message;
    assert.match(message, /backend "tensorflow" is not available: cannot load @tensorflow\/tfjs-node/);
    assert.match(message, /Install @tensorflow\/tfjs-node 4\.22\.0/);
    return true;
  });
});

test("auto falls back past missing native backends and records versions", async () => {
  const selected = await selectBackend("auto");
  assert.equal(selected.tfBackend, tf.getBackend());
  assert.equal(selected.versions["tfjs-core"], "4.22.0");
  if (!hasNodeGpu) assert.equal(selected.skipped[0]?.name, "tensorflow-gpu");
  if (!hasNode && !hasNodeGpu) {
    assert.equal(selected.name, "wasm");
    assert.deepEqual(
      selected.skipped.map((s) => s.name),
      ["tensorflow-gpu", "tensorflow"],
    );
  }
  if (selected.name === "wasm") {
    assert.equal(selected.versions["tfjs-backend-wasm"], "4.22.0");
    assert.equal(typeof selected.details.simd, "boolean");
    // The training kernels the stock wasm backend lacks are in place.
    assert.ok(tf.getKernel("Conv2DBackpropFilter", "wasm"), "Conv2DBackpropFilter registered for wasm");
  }
});

test("wasm and cpu can be forced; unknown names are rejected", async () => {
  assert.equal((await selectBackend("wasm")).tfBackend, "wasm");
  const cpu = await selectBackend("cpu");
  assert.equal(cpu.name, "cpu");
  assert.equal(tf.getBackend(), "cpu");
  await assert.rejects(selectBackend("webgpu" as BackendPreference), /unknown backend "webgpu"/);
});
