import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import type { RunEvent } from "../../engine/executor.ts";
import { readLock, writeLock } from "../../engine/lock-file.ts";
import { byPriority, criticalPathPriorities, expectedDuration } from "../../engine/scheduling.ts";
import { ToyRig } from "./toy-rig.ts";

// The toy DAG: source → upper → count@at, count@the → summary ← side.

test("critical path: a stage's own expected time plus the longest chain waiting on it", async () => {
  const rig = await ToyRig.create();
  const { graph } = await rig.session();
  const seconds: Record<string, number> = { source: 1, upper: 2, "count@at": 5, "count@the": 1, side: 4, summary: 3 };
  const priorities = criticalPathPriorities(graph, graph.order, (name) => seconds[name] ?? 0);
  assert.deepEqual(Object.fromEntries(priorities), { summary: 3, side: 7, "count@the": 4, "count@at": 8, upper: 10, source: 11 });
  assert.deepEqual(byPriority(["side", "count@the", "count@at"], priorities), ["count@at", "side", "count@the"]);
  // Unknown durations: every priority 0, the given order stands.
  const none = criticalPathPriorities(graph, graph.order, () => 0);
  assert.deepEqual(byPriority(graph.order, none), graph.order);
  // Only the selected stages count: without summary, side's chain is side alone.
  assert.equal(criticalPathPriorities(graph, ["side"], (name) => seconds[name] ?? 0).get("side"), 4);
});

test("with one job, the run starts the stage with the longest recorded chain first", async () => {
  const rig = await ToyRig.create();
  const starts = async (): Promise<string[]> => {
    const started: string[] = [];
    const summary = await rig.run({ jobs: 1, force: ["*"], onEvent: (event: RunEvent) => void (event.type === "start" && started.push(event.stage)) });
    assert.equal(summary.ok, true);
    return started;
  };
  assert.deepEqual((await starts())[0], "source", "first run: nothing recorded, declaration order");
  const lockPath = join(rig.dir, "pipeline.lock.json");
  const lock = await readLock(lockPath);
  lock.stages.side!.durationSeconds = 600;
  await writeLock(lockPath, lock);
  assert.deepEqual((await starts())[0], "side", "side took 600 s last time: it goes first");
});

test("a stage never run is expected to take as long as its base's or siblings' last runs, else its family's mean", () => {
  const records = { "train@lenet": { durationSeconds: 240 }, "train@cnn9+seed=1": { durationSeconds: 100 }, "train@cnn9+seed=2": { durationSeconds: 120 }, source: { durationSeconds: 3 } };
  assert.equal(expectedDuration(records, "source"), 3);
  assert.equal(expectedDuration(records, "train@lenet+seed=42"), 240, "the plain run before the experiment was replicated");
  assert.equal(expectedDuration(records, "train@cnn9+seed=3"), 110, "the mean of the other seeds");
  assert.equal(expectedDuration(records, "train@cnn9+seed=2"), 120, "its own run first");
  assert.equal(expectedDuration(records, "train@other+seed=1"), (240 + 100 + 120) / 3, "a new experiment: the mean training");
  assert.equal(expectedDuration(records, "evaluate@other"), 0, "nothing of its family recorded");
  assert.equal(expectedDuration(records, "upper"), 0);
});
