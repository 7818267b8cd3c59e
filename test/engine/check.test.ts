import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { compareToBaseline } from "../../engine/regression-check.ts";
import { ToyRig } from "./toy-rig.ts";

test("tolerances: absolute and relative limits, in the direction that is worse", () => {
  const tolerances = { accuracy: { better: "higher" as const, absolute: 0.003 }, loss: { better: "lower" as const, relative: 0.1 } };
  const baseline = { "evaluate@a": { accuracy: 0.99, loss: 0.05 } };
  const within = compareToBaseline({ "evaluate@a": { accuracy: 0.9875, loss: 0.054 } }, baseline, tolerances);
  assert.deepEqual(within.map((row) => row.status), ["pass", "pass"]);
  const beyond = compareToBaseline({ "evaluate@a": { accuracy: 0.986, loss: 0.056 } }, baseline, tolerances);
  assert.deepEqual(beyond.map((row) => [row.metric, row.status]), [["accuracy", "fail"], ["loss", "fail"]]);
  assert.ok(Math.abs(beyond[0]!.limit! - 0.987) < 1e-12);
  const better = compareToBaseline({ "evaluate@a": { accuracy: 0.999, loss: 0.01 } }, baseline, tolerances);
  assert.deepEqual(better.map((row) => row.status), ["pass", "pass"]);
});

test("check: baseline → pass twice (second fully cached) → regression fails with exit 1 naming stage and metric", async () => {
  const rig = await ToyRig.create();
  assert.equal((await rig.spawnCli(["run"]).done).code, 0);
  const baseline = await rig.spawnCli(["baseline"]).done;
  assert.equal(baseline.code, 0, baseline.stderr);
  const recorded = JSON.parse(await readFile(join(rig.dir, "reports/baseline.json"), "utf8"));
  assert.deepEqual(recorded.metrics, { "count@at": { occurrences: 3 }, "count@the": { occurrences: 2 } });

  for (let i = 0; i < 2; i++) {
    const check = await rig.spawnCli(["check"]).done;
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /count@at\s+occurrences\s+3\s+3\s+0\s+3\s+PASS/);
    assert.match(check.stdout, /All 2 checks pass\./);
  }
  assert.equal((await rig.invocations()).upper, 1, "the checks reran nothing");

  await rig.editParams((params) => (params.source.text = "the cat sat on the"));
  const regressed = await rig.spawnCli(["check", "--md"]).done;
  assert.equal(regressed.code, 1);
  assert.match(regressed.stdout, /\| count@at \| occurrences \| 3 \| 2 \| -1 \| 3 \| FAIL \|/);
  assert.match(regressed.stdout, /1 of 2 checks fail/);
});

test("check: an experiment missing on either side fails; a corrupt or absent baseline is exit 2", async () => {
  const rig = await ToyRig.create();
  assert.equal((await rig.spawnCli(["run"]).done).code, 0);
  assert.equal((await rig.spawnCli(["baseline"]).done).code, 0);
  await rig.editParams((params) => (params.items = ["at", "on"]));
  const missing = await rig.spawnCli(["check"]).done;
  assert.equal(missing.code, 1);
  assert.match(missing.stdout, /count@on\s+occurrences\s+—\s+1\s+.*FAIL \(missing in baseline\)/);
  assert.match(missing.stdout, /count@the\s+occurrences\s+2\s+—\s+.*FAIL \(missing in current\)/);

  await writeFile(join(rig.dir, "reports/baseline.json"), "{ not json");
  const corrupt = await rig.spawnCli(["check"]).done;
  assert.equal(corrupt.code, 2);
  assert.match(corrupt.stderr, /baseline\.json is not valid JSON/);
  const absent = await rig.spawnCli(["check", "--baseline", "nowhere.json"]).done;
  assert.equal(absent.code, 2);
  assert.match(absent.stderr, /no baseline at .*nowhere\.json: create one with `pipeline baseline`/);
});

test("diff: metrics and params between two lock files", async () => {
  const rig = await ToyRig.create();
  assert.equal((await rig.spawnCli(["run"]).done).code, 0);
  const { copyFile } = await import("node:fs/promises");
  await copyFile(join(rig.dir, "pipeline.lock.json"), join(rig.dir, "before.lock.json"));
  await rig.editParams((params) => (params.upper.suffix = " AT"));
  assert.equal((await rig.spawnCli(["run"]).done).code, 0);
  const diff = await rig.spawnCli(["diff", "before.lock.json", "--json"]).done;
  assert.equal(diff.code, 0, diff.stderr);
  const parsed = JSON.parse(diff.stdout);
  assert.deepEqual(parsed.metrics, [{ stage: "count@at", name: "occurrences", a: 3, b: 4, delta: 1 }]);
  assert.deepEqual(parsed.params, [{ name: "upper.suffix", a: "!", b: " AT" }]);
});
