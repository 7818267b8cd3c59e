/**
 * The local store in front of a shared remote (a directory here; the S3 backend passes the same
 * contract in remote-cache-contract.test.ts): results travel between clones through it, lazily and
 * verified, and anything wrong with the remote is a miss with a warning, never a trusted result.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { pathToFileURL } from "node:url";
import { join } from "node:path";
import { test } from "node:test";
import { FileRemoteCache } from "../../engine/file-remote-cache.ts";
import { pullCommand, pushCommand } from "../../engine/remote-commands.ts";
import type { RemoteCache } from "../../engine/remote-cache.ts";
import { ToyRig } from "./toy-rig.ts";

async function sharedRemote(): Promise<{ dir: string; open(readOnly?: boolean): Promise<RemoteCache> }> {
  const dir = await mkdtemp(join(tmpdir(), "remote-"));
  return { dir, open: (readOnly = false) => FileRemoteCache.open(dir, { readOnly }) };
}

function results(lock: { stages: Record<string, Record<string, unknown>> }): Record<string, unknown> {
  return Object.fromEntries(Object.entries(lock.stages).map(([name, entry]) => [name, { fingerprint: entry.fingerprint, outputs: entry.outputs, metrics: entry.metrics }]));
}

const lockOf = async (rig: ToyRig) => JSON.parse(await readFile(join(rig.dir, "pipeline.lock.json"), "utf8"));

/** Blob files of the file remote, by the file name each result calls them. */
async function blobPath(remoteDir: string, lockEntry: { outputs: { files: Record<string, { sha256: string }> } }, file: string): Promise<string> {
  const sha = lockEntry.outputs.files[file]!.sha256;
  return join(remoteDir, "blobs", sha.slice(0, 2), sha);
}

test("clone A runs and pushes; fresh clone B trains nothing, pulls only what it reads, and ends with A's lock", async () => {
  const remote = await sharedRemote();
  const a = await ToyRig.create();
  const b = await ToyRig.create();
  const warnings: string[] = [];
  const warn = (message: string) => warnings.push(message);
  assert.equal((await a.run({ jobs: 2, remote: { cache: await remote.open(), push: true, warn } })).ok, true);
  assert.deepEqual(warnings, []);

  const status = await b.session([], { cache: await remote.open(true), push: false, warn });
  const { planStages } = await import("../../engine/planner.ts");
  const plans = await planStages(status);
  assert.ok(plans.every((plan) => plan.state === "up-to-date" && plan.remote !== undefined), "status: everything is in the remote");

  const summary = await b.run({ jobs: 2, remote: { cache: await remote.open(true), push: false, warn } });
  assert.equal(summary.ok, true);
  assert.ok(Object.values(summary.outcomes).every((outcome) => outcome.status === "cached"));
  assert.deepEqual(await b.invocations(), {}, "B ran no stage");
  assert.deepEqual(results(await lockOf(b)), results(await lockOf(a)));
  const pulledLazily = await readdir(join(b.dir, "artifacts/stages")).catch((): string[] => []);
  assert.ok(!pulledLazily.includes("upper"), `only what was read came over (metrics files), got ${pulledLazily.join(", ")}`);

  const message = await pullCommand(await b.session([], { cache: await remote.open(true), push: false, warn }), [], warn);
  assert.match(message, /^pulled \d+ results/);
  const upper = (await lockOf(a)).stages.upper;
  assert.equal(await readFile(join(b.dir, upper.artifact, "out/upper.txt"), "utf8"), await readFile(join(a.dir, upper.artifact, "out/upper.txt"), "utf8"));
  assert.deepEqual(warnings, []);
  await rm(remote.dir, { recursive: true, force: true });
});

test("a corrupt, truncated or missing blob, a bad record or an unsafe name is a miss with a warning: the stage runs locally", async (t) => {
  const faults: Record<string, (dir: string, lock: any) => Promise<void>> = {
    "corrupt blob": async (dir, lock) => writeFile(await blobPath(dir, lock.stages.upper, "upper.txt"), "HELLO WORLD, BUT NOT AS IT WAS"),
    "truncated blob": async (dir, lock) => {
      const path = await blobPath(dir, lock.stages.upper, "upper.txt");
      await writeFile(path, (await readFile(path)).subarray(0, 3));
    },
    "missing blob": async (dir, lock) => rm(await blobPath(dir, lock.stages.upper, "upper.txt")),
    "record failing its schema": async (dir) => {
      const [stageDir] = (await readdir(join(dir, "records"))).filter((name) => name.startsWith("upper"));
      const [record] = await readdir(join(dir, "records", stageDir!));
      await writeFile(join(dir, "records", stageDir!, record!), JSON.stringify({ schema: 99 }));
    },
    "unsafe file name": async (dir) => {
      const [stageDir] = (await readdir(join(dir, "records"))).filter((name) => name.startsWith("upper"));
      const [name] = await readdir(join(dir, "records", stageDir!));
      const path = join(dir, "records", stageDir!, name!);
      const record = JSON.parse(await readFile(path, "utf8"));
      record.manifest.files = { "../../escape.txt": record.manifest.files["upper.txt"] };
      await writeFile(path, JSON.stringify(record));
    },
  };
  for (const [fault, inject] of Object.entries(faults)) {
    await t.test(fault, async () => {
      const remote = await sharedRemote();
      const a = await ToyRig.create();
      const b = await ToyRig.create();
      await a.run({ remote: { cache: await remote.open(), push: true, warn: () => {} } });
      const lock = await lockOf(a);
      await inject(remote.dir, lock);
      const warnings: string[] = [];
      // Forcing count@at makes B read upper's files.
      const summary = await b.run({ force: ["count@at"], remote: { cache: await remote.open(true), push: false, warn: (message) => warnings.push(message) } });
      assert.equal(summary.ok, true, JSON.stringify(summary.outcomes));
      assert.equal((await b.invocations()).upper, 1, "upper ran in B instead of being trusted");
      assert.ok(warnings.some((warning) => /upper/.test(warning)), `a warning names upper: ${warnings.join(" | ")}`);
      const bLock = await lockOf(b);
      assert.equal(bLock.stages.upper.outputs.outputHash, lock.stages.upper.outputs.outputHash, "B's own result is the clean one");
      assert.equal(await readFile(join(b.dir, bLock.stages.upper.artifact, "out/upper.txt"), "utf8"), await readFile(join(a.dir, lock.stages.upper.artifact, "out/upper.txt"), "utf8"));
      await rm(remote.dir, { recursive: true, force: true });
    });
  }
});

test("push: read-only remotes refuse; a second writer with different outputs keeps the first record and is told the stage is nondeterministic", async () => {
  const remote = await sharedRemote();
  const a = await ToyRig.create();
  const b = await ToyRig.create();
  await a.run();
  await b.run();
  await assert.rejects(pushCommand(await a.session(), await remote.open(true), [], () => {}), /read-only/);
  const first = await pushCommand(await a.session(), await remote.open(), [], () => {});
  assert.match(first, /^pushed \d+ of \d+ results .*\(\d+ new records, \d+ files uploaded/);
  const again = await pushCommand(await a.session(), await remote.open(), [], () => {});
  assert.match(again, /\(0 new records, 0 files uploaded, 0\.0 MiB\)/, "blobs and records already there are skipped");

  // B's `side` wrote different bytes under the same key (as a nondeterministic stage would).
  const side = (await lockOf(b)).stages.side;
  const { chmod } = await import("node:fs/promises");
  const valuePath = join(b.dir, side.artifact, "out/value.txt");
  await chmod(valuePath, 0o644);
  await writeFile(valuePath, "43");
  const { LocalResultStore } = await import("../../engine/local-result-store.ts");
  const rebuilt = new LocalResultStore(join(b.dir, "artifacts"));
  // Re-seal B's edited result as if its stage had produced it (a real nondeterministic rerun).
  const workspace = await rebuilt.createWorkspace("side");
  await writeFile(join(workspace.outDir, "partial.txt"), "written before the sleep");
  await writeFile(join(workspace.outDir, "value.txt"), "43");
  const record = (await rebuilt.readRecord("side", side.fingerprint))!.run!;
  await rebuilt.commit(workspace, "side", side.fingerprint, record);
  const warnings: string[] = [];
  await pushCommand(await b.session(), await remote.open(), ["side"], (message) => warnings.push(message));
  assert.ok(warnings.some((warning) => /side is nondeterministic/.test(warning)), warnings.join(" | "));
  const stored = await (await remote.open()).getRecord("side", side.fingerprint);
  assert.equal((stored as any).manifest.outputHash, side.outputs.outputHash, "the first record was kept");
});

test("CLI: run --push, status and run on a fresh clone, pull, push, gc --remote", async () => {
  const remote = await sharedRemote();
  const url = pathToFileURL(remote.dir).href;
  const a = await ToyRig.create();
  const b = await ToyRig.create();
  const pushed = await a.spawnCli(["run", "--remote", url, "--push"]).done;
  assert.equal(pushed.code, 0, pushed.stderr);
  const status = await b.spawnCli(["status", "--remote", url]).done;
  assert.match(status.stdout, /upper\s+up to date \w+ \(in the remote: a pull brings 1 files, 0\.0 MiB\)/);
  const run = await b.spawnCli(["run", "--remote", url, "--remote-read-only"]).done;
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout + run.stderr, /0 ran, \d+ cached/);
  assert.deepEqual(await b.invocations(), {});
  const refused = await b.spawnCli(["run", "--remote", url, "--remote-read-only", "--push"]).done;
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /read-only/);
  const pulled = await b.spawnCli(["pull", "--remote", url]).done;
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.match(pulled.stdout, /^pulled \d+ results/);
  const again = await a.spawnCli(["push", "--remote", url]).done;
  assert.match(again.stdout, /0 new records, 0 files uploaded/);
  const noRemote = await a.spawnCli(["pull"]).done;
  assert.equal(noRemote.code, 2);
  assert.match(noRemote.stderr, /pull needs a remote/);
  // Everything is referenced by A's lock (its working tree): gc --remote keeps it all, even with no grace.
  const gc = await a.spawnCli(["gc", "--remote", url, "--grace", "0", "--dry-run"]).done;
  assert.equal(gc.code, 0, gc.stderr);
  assert.match(gc.stdout, /would delete 0 records and 0 blobs/);
  // An unreferenced record older than the grace period goes, with the blobs only it used.
  await a.editParams((params) => (params.upper.suffix = "?"));
  assert.equal((await a.spawnCli(["run", "--remote", url, "--push"]).done).code, 0);
  const swept = await a.spawnCli(["gc", "--remote", url, "--grace", "0"]).done;
  assert.equal(swept.code, 0, swept.stderr);
  assert.match(swept.stdout, /deleted record upper /);
  assert.match(swept.stdout, /deleted [1-9]\d* records and [1-9]\d* blobs/);
  await rm(remote.dir, { recursive: true, force: true });
});

test("a remote result whose metrics file is corrupt is made again here, and the run still succeeds", async () => {
  const remote = await sharedRemote();
  const a = await ToyRig.create();
  const b = await ToyRig.create();
  await a.run({ remote: { cache: await remote.open(), push: true, warn: () => {} } });
  const lock = await lockOf(a);
  await writeFile(await blobPath(remote.dir, lock.stages["count@at"], "count.json"), '{"item":"at","occurrences":999}');
  const warnings: string[] = [];
  const summary = await b.run({ remote: { cache: await remote.open(true), push: false, warn: (message) => warnings.push(message) } });
  assert.equal(summary.ok, true, JSON.stringify(summary.outcomes));
  assert.equal(summary.outcomes["count@at"]?.status, "ran");
  assert.equal((await b.invocations())["count@at"], 1);
  assert.deepEqual((await lockOf(b)).stages["count@at"].metrics, lock.stages["count@at"].metrics, "B's metrics are the true ones");
  assert.ok(warnings.some((warning) => /count@at/.test(warning)));
  await rm(remote.dir, { recursive: true, force: true });
});
