import assert from "node:assert/strict";
import { chmod, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { planStages } from "../../engine/planner.ts";
import { ToyRig } from "./toy-rig.ts";

const ALL = ["source", "upper", "count@at", "count@the", "side", "summary"];

function ones(names: string[]): Record<string, number> {
  return Object.fromEntries(names.map((name) => [name, 1]));
}

test("run executes every stage once; a rerun executes nothing", async () => {
  const rig = await ToyRig.create();
  const first = await rig.run();
  assert.equal(first.ok, true);
  assert.deepEqual(await rig.invocations(), ones(ALL));
  const second = await rig.run();
  assert.deepEqual(await rig.invocations(), ones(ALL));
  assert.ok(Object.values(second.outcomes).every((outcome) => outcome.status === "cached"));
  const summary = await readFile(join(rig.dir, "artifacts/stages/summary", second.outcomes.summary!.status === "cached" ? (second.outcomes.summary as { fingerprint: string }).fingerprint : "", "out/summary.txt"), "utf8");
  assert.match(summary, /count@at: \{"item":"at","occurrences":3\}/);
  assert.match(summary, /side: 42/);
});

test("changing a declared param reruns that stage and its dependents only", async () => {
  const rig = await ToyRig.create();
  await rig.run();
  await rig.editParams((params) => (params.upper.suffix = "AT")); // one more "AT" for count@at
  await rig.run();
  const counts = await rig.invocations();
  assert.deepEqual(counts, { ...ones(ALL), upper: 2, "count@at": 2, "count@the": 2, summary: 2 });
});

test("changing an undeclared param reruns nothing", async () => {
  const rig = await ToyRig.create();
  await rig.run();
  await rig.editParams((params) => (params.source.unused = 99));
  await rig.run();
  assert.deepEqual(await rig.invocations(), ones(ALL));
});

test("a -S override is typed, validated and tracked like an edit", async () => {
  const rig = await ToyRig.create();
  await rig.run();
  await rig.run({ overrides: ["side.value=5"] });
  const counts = await rig.invocations();
  assert.deepEqual(counts, { ...ones(ALL), side: 2, summary: 2 });
  await assert.rejects(rig.run({ overrides: ["side.value=abc"] }), /side\.value: expected a number, found string "abc"/);
});

test("an upstream rerun with identical output does not rerun downstream (early cutoff)", async () => {
  const rig = await ToyRig.create();
  await rig.run();
  // "The cat" and "the cat" upper-case to the same text: source reruns, upper reruns, nothing after.
  await rig.editParams((params) => (params.source.text = "THE cat sat on the mat"));
  await rig.run();
  assert.deepEqual(await rig.invocations(), { ...ones(ALL), source: 2, upper: 2 });
});

test("changing a stage's code reruns it and its dependents; an imported helper counts as its code", async () => {
  const rig = await ToyRig.create();
  await rig.run();
  await rig.editFile("stages/side.ts", (text) => text.replace("* 2", "* 3"));
  // A fresh process, so the edited module is what runs (this one has the old one loaded).
  const rerun = await rig.spawnCli(["run"]).done;
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.deepEqual(await rig.invocations(), { ...ones(ALL), side: 2, summary: 2 });
  // log.ts is imported by every stage, so every stage reruns.
  await rig.editFile("stages/log.ts", (text) => text + "\n// shared helper changed\n");
  const plans = await planStages(await rig.session());
  assert.ok(plans.every((plan) => plan.state === "will-run"));
  assert.deepEqual(plans.find((plan) => plan.stage === "source")?.reasons, [{ kind: "code-changed", file: "stages/log.ts", change: "modified" }]);
});

test("a type-only import is not part of the code fingerprint", async () => {
  const rig = await ToyRig.create();
  await rig.run();
  await rig.editFile("project.ts", (text) => text + "\n// the params type lives here; count.ts imports it as a type\n");
  await rig.run();
  assert.equal((await rig.invocations())["count@at"], 1);
});

test("a deleted or corrupted output is detected and its stage reruns", async () => {
  const rig = await ToyRig.create();
  const first = await rig.run();
  const upperFingerprint = (first.outcomes.upper as { fingerprint: string }).fingerprint;
  const upperFile = join(rig.dir, "artifacts/stages/upper", upperFingerprint, "out/upper.txt");
  await chmod(upperFile, 0o644);
  await writeFile(upperFile, "THE CAT SAT ON THE MAT?"); // same length: only the hash can tell
  let plans = await planStages(await rig.session());
  assert.deepEqual(plans.find((plan) => plan.stage === "upper")?.reasons, [{ kind: "output-corrupted", file: "upper.txt" }]);
  await rig.run();
  assert.equal((await rig.invocations()).upper, 2);
  assert.equal((await rig.invocations())["count@at"], 1, "the rebuilt output is identical, so dependents stay cached");

  const sourceFingerprint = (first.outcomes.source as { fingerprint: string }).fingerprint;
  await rm(join(rig.dir, "artifacts/stages/source", sourceFingerprint, "out/text.txt"));
  plans = await planStages(await rig.session());
  assert.deepEqual(plans.find((plan) => plan.stage === "source")?.reasons, [{ kind: "output-missing", file: "text.txt" }]);
  await rig.run();
  assert.equal((await rig.invocations()).source, 2);
});

test("status explains a param change with its old and new value", async () => {
  const rig = await ToyRig.create();
  await rig.run();
  await rig.editParams((params) => (params.side.value = 7));
  const plans = await planStages(await rig.session());
  assert.deepEqual(
    plans.map((plan) => [plan.stage, plan.state]),
    [["source", "up-to-date"], ["upper", "up-to-date"], ["count@at", "up-to-date"], ["count@the", "up-to-date"], ["side", "will-run"], ["summary", "will-run"]],
  );
  assert.deepEqual(plans.find((plan) => plan.stage === "side")?.reasons, [{ kind: "param-changed", path: "side.value", from: 21, to: 7 }]);
  assert.deepEqual(plans.find((plan) => plan.stage === "summary")?.reasons, [{ kind: "upstream-will-run", stage: "side" }]);
});

test("setting a param back restores the earlier cached result without rerunning", async () => {
  const rig = await ToyRig.create();
  await rig.run();
  await rig.run({ overrides: ["upper.suffix=AT"] });
  const back = await rig.run();
  assert.deepEqual(await rig.invocations(), { ...ones(ALL), upper: 2, "count@at": 2, "count@the": 2, summary: 2 });
  assert.ok(Object.values(back.outcomes).every((outcome) => outcome.status === "cached"));
});

test("foreach items: adding one runs only the new stage and the aggregate", async () => {
  const rig = await ToyRig.create();
  await rig.run();
  await rig.editParams((params) => params.items.push("on"));
  await rig.run();
  assert.deepEqual(await rig.invocations(), { ...ones(ALL), "count@on": 1, summary: 2 });
});

test("--force reruns matching stages; --only runs the targets and what they need", async () => {
  const rig = await ToyRig.create();
  const partial = await rig.run({ only: ["count@at"] });
  assert.deepEqual(Object.keys(partial.outcomes).sort(), ["count@at", "source", "upper"]);
  await rig.run({ force: ["count*"] });
  assert.deepEqual(await rig.invocations(), { source: 1, upper: 1, "count@at": 2, "count@the": 1, side: 1, summary: 1 });
  await rig.run({ only: ["upper"], downstream: true, force: ["upper"] });
  const counts = await rig.invocations();
  assert.equal(counts.upper, 2);
  assert.equal(counts.side, 1);
});

test("validated params are cached by content, and revalidated when the schema code changes", async () => {
  const rig = await ToyRig.create();
  await rig.run();
  const cacheDir = join(rig.dir, "artifacts/.params-cache");
  const { readdir } = await import("node:fs/promises");
  assert.equal((await readdir(cacheDir)).length, 1);
  await rig.run();
  assert.equal((await readdir(cacheDir)).length, 1, "the same document reuses its entry");
  await rig.editFile("schema.ts", (text) => text.replace('value: "number.integer >= 0"', 'value: "0 <= number.integer <= 10"'));
  const result = await rig.spawnCli(["status"]).done; // a fresh process loads the edited schema
  assert.equal(result.code, 2);
  assert.match(result.stderr, /side\.value: expected at most 10, found number 21/);
});

test("a forced rerun that reproduces its result leaves the lock as it was; one that changes it rewrites its entry", async () => {
  const rig = await ToyRig.create();
  await rig.run();
  const lockPath = join(rig.dir, "pipeline.lock.json");
  const before = await readFile(lockPath, "utf8");
  await rig.run({ force: ["source", "upper", "side"] });
  assert.deepEqual(await rig.invocations(), { ...ones(ALL), source: 2, upper: 2, side: 2 });
  assert.equal(await readFile(lockPath, "utf8"), before, "same key, same output: the first run's entry (its time and machine) is kept");

  await rig.editParams((params) => (params.side.value = 43));
  await rig.run();
  const after = JSON.parse(await readFile(lockPath, "utf8")) as { stages: Record<string, { startedAt: string }> };
  const old = JSON.parse(before) as { stages: Record<string, { startedAt: string }> };
  assert.notEqual(after.stages.side!.startedAt, old.stages.side!.startedAt, "a new result: a new entry");
  assert.equal(after.stages.source!.startedAt, old.stages.source!.startedAt);
});
