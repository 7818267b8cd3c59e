import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { copyFile, readdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { availableParallelism } from "node:os";
import { test } from "node:test";
import { diffAgainstLock } from "../../engine/why.ts";
import { ToyRig } from "./toy-rig.ts";

/**
 * What a user sees from the CLI: machine output alone on stdout, errors in a line or two, Ctrl-C
 * that leaves the terminal usable and says what happens next, commands that only look writing
 * nothing. Each test drives the toy project's CLI in its own process.
 */

const cursorHidden = "\u001B[?25l";
const cursorShown = "\u001B[?25h";

test("machine output owns stdout: status/diff/check --json parse from stdout alone, check --md starts with its heading", async () => {
  const rig = await ToyRig.create();
  assert.equal((await rig.spawnCli(["run"]).done).code, 0);
  await copyFile(join(rig.dir, "pipeline.lock.json"), join(rig.dir, "before.lock.json"));
  assert.equal((await rig.spawnCli(["baseline"]).done).code, 0);

  const status = await rig.spawnCli(["status", "--json"]).done;
  assert.equal(status.code, 0, status.stderr);
  assert.equal((JSON.parse(status.stdout) as unknown[]).length, 6);
  const diff = await rig.spawnCli(["diff", "before.lock.json", "--json"]).done;
  assert.equal(diff.code, 0, diff.stderr);
  assert.deepEqual(JSON.parse(diff.stdout), { metrics: [], params: [] });

  const check = await rig.spawnCli(["check", "--json"]).done;
  assert.equal(check.code, 0, check.stderr);
  assert.equal((JSON.parse(check.stdout) as { passed: boolean }).passed, true);
  // The progress went to stderr, where cached stages read as cached (not listr2's "SKIPPED").
  assert.match(check.stderr, /✔ source cached [0-9a-f]{10}/);
  assert.doesNotMatch(check.stderr, /SKIPPED/);
  assert.match(check.stderr, /0 ran, 6 cached, 0 failed, 0 skipped/);

  const markdown = await rig.spawnCli(["check", "--md"]).done;
  assert.equal(markdown.code, 0, markdown.stderr);
  assert.match(markdown.stdout, /^### Accuracy regression check\n\n\| stage \| metric \|/);
});

test("baseline defaults to check's profile; check refuses (exit 2) a baseline recorded from another profile, naming both", async () => {
  const rig = await ToyRig.create();
  // As in the real project: check runs a CI profile, not params.json.
  await rig.editFile("project.ts", (text) => text.replace('defaultParams: "params.json"', 'defaultParams: "params.ci.json"'));
  await copyFile(join(rig.dir, "params.json"), join(rig.dir, "params.ci.json"));
  assert.equal((await rig.spawnCli(["run", "--params", "params.ci.json"]).done).code, 0);
  const baseline = await rig.spawnCli(["baseline"]).done;
  assert.equal(baseline.code, 0, baseline.stderr);
  assert.equal(JSON.parse(await readFile(join(rig.dir, "reports/baseline.json"), "utf8")).params, "params.ci.json");
  assert.equal((await rig.spawnCli(["check"]).done).code, 0);

  // A baseline from the other profile: check stops before running anything.
  assert.equal((await rig.spawnCli(["run"]).done).code, 0);
  assert.equal((await rig.spawnCli(["baseline", "--params", "params.json"]).done).code, 0);
  const mismatch = await rig.spawnCli(["check"]).done;
  assert.equal(mismatch.code, 2);
  assert.match(mismatch.stderr, /baseline\.json was recorded from params\.json, but this check runs params\.ci\.json/);
  assert.doesNotMatch(mismatch.stderr, /❯|cached/, "nothing ran");
});

test("a stage failure is one line; --verbose adds its stack", async () => {
  const rig = await ToyRig.create();
  await rig.editParams((params) => (params.side.fail = true));
  const plain = await rig.spawnCli(["run"]).done;
  assert.equal(plain.code, 1);
  // Under the summary line, where a long run's failures are found, with where to look next.
  assert.match(plain.stderr, /^✖ side: side was told to fail \(--verbose for the stack\)$/m);
  assert.doesNotMatch(plain.stderr, /^\s+at /m);
  const verbose = await rig.spawnCli(["run", "--verbose"]).done;
  assert.equal(verbose.code, 1);
  assert.match(verbose.stderr, /side was told to fail\n\s+at /);
});

/** Runs the toy CLI with its artifacts/ read-only for real: a read-only bind mount in a private mount namespace. */
function readOnlyArtifactsCli(rig: ToyRig, args: string[]): { code: number | null; stdout: string; stderr: string } | "unavailable" {
  const script = 'mount --bind artifacts artifacts && mount -o remount,ro,bind artifacts && exec "$0" "$@"';
  const probe = spawnSync("unshare", ["-m", "sh", "-c", script, "true"], { cwd: rig.dir });
  if (probe.status !== 0) return "unavailable";
  const result = spawnSync("unshare", ["-m", "sh", "-c", script, process.execPath, "--import", "tsx", "cli.ts", ...args], {
    cwd: rig.dir,
    env: { ...process.env, CI: "true" },
    encoding: "utf8",
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test("a read-only artifacts/ (EROFS): run says what and where in two lines, no stack; status still works", async (t) => {
  const rig = await ToyRig.create();
  assert.equal((await rig.spawnCli(["run"]).done).code, 0);
  // As root, chmod does not stop writes; a read-only mount does. It needs unshare (util-linux) and
  // the right to mount in a private namespace.
  const run = readOnlyArtifactsCli(rig, ["run"]);
  if (run === "unavailable") {
    if (process.env.CI === "true") assert.fail("unshare -m with a read-only bind mount is unavailable (util-linux `unshare`, CAP_SYS_ADMIN)");
    t.skip("needs util-linux `unshare` and the right to mount in a private namespace");
    return;
  }
  assert.equal(run.code, 1);
  assert.equal(
    run.stderr,
    "pipeline: cannot open artifacts/.run.lock: the file system is read-only (EROFS)\n" +
      "runs keep their lock and cache in artifacts/: make it writable (status, dag and diff only read it)\n",
  );
  const verbose = readOnlyArtifactsCli(rig, ["run", "--verbose"]);
  assert.ok(verbose !== "unavailable");
  assert.match(verbose.stderr, /EROFS[^\n]*\n[\s\S]*\n\s+at /, "--verbose shows the stack");
  const status = readOnlyArtifactsCli(rig, ["status"]);
  assert.ok(status !== "unavailable");
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /Everything is up to date\./);
});

/** Every path under dir with its size and mtime: any write shows up as a difference. */
async function snapshot(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  const lines = await Promise.all([".", ...entries].map(async (entry) => {
    const info = await stat(join(dir, entry));
    return `${entry} ${info.size} ${info.mtimeMs}`;
  }));
  return lines.sort();
}

test("commands that only look write nothing: run/check/baseline/gc --dry-run, status, dag, diff", async () => {
  const rig = await ToyRig.create();
  assert.equal((await rig.spawnCli(["run"]).done).code, 0);
  assert.equal((await rig.spawnCli(["baseline"]).done).code, 0);
  await copyFile(join(rig.dir, "pipeline.lock.json"), join(rig.dir, "before.lock.json"));
  await rig.editParams((params) => (params.side.value = 7)); // something to report, and the params cache misses
  for (const cache of [".params-cache", ".code-cache"]) await rm(join(rig.dir, "artifacts", cache), { recursive: true, force: true });
  const before = await snapshot(rig.dir);
  for (const args of [["run", "--dry-run"], ["status"], ["status", "--json"], ["dag"], ["diff", "before.lock.json"], ["gc", "--dry-run"], ["check", "--dry-run"], ["baseline", "--dry-run"]]) {
    const result = await rig.spawnCli(args).done;
    assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
    assert.deepEqual(await snapshot(rig.dir), before, `${args.join(" ")} wrote nothing`);
    if (args[0] === "check") assert.match(result.stdout, /side +will run[\s\S]*then compare with reports\/baseline\.json; nothing was run or written/);
    if (args[0] === "baseline") assert.match(result.stdout, /^would write \d+ stages' metrics to .*baseline\.json; nothing was written/);
  }
  const pull = await rig.spawnCli(["pull", "--dry-run", "--remote", `file://${join(rig.dir, "remote")}`]).done;
  assert.equal(pull.code, 2);
  assert.match(pull.stderr, /--dry-run applies to run, check, baseline and gc; pull has no dry run/);
});

test("small messages: gc --dry-run, --downstream alone, a bad -S value, a changed key of an object param", async () => {
  const rig = await ToyRig.create();
  assert.equal((await rig.spawnCli(["run"]).done).code, 0);
  await rig.editParams((params) => (params.side.value = 7));
  assert.equal((await rig.spawnCli(["run"]).done).code, 0); // the old side result is now garbage

  const dry = await rig.spawnCli(["gc", "--dry-run"]).done;
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^would remove artifacts\/stages\/side\//m);
  assert.match(dry.stdout, /would remove 2 \(\d+\.\d MiB\) and keep 6; nothing was deleted\n$/); // side's and summary's old results
  assert.doesNotMatch(dry.stdout, /removed/);
  const doomed = /^would remove (artifacts\/stages\/side\/\S+)$/m.exec(dry.stdout)![1]!;
  assert.ok((await stat(join(rig.dir, doomed))).isDirectory(), "still there");

  const downstream = await rig.spawnCli(["run", "--downstream"]).done;
  assert.equal(downstream.code, 2);
  assert.match(downstream.stderr, /--downstream extends the stages --only matched .*: give --only PATTERN too/);

  const badOverride = await rig.spawnCli(["status", "-S", "side.value={2"]).done;
  assert.equal(badOverride.code, 2);
  assert.match(badOverride.stderr, /^pipeline: -S side\.value=\{2 is invalid \(1 problem\):\n {2}side\.value: expected .*, found string "\{2"$/m);
  assert.doesNotMatch(badOverride.stderr, /params\.json is invalid/);
  await rig.editParams((params) => (params.upper.suffix = 1));
  const both = await rig.spawnCli(["status", "-S", "side.value={2"]).done;
  assert.equal(both.code, 2);
  assert.match(both.stderr, /params\.json with -S overrides is invalid \(2 problems\)/);
  assert.match(both.stderr, /side\.value: .*found string "\{2" \(from -S side\.value=\{2\)/);
  assert.match(both.stderr, /upper\.suffix: expected a string, found number 1$/m);
  await rig.editParams((params) => (params.upper.suffix = "!"));

  // `summary` is declared whole (an object): status names the key that changed, not two objects.
  await rig.editParams((params) => (params.summary = { sleepMs: 5 }));
  const status = await rig.spawnCli(["status"]).done;
  assert.match(status.stdout, /summary\s+will run: param summary\.sleepMs changed from \(absent\) to 5/);
});

test("why: an object param reports each changed leaf with old → new, whatever the key order", () => {
  const code = { files: {}, packages: {} };
  const locked = { fingerprint: "", code, params: { model: { arch: "lenet", opt: { lr: 0.1, name: "sgd" }, dropout: 0 } }, inputs: {} };
  const now = { stage: "train@a", code, inputs: {}, params: { model: { dropout: 0, opt: { name: "sgd", lr: 0.01 }, arch: "lenet" } } };
  assert.deepEqual(diffAgainstLock(now, locked as never), [{ kind: "param-changed", path: "model.opt.lr", from: 0.1, to: 0.01 }]);
  const reordered = { ...now, params: { model: { dropout: 0, opt: { name: "sgd", lr: 0.1 }, arch: "lenet" } } };
  assert.deepEqual(diffAgainstLock(reordered, locked as never), [], "key order alone is no change");
});

test("diff against a revision without the profile's lock: compared as empty, and said so", async () => {
  const rig = await ToyRig.create();
  const git = (...args: string[]): string =>
    execFileSync("git", ["-c", "user.email=t@example.invalid", "-c", "user.name=t", ...args], { cwd: rig.dir, encoding: "utf8" });
  git("init", "-q");
  git("add", "-A");
  git("commit", "-qm", "toy without its lock");
  // Neither side has a lock yet (a fresh clone that never ran this profile): both empty, said so.
  const fresh = await rig.spawnCli(["diff"]).done;
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.match(fresh.stderr, /there is no pipeline\.lock\.json here yet \(this profile has not run in this checkout\), so it is compared as empty/);
  assert.match(fresh.stdout, /no metric changed/);
  assert.equal((await rig.spawnCli(["run"]).done).code, 0); // pipeline.lock.json exists, uncommitted
  const diff = await rig.spawnCli(["diff", "--json"]).done;
  assert.equal(diff.code, 0, diff.stderr);
  assert.match(diff.stderr, /HEAD has no pipeline\.lock\.json \(never committed there\)/);
  const parsed = JSON.parse(diff.stdout) as { params: Array<{ name: string; a: unknown; b: unknown }> };
  assert.deepEqual(parsed.params.find((row) => row.name === "upper.suffix"), { name: "upper.suffix", a: null, b: "!" });
  const wrong = await rig.spawnCli(["diff", "no-such-revision"]).done;
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /"no-such-revision" is neither a lock file nor a git revision/);
});

test("Ctrl-C in a terminal: exit 130, the cursor shown again, what was interrupted and what the next run reuses", async (t) => {
  // A real terminal: util-linux `script` runs the CLI on a pseudo-terminal and passes our ^C byte to
  // it, so the terminal driver sends SIGINT, as a keyboard does.
  if (spawnSync("script", ["-V"]).status !== 0) {
    if (process.env.CI === "true") assert.fail("util-linux `script` is needed to run the CLI on a pseudo-terminal");
    t.skip("needs util-linux `script` (a pseudo-terminal)");
    return;
  }
  const rig = await ToyRig.create();
  await rig.editParams((params) => (params.side.sleepMs = 60_000));
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.CI; // the terminal display, not CI's plain lines
  const command = `stty cols 120 rows 40; exec ${process.execPath} --import tsx cli.ts run`;
  const child = spawn("script", ["-qefc", command, "/dev/null"], { cwd: rig.dir, env, stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk));
  const closed = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  for (let waited = 0; !(await rig.invocations()).side; waited += 100) {
    assert.ok(waited < 30_000, `side never started:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
  child.stdin.write("\u0003");
  const code = await closed;
  assert.equal(code, 130, output);
  assert.ok(output.includes(cursorHidden), "the display hid the cursor");
  assert.ok(output.lastIndexOf(cursorShown) > output.lastIndexOf(cursorHidden), "and showed it again");
  assert.match(output, /pipeline: interrupted while running side\./);
  assert.match(output, /The next run reuses the 4 stages that finished; side starts over from the beginning/);

  await rig.editParams((params) => (params.side.sleepMs = 0));
  const again = await rig.spawnCli(["run"]).done;
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(await rig.invocations(), { source: 1, upper: 1, "count@at": 1, "count@the": 1, side: 2, summary: 1 });
});

test("Ctrl-C without a terminal (CI logs): the same report, and the lock names only finished stages", async () => {
  const rig = await ToyRig.create();
  await rig.editParams((params) => (params.side.sleepMs = 60_000));
  const { child, done } = rig.spawnCli(["run"]);
  for (let waited = 0; !(await rig.invocations()).side; waited += 100) {
    assert.ok(waited < 30_000, "side never started");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill("SIGINT");
  const result = await done;
  assert.equal(result.code, 130);
  assert.match(result.stderr, /interrupted while running side/);
  // Interrupted is not failed, and what waited on it says so.
  assert.match(result.stdout, /^4 ran, 0 cached, 0 failed, 1 skipped, 1 interrupted in /m);
  assert.match(result.stderr, /summary skipped: upstream side was interrupted/);
  const lock = JSON.parse(await readFile(join(rig.dir, "pipeline.lock.json"), "utf8")) as { stages: Record<string, unknown> };
  assert.deepEqual(Object.keys(lock.stages).sort(), ["count@at", "count@the", "source", "upper"]);
});

test("--jobs defaults to the cores, and each stage's threads to cores / jobs", async () => {
  const rig = await ToyRig.create();
  const threadsOfSide = async (): Promise<string | undefined> => {
    const lock = JSON.parse(await readFile(join(rig.dir, "pipeline.lock.json"), "utf8")) as { stages: Record<string, { fingerprint: string }> };
    const record = JSON.parse(await readFile(join(rig.dir, "artifacts/stages/side", lock.stages.side!.fingerprint, "run.json"), "utf8")) as { execution: Record<string, string> };
    return record.execution.threads;
  };
  const cores = availableParallelism();
  assert.equal((await rig.spawnCli(["run"]).done).code, 0);
  assert.equal(await threadsOfSide(), String(Math.max(1, Math.floor(cores / cores))), "one stage per core, one thread each");
  assert.equal((await rig.spawnCli(["run", "-j", "1", "--force", "side"]).done).code, 0);
  assert.equal(await threadsOfSide(), String(cores), "one stage at a time gets every core");
});
