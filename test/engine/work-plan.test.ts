/** `plan --workers N`: the simulated schedule, and its estimates against measured runs. */
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { StageGraph } from "../../engine/graph.ts";
import type { Stage } from "../../engine/stage.ts";
import { estimateWallTime } from "../../engine/work-plan.ts";
import { ToyRig } from "./toy-rig.ts";

function stage(name: string, deps: string[] = []): Stage {
  return { name, family: name, module: "", inputs: Object.fromEntries(deps.map((dep) => [dep, dep])), deps, params: [], execution: [], isolation: "inline", run: async () => {} };
}

test("the schedule: one worker sums the work, many workers reach the critical path, and long chains start first", () => {
  // a → b → c (the long chain: 1 + 4 + 1), and x, y, z (2 each) beside it; d waits on everything.
  const graph = new StageGraph([stage("a"), stage("b", ["a"]), stage("c", ["b"]), stage("x"), stage("y"), stage("z"), stage("d", ["c", "x", "y", "z"])]);
  const seconds: Record<string, number> = { a: 1, b: 4, c: 1, x: 2, y: 2, z: 2, d: 1 };
  const all = graph.order;
  const one = estimateWallTime(graph, all, (name) => seconds[name]!, 1);
  assert.equal(one.seconds, 13);
  assert.equal(one.workSeconds, 13);
  assert.deepEqual(one.criticalPath, ["a", "b", "c", "d"]);
  assert.equal(one.criticalPathSeconds, 7);
  // Two workers: the chain a-b-c on one (6 s), x, y, z on the other (6 s), then d: 7 s. Starting
  // x first instead of a (declaration order) would end at 9.
  assert.equal(estimateWallTime(graph, all, (name) => seconds[name]!, 2).seconds, 7);
  assert.equal(estimateWallTime(graph, all, (name) => seconds[name]!, 10).seconds, 7);
  // Three workers cannot beat the critical path either.
  assert.equal(estimateWallTime(graph, all, (name) => seconds[name]!, 3).seconds, 7);
  // Cached stages count as done: only c and d left.
  assert.equal(estimateWallTime(graph, ["c", "d"], (name) => seconds[name]!, 2).seconds, 2);
});

/** The toy project with real waits: three counts of 2 s each beside a 4 s side branch. */
async function sleepyToy(): Promise<ToyRig> {
  const rig = await ToyRig.create();
  await rig.editFile("stages/count.ts", (text) =>
    text.replace('logInvocation(context.name, "start");', 'logInvocation(context.name, "start");\n    await new Promise((resolve) => setTimeout(resolve, 2000));'),
  );
  await rig.editParams((params) => {
    params.items = ["at", "the", "cat"];
    params.side.sleepMs = 4000;
  });
  return rig;
}

function estimate(output: string, workers: number): number {
  const match = new RegExp(`on ${workers} workers?: +([\\d.]+)s`).exec(output);
  assert.ok(match, `no estimate for ${workers} worker(s) in:\n${output}`);
  return Number(match[1]);
}

test("plan --workers estimates measured local runs within 15% for 1 and 2 workers", async (t) => {
  // Through the CLI: a fresh process loads the edited stage files (this one imported the originals).
  const runSeconds = async (rig: ToyRig, jobs: number): Promise<number> => {
    const { code, stdout, stderr } = await rig.spawnCli(["run", "--jobs", String(jobs)]).done;
    assert.equal(code, 0, stderr);
    const match = /\d+ ran, 0 cached, 0 failed, 0 skipped in ([\d.]+)s/.exec(stdout + stderr);
    assert.ok(match, stdout + stderr);
    return Number(match[1]);
  };
  const measured = await sleepyToy();
  const serial = { seconds: await runSeconds(measured, 1) };
  const parallel = { seconds: await runSeconds(await sleepyToy(), 2) };

  // From the serial run's lock: everything is cached, so the plan estimates a run from scratch.
  const plan = measured.spawnCli(["plan", "--workers", "2"]);
  const { code, stdout, stderr } = await plan.done;
  assert.equal(code, 0, stderr);
  assert.match(stdout, /Nothing to run: everything is up to date\./);
  assert.match(stdout, /critical path [\d.]+s: side → summary|critical path [\d.]+s: source → upper → count@\w+ → summary/);
  for (const [workers, wall] of [[1, serial.seconds], [2, parallel.seconds]] as const) {
    const predicted = estimate(stdout, workers);
    t.diagnostic(`${workers} worker(s): estimated ${predicted}s, measured ${wall.toFixed(2)}s`);
    assert.ok(Math.abs(predicted - wall) / wall <= 0.15, `${workers} worker(s): estimated ${predicted}s, measured ${wall.toFixed(2)}s`);
  }

  // With a stage pending, the estimate covers the pending run only.
  await rm(join(measured.dir, "artifacts"), { recursive: true, force: true });
  const pending = await measured.spawnCli(["plan", "--workers", "2", "--only", "side"]).done;
  assert.equal(pending.code, 0, pending.stderr);
  assert.match(pending.stdout, /Pending run: 1 stage, [\d.]+s of work/);
});
