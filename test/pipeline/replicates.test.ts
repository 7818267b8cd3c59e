import assert from "node:assert/strict";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { executeStages, type RunSummary } from "../../engine/executor.ts";
import { planStages } from "../../engine/planner.ts";
import { Session } from "../../engine/session.ts";
import { describeReason } from "../../engine/why.ts";
import { project } from "../../stages/index.ts";
import { parseParams } from "../../stages/params-schema.ts";
import { tinyProfileBase, tinyWorkDir } from "../helpers/tiny-profile.ts";

/**
 * Replicates (stages/replicates.ts): each seed is a train and evaluate stage of its own, so adding a
 * seed trains only that seed and removing one reuses the rest. Real MNIST subset, real training in
 * stage processes (conv1: the fastest network), through the engine.
 */

const ID = "conv1-sgd";

function tinyParams(seeds: number | number[]): any {
  return {
    ...tinyProfileBase({ train: 400, test: 100, validation: 64, epochs: 1 }),
    experiments: {
      // The dataset with a validation split: every seed must train against the same one.
      [ID]: { title: "conv1", study: "001", dataset: "tiny", reference: { accuracy: 0.939 }, model: { arch: "conv1" }, optimizer: { name: "sgd", lr: 0.05 }, training: { seeds } },
    },
  };
}

function ran(summary: RunSummary): string[] {
  return Object.entries(summary.outcomes)
    .filter(([, outcome]) => outcome.status === "ran")
    .map(([name]) => name)
    .sort();
}

test("adding a seed trains only that seed, removing one retrains nothing; the validation split is the same for every seed", async () => {
  const workDir = await tinyWorkDir("replicates-");
  try {
    const paramsFile = join(workDir, "params.json");
    const open = () => Session.open(project, { paramsFile, workDir, jobs: 2 });
    const run = async (seeds: number | number[]): Promise<RunSummary> => {
      await writeFile(paramsFile, JSON.stringify(tinyParams(seeds)));
      const summary = await executeStages(await open(), { jobs: 2 });
      assert.equal(summary.ok, true, JSON.stringify(summary.outcomes));
      return summary;
    };

    // Two seeds from the profile's seed (3): seeds 3 and 4.
    const first = await run(2);
    assert.deepEqual(ran(first).filter((name) => name.startsWith("train@")), [`train@${ID}+seed=3`, `train@${ID}+seed=4`]);
    let session = await open();
    const locked = (name: string) => session.lock.stages[name]!;
    assert.equal((locked(`train@${ID}+seed=3`).params[`experiments.${ID}.training`] as { seed: number }).seed, 3);
    assert.equal((locked(`train@${ID}+seed=4`).params[`experiments.${ID}.training`] as { seed: number }).seed, 4);
    // Same prepared dataset (so the same validation split) for both; different networks.
    assert.deepEqual(locked(`train@${ID}+seed=3`).inputs, locked(`train@${ID}+seed=4`).inputs);
    const history = async (seed: number) => readFile(join(workDir, locked(`train@${ID}+seed=${seed}`).artifact, "out/history.json"), "utf8");
    assert.notEqual(await history(3), await history(4), "another seed trains another network");
    assert.notEqual(locked(`evaluate@${ID}+seed=3`).outputs.outputHash, locked(`evaluate@${ID}+seed=4`).outputs.outputHash);

    // A third seed: status says why only its stages (and the aggregates) will run.
    await writeFile(paramsFile, JSON.stringify(tinyParams(3)));
    const plans = await planStages(await open());
    const reasons = (name: string) => plans.find((plan) => plan.stage === name)!.reasons.map(describeReason);
    assert.deepEqual(reasons(`train@${ID}+seed=5`), ["never run with these settings"]);
    assert.equal(plans.find((plan) => plan.stage === `train@${ID}+seed=3`)!.state, "up-to-date");
    const added = await run(3);
    assert.deepEqual(ran(added), ["comparison-charts", `evaluate@${ID}+seed=5`, "report", `train@${ID}+seed=5`]);

    // Removing the middle seed: nothing trains or evaluates; the report covers the two left.
    const removed = await run([3, 5]);
    assert.deepEqual(ran(removed), ["comparison-charts", "report"]);
    session = await open();
    assert.equal(session.lock.stages[`train@${ID}+seed=4`], undefined);
    const report = JSON.parse(await readFile(join(workDir, session.lock.stages.report!.artifact, "out/metrics.json"), "utf8"));
    assert.deepEqual(report.experiments[0].seeds, [3, 5]);
    assert.equal(report.experiments[0].n, 2);
    // The confusion matrix (charts@) is the first seed's: it did not rerun.
    assert.ok(!ran(added).includes(`charts@${ID}`) && !ran(removed).includes(`charts@${ID}`));
  } finally {
    if (!process.env.KEEP_RIGS) await rm(workDir, { recursive: true, force: true });
  }
});

const load = async (file: string): Promise<any> => JSON.parse(await readFile(new URL(`../../${file}`, import.meta.url), "utf8"));

test("params: a count counts up from seed, a list replaces it, conflicts and repeats are named; no seeds keeps plain stage names", async () => {
  const document = await load("params.ci.json");
  const plain = parseParams(document, "params.ci.json");
  assert.equal(plain.experiments.lenet!.seeds, null);
  assert.ok(project.declarations.flatMap((declaration) => declaration.expand({ ...plain, analyses: null })).some((stage) => stage.name === "train@lenet"));

  document.experiments.lenet.training.seeds = 3;
  assert.deepEqual(parseParams(document, "params.ci.json").experiments.lenet!.seeds, [42, 43, 44]);
  document.experiments.lenet.training.seeds = [7, 1];
  const listed = parseParams(document, "params.ci.json").experiments.lenet!;
  assert.deepEqual(listed.seeds, [7, 1]);
  assert.equal(listed.training.seed, 7, "the list's first seed is the analyses' run");
  assert.ok(!("seeds" in listed.training), "the list is not part of training, so adding a seed changes no run's key");

  document.experiments.lenet.training.seeds = [7, 1, 7];
  document.experiments["simple-adam"].training.seed = 5;
  document.experiments["simple-adam"].training.seeds = [1, 2];
  assert.throws(
    () => parseParams(document, "params.ci.json"),
    (error: Error) => {
      assert.match(error.message, /experiments\.lenet\.training\.seeds: the seed 7 is listed twice/);
      assert.match(error.message, /experiments\.simple-adam\.training: sets seed 5 while it lists the seeds \(1, 2\); give either seed \(with a count in seeds\) or the list alone/);
      return true;
    },
  );
  document.experiments.lenet.training.seeds = 0;
  assert.throws(() => parseParams(document, "params.ci.json"), /experiments\.lenet\.training\.seeds: expected/);
});

test("the default grid: seeds per row as budgeted, analyses and confusion matrices on the first seed, the report on every seed", async () => {
  const params = parseParams(await load("params.json"), "params.json");
  const stages = project.declarations.flatMap((declaration) => declaration.expand(params));
  const names = new Set(stages.map((stage) => stage.name));
  const lenetFamily = Object.keys(params.experiments).filter((id) => id.startsWith("lenet"));
  assert.equal(lenetFamily.length, 9);
  for (const id of lenetFamily) {
    assert.deepEqual(params.experiments[id]!.seeds, [42, 43, 44], `${id} has three seeds`);
    for (const seed of [42, 43, 44]) assert.ok(names.has(`train@${id}+seed=${seed}`) && names.has(`evaluate@${id}+seed=${seed}`));
  }
  for (const stage of stages.filter((entry) => entry.family === "occlusion" || entry.family === "charts")) {
    for (const input of Object.values(stage.inputs)) assert.ok(!/\+seed=4[34]$/.test(input), `${stage.name} reads the first seed only (${input})`);
  }
  const report = stages.find((stage) => stage.name === "report")!;
  assert.ok(report.deps.includes("evaluate@lenet+seed=44"), "the report reads every seed");
  // Every expanded id is its own folder name and a valid queue job id.
  for (const name of names) assert.match(name, /^[\w.@=+-]+$/);
});
