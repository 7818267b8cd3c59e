import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { PipelineError } from "../../engine/errors.ts";
import { safeName } from "../../engine/local-result-store.ts";
import { planStages } from "../../engine/planner.ts";
import { defineSweep, sweepItemOf, sweepPoints, type SweepAxis } from "../../engine/sweep.ts";
import { describeReason } from "../../engine/why.ts";
import { ToyRig } from "./toy-rig.ts";

/**
 * Sweeps (engine/sweep.ts): expansion and ids as pure functions, then the toy project's `repeat`
 * sweep through the real engine — each item cached on its own, `-S` and `status` on items as on
 * hand-written stages.
 */

function declaration(axes: (item: string | undefined) => readonly SweepAxis[], items?: readonly string[]) {
  return defineSweep<Record<string, unknown>>({
    name: "train",
    module: "/nowhere/train.ts",
    ...(items ? { items: () => items } : {}),
    axes: (item) => axes(item),
    inputs: (point) => ({ data: `prepare@${point.item ?? "all"}` }),
    params: (point) => [`experiments.${point.item ?? "x"}.model`],
    run: async () => {},
  });
}

test("a sweep expands into one stage per combination, named family@base+label=value, first axis slowest", () => {
  const stages = declaration(
    () => [
      { path: "experiments.lenet.training.seed", values: [42, 7] },
      { path: "experiments.lenet.optimizer.lr", label: "lr", values: [0.01, 0.001] },
    ],
    ["lenet"],
  ).expand({});
  assert.deepEqual(
    stages.map((stage) => stage.name),
    ["train@lenet+seed=42+lr=0.01", "train@lenet+seed=42+lr=0.001", "train@lenet+seed=7+lr=0.01", "train@lenet+seed=7+lr=0.001"],
  );
  const first = stages[0]!;
  assert.deepEqual(first.paramOverrides, { "experiments.lenet.training.seed": 42, "experiments.lenet.optimizer.lr": 0.01 });
  assert.equal(first.sweepOf, "train@lenet");
  assert.equal(first.item, "lenet+seed=42+lr=0.01");
  assert.deepEqual(first.inputs, { data: "prepare@lenet" });
  // Swept paths the stage did not declare are declared for it, so their values are in its key.
  assert.deepEqual(first.params, ["experiments.lenet.model", "experiments.lenet.training.seed", "experiments.lenet.optimizer.lr"]);
  for (const stage of stages) {
    assert.equal(safeName(stage.name), stage.name, `${stage.name} is its own folder name`);
    assert.ok(!stage.name.includes(":"), `${stage.name} is a valid BullMQ job id`);
  }
});

test("ids are stable: adding or removing a value leaves the other ids alone", () => {
  const ids = (values: number[]) => declaration(() => [{ path: "experiments.lenet.training.seed", values }], ["lenet"]).expand({}).map((stage) => stage.name);
  assert.deepEqual(ids([1, 2, 3]), ["train@lenet+seed=1", "train@lenet+seed=2", "train@lenet+seed=3"]);
  assert.deepEqual(ids([1, 3]), ["train@lenet+seed=1", "train@lenet+seed=3"]);
  assert.deepEqual(ids([1, 2, 3, 9]), ["train@lenet+seed=1", "train@lenet+seed=2", "train@lenet+seed=3", "train@lenet+seed=9"]);
});

test("without axes an item is one plain stage; without items the sweep's points follow the family directly", () => {
  const plain = declaration(() => [], ["cnn9"]).expand({});
  assert.deepEqual(plain.map((stage) => stage.name), ["train@cnn9"]);
  assert.equal(plain[0]!.paramOverrides, undefined);
  assert.equal(plain[0]!.sweepOf, undefined);
  const itemless = declaration(() => [{ path: "rate", values: ["low", true, -1.5] }]).expand({});
  assert.deepEqual(itemless.map((stage) => stage.name), ["train@rate=low", "train@rate=true", "train@rate=-1.5"]);
  assert.equal(itemless[0]!.sweepOf, "train");
});

test("values and labels that would need escaping, repeats and empty axes are refused with the sweep and path named", () => {
  const refuse = (axes: SweepAxis[], pattern: RegExp, item = "lenet") =>
    assert.throws(() => sweepPoints(item, axes, "train"), (error: unknown) => error instanceof PipelineError && error.reason === "invalid-sweep" && pattern.test(error.message));
  refuse([{ path: "a.seed", values: ["x:y"] }], /sweep "train" of "lenet", a\.seed: the value "x:y" cannot be part of a stage id/);
  refuse([{ path: "a.seed", values: ["a b"] }], /cannot be part of a stage id/);
  refuse([{ path: "a.seed", values: [1e21] }], /1e\+21 cannot be part of a stage id/);
  refuse([{ path: "a.seed", values: [Number.NaN] }], /NaN is not a finite number/);
  refuse([{ path: "a.seed", values: [1, 2, 1] }], /a\.seed: the value 1 is listed twice/);
  refuse([{ path: "a.seed", values: [] }], /a\.seed has no values to sweep over/);
  refuse([{ path: "a.seed", values: [1] }, { path: "b.seed", values: [2] }], /two axes are labelled "seed"/);
  refuse([{ path: "a.seed", label: "se:ed", values: [1] }], /the label "se:ed" of a\.seed must start with a letter/);
  refuse([{ path: "a.seed", values: [1] }], /a swept item cannot be empty or contain "\+" or "="/, "le+net");
  refuse([{ path: "a..seed", values: [1] }], /cannot parse the parameter path/);
});

test("sweepItemOf reads a swept name back to its base and values; other names are not swept", () => {
  assert.deepEqual(sweepItemOf("evaluate@lenet-dropout-0.25+seed=43"), { base: "evaluate@lenet-dropout-0.25", values: { seed: "43" } });
  assert.deepEqual(sweepItemOf("train@lenet+seed=42+lr=0.01"), { base: "train@lenet", values: { seed: "42", lr: "0.01" } });
  assert.deepEqual(sweepItemOf("train@rate=low"), { base: "train", values: { rate: "low" } });
  assert.equal(sweepItemOf("evaluate@lenet-dropout-0.25"), undefined);
  assert.equal(sweepItemOf("report"), undefined);
});

const REPEAT = { times: [1, 2], separator: "-" };
const ITEMS = ["repeat@at+times=1", "repeat@at+times=2", "repeat@the+times=1", "repeat@the+times=2"];

function runsOf(counts: Record<string, number>, prefix: string): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).filter(([name]) => name.startsWith(prefix)));
}

test("each sweep item is cached on its own: run → 1 each, rerun → still 1, a new value runs only its items, removing one reruns nothing", async () => {
  const rig = await ToyRig.create();
  await rig.editParams((params) => (params.repeat = REPEAT));
  assert.equal((await rig.run()).ok, true);
  assert.deepEqual(runsOf(await rig.invocations(), "repeat@"), Object.fromEntries(ITEMS.map((name) => [name, 1])));
  const session = await rig.session();
  // Each item's key holds its own value at the swept path, not the document's list.
  assert.deepEqual(session.lock.stages["repeat@at+times=2"]!.params, { "repeat.separator": "-", "repeat.times": 2 });
  assert.deepEqual(session.lock.stages["repeat@at+times=2"]!.metrics, { length: 9 }); // "at:3-at:3"
  assert.deepEqual(await readdir(join(rig.dir, "artifacts/stages")).then((names) => names.filter((name) => name.startsWith("repeat@")).sort()), ITEMS);

  await rig.run();
  assert.deepEqual(runsOf(await rig.invocations(), "repeat@"), Object.fromEntries(ITEMS.map((name) => [name, 1])), "a rerun runs nothing");

  // A new value through -S: only its two items run.
  const added = await rig.run({ overrides: ["repeat.times=[1,2,3]"] });
  assert.equal(added.outcomes["repeat@at+times=3"]?.status, "ran");
  assert.deepEqual(runsOf(await rig.invocations(), "repeat@"), { ...Object.fromEntries(ITEMS.map((name) => [name, 1])), "repeat@at+times=3": 1, "repeat@the+times=3": 1 });

  // Removing a value: the others are reused, the lock forgets the removed items.
  const removed = await rig.run({ overrides: ["repeat.times=[2,3]"] });
  assert.ok(Object.values(removed.outcomes).every((outcome) => outcome.status === "cached"), JSON.stringify(removed.outcomes));
  const after = await rig.session(["repeat.times=[2,3]"]);
  assert.equal(after.lock.stages["repeat@at+times=1"], undefined);
  assert.ok(after.lock.stages["repeat@at+times=3"]);
});

test("status explains sweep items like hand-written stages: a new value is never run, a base param change names the param", async () => {
  const rig = await ToyRig.create();
  await rig.editParams((params) => (params.repeat = REPEAT));
  await rig.run();

  const plans = await planStages(await rig.session(["repeat.times=[1,2,5]", "repeat.separator=/"]));
  const reasons = (name: string) => plans.find((plan) => plan.stage === name)!.reasons.map(describeReason);
  assert.deepEqual(reasons("repeat@at+times=5"), ["never run with these settings"]);
  assert.deepEqual(reasons("repeat@at+times=1"), ['param repeat.separator changed from "-" to "/"']);
  assert.equal(plans.find((plan) => plan.stage === "count@at")!.state, "up-to-date");

  // The same through the CLI a user runs: `status` names the item and says why.
  const status = await rig.spawnCli(["status", "-S", "repeat.separator=/"]).done;
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /repeat@the\+times=2\s.*param repeat\.separator changed from "-" to "\/"/);
});

test("--only with a sweep's base selects every item of it (and what they need)", async () => {
  const rig = await ToyRig.create();
  await rig.editParams((params) => (params.repeat = REPEAT));
  const summary = await rig.run({ only: ["repeat@the"] });
  assert.deepEqual(Object.keys(summary.outcomes).sort(), ["count@the", "repeat@the+times=1", "repeat@the+times=2", "source", "upper"]);
  const text = JSON.parse(await readFile(join(rig.dir, (await rig.session()).lock.stages["repeat@the+times=2"]!.artifact, "out/repeat.json"), "utf8"));
  assert.equal(text.text, "the:2-the:2");
});

test("diff shows each item's metrics and, per sweep base, their mean and count on each side", async () => {
  const rig = await ToyRig.create();
  await rig.editParams((params) => (params.repeat = REPEAT));
  assert.equal((await rig.spawnCli(["run"]).done).code, 0);
  const { copyFile } = await import("node:fs/promises");
  await copyFile(join(rig.dir, "pipeline.lock.json"), join(rig.dir, "before.lock.json"));
  await rig.editParams((params) => (params.repeat.times = [1, 2, 3]));
  assert.equal((await rig.spawnCli(["run"]).done).code, 0);

  const json = await rig.spawnCli(["diff", "before.lock.json", "--json"]).done;
  assert.equal(json.code, 0, json.stderr);
  const parsed = JSON.parse(json.stdout) as { metrics: unknown[]; params: unknown[] };
  // "at:3" is 4 characters: 1 time → 4, 2 → 9, 3 → 14; "the:2" is 5: 5, 11, 17.
  assert.deepEqual(parsed.metrics, [
    { stage: "repeat@at", name: "length", a: 6.5, b: 9, delta: 2.5, mean: { a: 2, b: 3 } },
    { stage: "repeat@at+times=3", name: "length", a: null, b: 14 },
    { stage: "repeat@the", name: "length", a: 8, b: 11, delta: 3, mean: { a: 2, b: 3 } },
    { stage: "repeat@the+times=3", name: "length", a: null, b: 17 },
  ]);
  assert.deepEqual(parsed.params, [{ name: "repeat.times (times=3)", a: null, b: 3 }]);

  const text = await rig.spawnCli(["diff", "before.lock.json", "--all"]).done;
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /repeat@at \(mean of 2 → 3\)\s+length\s+6\.5\s+9\s+\+2\.5/);
  assert.match(text.stdout, /repeat@at\+times=1\s+length\s+4\s+4\s+0/);
});
