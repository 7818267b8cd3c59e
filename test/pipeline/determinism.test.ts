import assert from "node:assert/strict";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { executeStages, type RunSummary } from "../../engine/executor.ts";
import type { RunRecord } from "../../engine/run-record.ts";
import { Session } from "../../engine/session.ts";
import { readTrainingMeasurements } from "../../ml/training-measurements.ts";
import { project } from "../../stages/index.ts";
import { tinyProfileBase, tinyWorkDir } from "../helpers/tiny-profile.ts";

/**
 * Measurements beside the content (issue #13 §3): a training's files are a function of code, params
 * and inputs only, so a forced retrain writes them byte for byte again and everything downstream
 * stays cached (early cutoff), while the run record beside them holds this run's own wall time,
 * images/s and load. Real MNIST subset, real tfjs training in a stage process, one short epoch.
 */

const ID = "conv1-sgd";
const TRAIN = `train@${ID}`;

function tinyParams(): unknown {
  return {
    ...tinyProfileBase({ train: 320, test: 100, validation: 64, epochs: 1 }),
    experiments: {
      // The normalized dataset has a validation split, so the epoch has a validation pass to time.
      [ID]: { title: "conv1", study: "001", dataset: "tiny", reference: { accuracy: null }, model: { arch: "conv1" }, optimizer: { name: "sgd", lr: 0.05 } },
    },
  };
}

function statuses(summary: RunSummary): Record<string, string> {
  return Object.fromEntries(Object.entries(summary.outcomes).map(([name, outcome]) => [name, outcome.status]));
}

test("a forced retrain reproduces its files byte for byte: evaluate and the report stay cached, the run record is new", async () => {
  const workDir = await tinyWorkDir("determinism-");
  try {
    const paramsFile = join(workDir, "params.json");
    await writeFile(paramsFile, JSON.stringify(tinyParams()));
    const open = () => Session.open(project, { paramsFile, workDir, jobs: 2 });
    const trainFiles = async (session: Awaited<ReturnType<typeof open>>): Promise<{ record: RunRecord; files: Record<string, Buffer> }> => {
      const entry = session.lock.stages[TRAIN]!;
      const stored = await session.store.readRecord(TRAIN, entry.fingerprint);
      assert.ok(stored?.run, `${TRAIN} has a run record`);
      const files: Record<string, Buffer> = {};
      for (const file of Object.keys(entry.outputs.files)) files[file] = await readFile(join(workDir, entry.artifact, "out", file));
      return { record: stored.run, files };
    };

    const first = await executeStages(await open(), { jobs: 2 });
    assert.equal(first.ok, true, JSON.stringify(first.outcomes));
    const before = await open();
    const lockedBefore = before.lock.stages[TRAIN]!;
    const { record: recordBefore, files: filesBefore } = await trainFiles(before);

    // history.json holds metrics, not timings; the timings are in the run record and the lock entry.
    const history = JSON.parse(filesBefore["history.json"]!.toString("utf8"));
    assert.deepEqual(Object.keys(history).sort(), ["backend", "history", "parameters", "versions"]);
    assert.deepEqual(Object.keys(history.history[0]).sort(), ["epoch", "trainAccuracy", "trainLoss", "valAccuracy", "valLoss"]);
    const measured = readTrainingMeasurements(recordBefore.measurements, TRAIN);
    assert.ok(measured, "the run record holds the training's measurements");
    assert.ok(measured.trainingSeconds > 0 && measured.imagesPerSecond > 0 && measured.validationSeconds > 0, JSON.stringify(measured));
    assert.equal(measured.epochs.length, 1);
    assert.ok(measured.epochs[0]!.seconds >= measured.epochs[0]!.trainSeconds + measured.epochs[0]!.validationSeconds * 0.99);
    assert.deepEqual(lockedBefore.measurements, recordBefore.measurements, "the lock entry carries the measurements too");
    assert.ok(Number.isInteger(recordBefore.load.concurrentStages) && recordBefore.load.concurrentStages >= 1, "the load is recorded");

    const forced = await executeStages(await open(), { jobs: 2, force: [TRAIN] });
    assert.equal(forced.ok, true, JSON.stringify(forced.outcomes));
    const expected: Record<string, string> = {};
    for (const name of Object.keys(forced.outcomes)) expected[name] = "cached";
    expected[TRAIN] = "ran";
    assert.deepEqual(statuses(forced), expected, "only the forced training ran; evaluate, charts and report were cut off");

    const after = await open();
    const lockedAfter = after.lock.stages[TRAIN]!;
    const { record: recordAfter, files: filesAfter } = await trainFiles(after);
    assert.equal(lockedAfter.fingerprint, lockedBefore.fingerprint);
    assert.equal(lockedAfter.outputs.outputHash, lockedBefore.outputs.outputHash, "the same output hash");
    for (const [file, bytes] of Object.entries(filesBefore)) assert.ok(bytes.equals(filesAfter[file]!), `${file} is byte-identical`);
    assert.notEqual(recordAfter.startedAt, recordBefore.startedAt, "the run record is this run's");
    assert.ok(readTrainingMeasurements(recordAfter.measurements, TRAIN), "the new run record has measurements");
    assert.deepEqual(lockedAfter, lockedBefore, "a reproduced result keeps the lock entry of the run that first made it");
    assert.equal(after.lock.stages.report!.fingerprint, before.lock.stages.report!.fingerprint, "the report's key is unchanged");

    // Every other stage is deterministic too: forced again (charts drawn in another order, inline
    // and in fresh processes), each writes the same bytes under the same key. Except the two that
    // print the training's wall time and images/s from its run record (comparison-charts, report):
    // provenance, which the retrain above renewed (see stages/report.ts).
    const printsRunRecords = new Set(["comparison-charts", "report"]);
    const others = Object.keys(after.lock.stages).filter((name) => name !== TRAIN && !printsRunRecords.has(name) && !name.startsWith("download") && !name.startsWith("preprocess"));
    const again = await executeStages(await open(), { jobs: 2, force: others });
    assert.equal(again.ok, true, JSON.stringify(again.outcomes));
    const final = await open();
    for (const name of others) {
      assert.equal(final.lock.stages[name]!.outputs.outputHash, after.lock.stages[name]!.outputs.outputHash, `${name} rewrote the same bytes`);
    }

    // With report.trainingTimes off (the CI profile's setting) those two reproduce byte for byte as well.
    await writeFile(paramsFile, JSON.stringify({ ...(tinyParams() as object), report: { trainingTimes: false } }));
    assert.equal((await executeStages(await open(), { jobs: 2 })).ok, true);
    const untimed = await open();
    const remade = await executeStages(await open(), { jobs: 2, force: [...printsRunRecords] });
    for (const name of printsRunRecords) assert.equal(remade.outcomes[name]?.status, "ran");
    const reread = await open();
    for (const name of printsRunRecords) {
      assert.equal(reread.lock.stages[name]!.outputs.outputHash, untimed.lock.stages[name]!.outputs.outputHash, `${name} rewrote the same bytes without training times`);
    }
  } finally {
    if (!process.env.KEEP_RIGS) await rm(workDir, { recursive: true, force: true });
  }
});
