/**
 * A cache that cannot be poisoned: corrupt inputs are found before a stage reads them, a result's
 * record says which input hashes it verified, and a dead pipeline leaves no stage process behind.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmod, cp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { test } from "node:test";
import { planStages } from "../../engine/planner.ts";
import { isProcessAlive } from "../../engine/process-alive.ts";
import { ToyRig } from "./toy-rig.ts";

const fingerprintOf = (outcome: unknown): string => (outcome as { fingerprint: string }).fingerprint;

/** Overwrites a cached output in place with same-size bytes and puts its mtime back, as `touch -r` does. */
async function corruptKeepingMtime(path: string): Promise<void> {
  const reference = `${path}.reference`;
  execFileSync("touch", ["-r", path, reference]); // a file carrying the output's exact times
  const text = await readFile(path, "utf8");
  await chmod(path, 0o644);
  await writeFile(path, "X".repeat(Buffer.byteLength(text)));
  await chmod(path, 0o444);
  execFileSync("touch", ["-r", reference, path]);
  await rm(reference);
}

test("an output edited in place with its size and mtime restored (touch -r) is still found: ctime is checked", async () => {
  const rig = await ToyRig.create();
  const first = await rig.run();
  const upperFile = join(rig.dir, "artifacts/stages/upper", fingerprintOf(first.outcomes.upper), "out/upper.txt");
  const before = await stat(upperFile);
  await corruptKeepingMtime(upperFile);
  const after = await stat(upperFile);
  assert.equal(after.mtimeMs, before.mtimeMs, "the rig restored the mtime");
  assert.equal(after.size, before.size);
  const plans = await planStages(await rig.session());
  assert.deepEqual(plans.find((plan) => plan.stage === "upper")?.reasons, [{ kind: "output-corrupted", file: "upper.txt" }]);
});

test("a forced stage whose input is corrupt behind an intact stat record rebuilds the input first, and files its result under the clean key", async () => {
  const rig = await ToyRig.create();
  const first = await rig.run();
  const resultDir = join(rig.dir, "artifacts/stages/upper", fingerprintOf(first.outcomes.upper));
  const clean = await readFile(join(resultDir, "out/upper.txt"), "utf8");
  const countDir = join(rig.dir, "artifacts/stages/count@at", fingerprintOf(first.outcomes["count@at"]));
  const cleanCount = await readFile(join(countDir, "out/count.json"), "utf8");
  await corruptKeepingMtime(join(resultDir, "out/upper.txt"));
  // Make the quick check blind to it (as a file system that keeps ctime, or a restored snapshot would).
  const info = await stat(join(resultDir, "out/upper.txt"));
  await writeFile(join(resultDir, "stat-cache.json"), JSON.stringify({ "upper.txt": { size: info.size, mtimeMs: info.mtimeMs, ctimeMs: info.ctimeMs, ino: info.ino } }));
  assert.equal((await planStages(await rig.session())).every((plan) => plan.state === "up-to-date"), true, "the quick check now trusts it");

  const forced = await rig.run({ force: ["count@at"] });
  assert.equal(forced.ok, true, JSON.stringify(forced.outcomes));
  assert.equal(forced.outcomes.upper?.status, "ran", "the corrupt input was rebuilt");
  assert.equal((await rig.invocations()).upper, 2);
  assert.equal(await readFile(join(resultDir, "out/upper.txt"), "utf8"), clean, "rebuilt to the clean bytes, under the same key");
  assert.equal(fingerprintOf(forced.outcomes["count@at"]), fingerprintOf(first.outcomes["count@at"]));
  assert.equal(await readFile(join(countDir, "out/count.json"), "utf8"), cleanCount, "computed from the clean text");
  const record = JSON.parse(await readFile(join(rig.dir, "artifacts/stages/count@at", fingerprintOf(forced.outcomes["count@at"]), "run.json"), "utf8"));
  const lock = JSON.parse(await readFile(join(rig.dir, "pipeline.lock.json"), "utf8"));
  assert.deepEqual(record.verifiedInputs, lock.stages["count@at"].inputs, "the record names the input hashes it verified: those of its key");
});

test("--verify reruns a result whose record does not show verified inputs, and only that one", async () => {
  const rig = await ToyRig.create();
  const first = await rig.run();
  const recordPath = join(rig.dir, "artifacts/stages/count@the", fingerprintOf(first.outcomes["count@the"]), "run.json");
  const record = JSON.parse(await readFile(recordPath, "utf8"));
  delete record.verifiedInputs; // as a result made before inputs were verified
  await writeFile(recordPath, JSON.stringify(record));
  assert.equal((await rig.run()).outcomes["count@the"]?.status, "cached", "a plain run trusts it");
  const plans = await planStages(await rig.session(), { deepVerify: true });
  assert.equal(plans.find((plan) => plan.stage === "count@the")?.reasons[0]?.kind, "inputs-unverified");
  const verified = await rig.run({ deepVerify: true });
  const ran = Object.entries(verified.outcomes).filter(([, outcome]) => outcome.status === "ran").map(([name]) => name);
  assert.deepEqual(ran, ["count@the"]);
  assert.equal(verified.outcomes.summary?.status, "cached", "identical output: the aggregate stays cached");

  // A record whose verified hashes disagree with its key (made from other inputs than it claims): rerun too.
  const again = JSON.parse(await readFile(recordPath, "utf8"));
  assert.ok(again.verifiedInputs, "the rerun recorded the hashes it verified");
  again.verifiedInputs = Object.fromEntries(Object.keys(again.verifiedInputs).map((stage) => [stage, "0".repeat(64)]));
  await writeFile(recordPath, JSON.stringify(again));
  const disagreeing = await planStages(await rig.session(), { deepVerify: true });
  assert.deepEqual(disagreeing.find((plan) => plan.stage === "count@the")?.reasons, [{ kind: "inputs-unverified", detail: "the input hashes it verified differ from those in its key" }]);
  assert.equal((await rig.run({ deepVerify: true })).outcomes["count@the"]?.status, "ran");
});

test("a restored cache (new inodes and ctimes) is rehashed once, then trusted from the renewed stat record", async () => {
  const rig = await ToyRig.create();
  const first = await rig.run();
  const artifacts = join(rig.dir, "artifacts");
  await cp(artifacts, `${artifacts}.restored`, { recursive: true, preserveTimestamps: true });
  await rm(artifacts, { recursive: true });
  await cp(`${artifacts}.restored`, artifacts, { recursive: true, preserveTimestamps: true });
  await rm(`${artifacts}.restored`, { recursive: true });
  const statCache = join(artifacts, "stages/upper", fingerprintOf(first.outcomes.upper), "stat-cache.json");
  const stale = JSON.parse(await readFile(statCache, "utf8"))["upper.txt"];
  const now = await stat(join(artifacts, "stages/upper", fingerprintOf(first.outcomes.upper), "out/upper.txt"));
  assert.notEqual(stale.ino, now.ino, "the copy has new inodes");
  const second = await rig.run();
  assert.ok(Object.values(second.outcomes).every((outcome) => outcome.status === "cached"), "nothing reran: the rehash matched");
  const renewed = JSON.parse(await readFile(statCache, "utf8"))["upper.txt"];
  assert.equal(renewed.ino, now.ino, "the stat record was renewed, so the next run trusts it without rehashing");
  assert.equal(renewed.ctimeMs, now.ctimeMs);
});

test("kill -9 of the pipeline stops its stage processes: no orphan keeps running", async () => {
  const rig = await ToyRig.create();
  await rig.editParams((params) => (params.side.sleepMs = 60_000));
  const { child, done } = rig.spawnCli(["run", "--only", "side"]);
  let stagePid: number | undefined;
  for (let i = 0; i < 200 && stagePid === undefined; i++) {
    await sleep(50);
    const line = (await readFile(join(rig.dir, "invocations.log"), "utf8").catch(() => "")).split("\n").find((entry) => entry.startsWith("side start"));
    stagePid = line ? Number(line.split(" ")[3]) : undefined;
  }
  assert.ok(stagePid && stagePid !== child.pid, "side runs in a process of its own");
  assert.equal(isProcessAlive(stagePid), true);
  child.kill("SIGKILL");
  await done;
  for (let i = 0; i < 100 && isProcessAlive(stagePid); i++) await sleep(100);
  assert.equal(isProcessAlive(stagePid), false, "the orphaned stage process stopped within 10 s");
});

test("pipeline logs STAGE prints a process stage's whole output; a failed attempt's log is kept too", async () => {
  const rig = await ToyRig.create();
  assert.equal((await rig.spawnCli(["run"]).done).code, 0);
  const logs = await rig.spawnCli(["logs", "side"]).done;
  assert.equal(logs.code, 0, logs.stderr);
  assert.match(logs.stdout, /side: stdout line 1 of 200/, "the start survives (not only a tail)");
  assert.match(logs.stdout, /side: stdout line 200 of 200/);
  assert.match(logs.stdout, /side: sleeping 0 ms/, "stderr too");

  await rig.editParams((params) => (params.side.fail = true));
  const failed = await rig.spawnCli(["run"]).done;
  assert.equal(failed.code, 1);
  const failedLogs = await rig.spawnCli(["logs", "side"]).done;
  assert.equal(failedLogs.code, 0, failedLogs.stderr);
  assert.match(failedLogs.stdout, /the last attempt, which failed/);
  assert.match(failedLogs.stdout, /side: stdout line 200 of 200/);
  const unknown = await rig.spawnCli(["logs", "nope"]).done;
  assert.equal(unknown.code, 2);

  // An inline stage keeps a log too, empty when it wrote nothing.
  const inline = await rig.spawnCli(["logs", "upper"]).done;
  assert.equal(inline.code, 0, inline.stderr);
  assert.equal(inline.stdout, "(upper wrote nothing to its log)\n");
  // A result without one (made before logs were kept, or fetched from a remote) is said to be so.
  const lock = JSON.parse(await readFile(join(rig.dir, "pipeline.lock.json"), "utf8")) as { stages: Record<string, { artifact: string }> };
  await rm(join(rig.dir, lock.stages.upper!.artifact, "log.txt"));
  const none = await rig.spawnCli(["logs", "upper"]).done;
  assert.equal(none.code, 2);
  assert.match(none.stderr, /upper's result has no log: it was made before logs were kept, or fetched from a remote/);
});

test("execution options: a 'key' option splits the cache of the stages declaring it, a 'recorded' one never does", async () => {
  const rig = await ToyRig.create();
  assert.equal((await rig.run()).ok, true);
  const other = await rig.spawnCli(["status", "--json", "--threads", "1"]).done;
  assert.ok((JSON.parse(other.stdout) as Array<{ state: string }>).every((plan) => plan.state === "up-to-date"), "--threads is recorded, not keyed");
  const lower = await rig.spawnCli(["status", "--letters", "lower"]).done;
  assert.match(lower.stdout, /upper\s+will run: --letters changed from upper to lower/);
  const ran = await rig.spawnCli(["run", "--letters", "lower"]).done;
  assert.equal(ran.code, 0, ran.stderr);
  assert.equal((await rig.invocations()).upper, 2);
  assert.equal((await rig.invocations()).source, 1, "stages not declaring the option keep their results");
  const back = await rig.spawnCli(["run", "--letters", "upper"]).done;
  assert.equal(back.code, 0);
  assert.equal((await rig.invocations()).upper, 2, "switching back reuses the first result");
  const record = JSON.parse(await readFile(join(rig.dir, "pipeline.lock.json"), "utf8")).stages.upper;
  assert.deepEqual(record.execution, { letters: "upper" });
});
