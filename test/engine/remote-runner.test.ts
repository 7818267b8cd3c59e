/** The runner seam: a remote-style runner (serialised jobs, inputs by reference, results through a store) runs the toy project end to end. */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { FakeRemoteRunner } from "./fake-remote-runner.ts";
import { ToyRig } from "./toy-rig.ts";

/** What a lock says about results, leaving out when, where and how long. */
function results(lock: { stages: Record<string, Record<string, unknown>> }): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(lock.stages).map(([name, entry]) => [name, { fingerprint: entry.fingerprint, outputs: entry.outputs, inputs: entry.inputs, params: entry.params, code: entry.code, metrics: entry.metrics }]),
  );
}

test("a remote runner fed serialised jobs produces the same results and lock as a local run", async () => {
  const local = await ToyRig.create();
  const coordinator = await ToyRig.create();
  const worker = await ToyRig.create(); // another checkout of the same code: "another machine"
  const remote = new FakeRemoteRunner(worker.dir);
  assert.equal((await local.run({ jobs: 2 })).ok, true);
  const summary = await coordinator.run({ jobs: 2, runnerFor: () => remote });
  assert.equal(summary.ok, true, JSON.stringify(summary.outcomes));

  const [localLock, remoteLock] = await Promise.all([local, coordinator].map(async (rig) => JSON.parse(await readFile(join(rig.dir, "pipeline.lock.json"), "utf8"))));
  assert.deepEqual(results(remoteLock), results(localLock));
  assert.equal(remote.received.length, Object.keys(localLock.stages).length, "every stage ran on the worker");
  assert.equal((await coordinator.invocations()).upper, undefined, "nothing ran in the coordinator's checkout");
  assert.equal((await worker.invocations()).upper, 1);
  for (const job of remote.received) {
    assert.doesNotMatch(JSON.stringify(job), new RegExp(coordinator.dir), "a job carries references, never the coordinator's paths");
  }
  assert.equal(remoteLock.stages.side.environment.runner, "fake-remote", "the run record names the runner");
  // The coordinator's store now holds verified copies: a rerun is all cached.
  const again = await coordinator.run({ runnerFor: () => remote });
  assert.ok(Object.values(again.outcomes).every((outcome) => outcome.status === "cached"));
});

test("a runner whose checkout differs refuses the job with a code-mismatch failure naming the file", async () => {
  const coordinator = await ToyRig.create();
  const worker = await ToyRig.create();
  await worker.editFile("stages/upper.ts", (text) => text.replace("text.toUpperCase()", "text.toUpperCase().trim()"));
  const summary = await coordinator.run({ runnerFor: () => new FakeRemoteRunner(worker.dir) });
  const upper = summary.outcomes.upper;
  assert.equal(upper?.status, "failed");
  assert.deepEqual(upper?.status === "failed" && upper.failure, { reason: "code-mismatch", files: ["stages/upper.ts"] });
  assert.equal(summary.outcomes.source?.status, "ran", "a stage whose code matches runs");
});
