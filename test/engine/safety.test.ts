import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { test } from "node:test";
import { ToyRig } from "./toy-rig.ts";

test("independent stages overlap with --jobs 2", async () => {
  const rig = await ToyRig.create();
  await rig.editParams((params) => (params.side.sleepMs = 400));
  // source → upper → count* take well under 400 ms together, all while side sleeps.
  const summary = await rig.run({ jobs: 2 });
  assert.equal(summary.ok, true);
  const spans = await rig.intervals();
  assert.ok(spans.source!.start < spans.side!.end!, "source started before side finished");
  assert.ok(spans.upper!.end! < spans.side!.end!, "upper finished while side was still running");
});

test("with --jobs 1 no two stages overlap", async () => {
  const rig = await ToyRig.create();
  await rig.editParams((params) => (params.side.sleepMs = 100));
  await rig.run({ jobs: 1 });
  const spans = Object.values(await rig.intervals()).sort((a, b) => a.start - b.start);
  for (let i = 1; i < spans.length; i++) assert.ok(spans[i]!.start >= spans[i - 1]!.end!, "a stage started before the previous ended");
});

test("a failing stage skips its dependents; --keep-going still runs the independent branch", async () => {
  const rig = await ToyRig.create();
  await rig.editParams((params) => (params.side.fail = true));
  const summary = await rig.run({ keepGoing: true, jobs: 1 });
  assert.equal(summary.ok, false);
  const side = summary.outcomes.side;
  assert.equal(side?.status === "failed" && side.failure.reason, "threw");
  assert.equal(side?.status === "failed" && side.failure.reason === "threw" && side.failure.message, "side was told to fail");
  assert.deepEqual(summary.outcomes.summary, { status: "skipped", because: "upstream side failed" });
  for (const name of ["source", "upper", "count@at", "count@the"]) assert.equal(summary.outcomes[name]?.status, "ran");
  // Nothing of the failed attempt is kept: no result folder for side, no workspace left behind.
  assert.deepEqual(await readdir(join(rig.dir, "artifacts/stages")).then((dirs) => dirs.includes("side")), false);
  assert.deepEqual(await readdir(join(rig.dir, "artifacts/tmp")), []);

  // Fixing it resumes: finished stages are not redone.
  await rig.editParams((params) => (params.side.fail = false));
  const resumed = await rig.run();
  assert.equal(resumed.ok, true);
  assert.deepEqual(await rig.invocations(), { source: 1, upper: 1, "count@at": 1, "count@the": 1, side: 2, summary: 1 });
});

test("without --keep-going nothing new starts after a failure", async () => {
  const rig = await ToyRig.create();
  await rig.editParams((params) => {
    params.side.fail = true;
    params.items = [];
  });
  // Declaration order puts side after source/upper; make side fail first by running only it and summary.
  const summary = await rig.run({ only: ["summary"], jobs: 1 });
  assert.equal(summary.ok, false);
  assert.equal(summary.outcomes.side?.status, "failed");
  assert.equal(summary.outcomes.summary?.status, "skipped");
});

test("kill -9 in the middle of a stage leaves nothing trusted; the rerun is correct", async () => {
  const rig = await ToyRig.create();
  await rig.editParams((params) => (params.side.sleepMs = 30_000));
  const { child, done } = rig.spawnCli(["run", "--only", "side"]);
  // Wait until side has written its partial file, then kill the whole run without warning.
  for (let i = 0; i < 200 && !(await rig.invocations()).side; i++) await sleep(50);
  assert.equal((await rig.invocations()).side, 1, "side started");
  child.kill("SIGKILL");
  await done;
  await rig.editParams((params) => (params.side.sleepMs = 0));
  const summary = await rig.run();
  assert.equal(summary.ok, true);
  assert.equal(summary.outcomes.side?.status, "ran", "the killed attempt was not taken as a result");
  const fingerprint = (summary.outcomes.side as { fingerprint: string }).fingerprint;
  assert.equal(await readFile(join(rig.dir, "artifacts/stages/side", fingerprint, "out/value.txt"), "utf8"), "42");
  assert.deepEqual(await readdir(join(rig.dir, "artifacts/tmp")), [], "the dead run's workspace was cleaned up");
});

test("Ctrl-C (SIGINT) stops the run with exit 130 and keeps no partial result", async () => {
  const rig = await ToyRig.create();
  await rig.editParams((params) => (params.side.sleepMs = 30_000));
  const { child, done } = rig.spawnCli(["run", "--only", "side"]);
  for (let i = 0; i < 200 && !(await rig.invocations()).side; i++) await sleep(50);
  child.kill("SIGINT");
  const result = await done;
  assert.equal(result.code, 130, result.stderr);
  assert.deepEqual(await readdir(join(rig.dir, "artifacts/tmp")), []);
  assert.equal(await readdir(join(rig.dir, "artifacts/stages")).then((dirs) => dirs.includes("side"), () => false), false);
});

test("a second concurrent run is refused with a clear message (exit 3), or waits with --wait", async () => {
  const rig = await ToyRig.create();
  await rig.editParams((params) => (params.side.sleepMs = 1500));
  const first = rig.spawnCli(["run"]);
  for (let i = 0; i < 200 && !(await rig.invocations()).side; i++) await sleep(50);
  const refused = await rig.spawnCli(["run"]).done;
  assert.equal(refused.code, 3);
  assert.match(refused.stderr, /another pipeline run holds .*\.run\.lock \(pid \d+/);
  const queued = await rig.spawnCli(["run", "--wait", "30"]).done;
  assert.equal(queued.code, 0, queued.stderr);
  assert.equal((await first.done).code, 0);
  assert.equal((await rig.invocations()).side, 1, "the queued run found everything cached");
});

test("bad params: exit 2, the JSON path, expected type and value found; nothing written", async () => {
  const rig = await ToyRig.create();
  await rig.editParams((params) => {
    params.side.value = "21";
    params.upper.sufix = "!";
  });
  const result = await rig.spawnCli(["run"]).done;
  assert.equal(result.code, 2);
  assert.match(result.stderr, /params\.json is invalid \(2 problems\)/);
  assert.match(result.stderr, /side\.value: expected an integer, found string "21"|side\.value: expected a number, found string "21"/);
  assert.match(result.stderr, /upper\.sufix: unknown key/);
  assert.deepEqual(await readdir(rig.dir).then((names) => names.filter((name) => name === "pipeline.lock.json" || name === "invocations.log")), []);
  assert.deepEqual(await readdir(join(rig.dir, "artifacts")).catch(() => []), []);
});

test("CLI: status --json, dag --mermaid, usage errors, gc", async () => {
  const rig = await ToyRig.create();
  const usage = await rig.spawnCli(["run", "--jbos", "2"]).done;
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /Unknown option '--jbos'/);
  const threads = await rig.spawnCli(["run", "--threads", "0"]).done;
  assert.equal(threads.code, 2);
  assert.match(threads.stderr, /--threads "0": expects a positive whole number/);
  const quiet = await rig.spawnCli(["run"]).done;
  assert.equal(quiet.code, 0);
  assert.doesNotMatch(quiet.stderr, /warning/, "the default threads per stage never oversubscribe");
  const oversubscribed = await rig.spawnCli(["run", "--jobs", "2", "--threads", "4096"]).done;
  assert.equal(oversubscribed.code, 0, "a warning, not an error");
  assert.match(oversubscribed.stderr, /warning: --jobs 2 × 4096 threads per stage = 8192 threads on \d+ cores/);
  await rig.editParams((params) => (params.side.value = 1));
  const status = await rig.spawnCli(["status", "--json"]).done;
  const plans = JSON.parse(status.stdout) as Array<{ stage: string; state: string }>;
  assert.deepEqual(plans.filter((plan) => plan.state === "will-run").map((plan) => plan.stage), ["side", "summary"]);
  const human = await rig.spawnCli(["status"]).done;
  assert.match(human.stdout, /side\s+will run: param side\.value changed from 21 to 1/);
  const mermaid = await rig.spawnCli(["dag", "--mermaid"]).done;
  assert.match(mermaid.stdout, /^flowchart TD/);
  assert.match(mermaid.stdout, /s0 --> s1/);
  assert.equal((await rig.spawnCli(["run"]).done).code, 0);
  const gc = await rig.spawnCli(["gc"]).done;
  assert.equal(gc.code, 0, gc.stderr);
  assert.match(gc.stdout, /removed artifacts\/stages\/side\//);
  assert.match(gc.stdout, /2 removed .* 6 kept/);
});

test("gc: a failed attempt's log is kept until the stage succeeds; code-cache entries of replaced file contents go", async () => {
  const rig = await ToyRig.create();
  const failed = await rig.spawnCli(["run", "-S", "side.fail=true"]).done;
  assert.equal(failed.code, 1, failed.stderr);
  const failureLogs = join(rig.dir, "artifacts", "failed-logs", "side");
  assert.equal((await readdir(failureLogs)).length, 1);
  // Nothing has fixed the failure yet: gc keeps the log that `logs side` shows.
  const early = await rig.spawnCli(["gc"]).done;
  assert.equal(early.code, 0, early.stderr);
  assert.doesNotMatch(early.stdout, /failed-logs/);
  assert.match((await rig.spawnCli(["logs", "side", "-S", "side.fail=true"]).done).stdout, /the last attempt, which failed/);

  const cacheDir = join(rig.dir, "artifacts", ".code-cache");
  const before = new Set(await readdir(cacheDir));
  await rig.editFile("stages/side.ts", (text) => text.replace("A branch independent", "A side branch independent"));
  assert.equal((await rig.spawnCli(["run"]).done).code, 0, "side succeeds with other params and edited code");
  assert.equal((await readdir(cacheDir)).length, before.size + 1, "the edited file's contents were compiled once more");

  const dry = await rig.spawnCli(["gc", "--dry-run"]).done;
  assert.match(dry.stdout, /would remove artifacts\/failed-logs\/side\/[0-9a-f]{64}\.log/);
  assert.match(dry.stdout, /would remove 1 code-fingerprint cache entry of file contents this checkout no longer has/);
  const swept = await rig.spawnCli(["gc"]).done;
  assert.equal(swept.code, 0, swept.stderr);
  assert.match(swept.stdout, /removed artifacts\/failed-logs\/side\//);
  assert.match(swept.stdout, /removed 1 code-fingerprint cache entry/);
  assert.deepEqual(await readdir(join(rig.dir, "artifacts", "failed-logs")), [], "the empty stage folder goes too");
  const after = new Set(await readdir(cacheDir));
  assert.equal(after.size, before.size, "one entry replaced by one");
  assert.equal([...before].filter((entry) => !after.has(entry)).length, 1);
  const noop = await rig.spawnCli(["run"]).done;
  assert.match(noop.stdout + noop.stderr, /0 ran/, "the sweep never makes a run recompute a key");
});
