/** How failures read: the line of a crashed process that says what went wrong, not Node's version banner. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PipelineError } from "../../engine/errors.ts";
import { describeFailure, failureOf, isRetryable, StageFailureError } from "../../engine/failure.ts";
import { StageGraph } from "../../engine/graph.ts";
import { defineStage } from "../../engine/index.ts";
import { readBaseline } from "../../engine/metrics-commands.ts";

test("a crashed process is described by its error line, not by Node's trailing version line", () => {
  const crash = spawnSync(process.execPath, ["-e", "function load() { throw new TypeError('the dataset has 0 rows') } load()"], { encoding: "utf8" });
  assert.match(crash.stderr.trim().split("\n").at(-1)!, /^Node\.js v/, "Node ends with its version (what a tail would show)");
  const failure = { reason: "exited", code: crash.status ?? -1, stderrTail: crash.stderr } as const;
  assert.equal(describeFailure(failure), "its process exited with code 1 before finishing: TypeError: the dataset has 0 rows (pipeline logs STAGE for the whole output)");
  assert.match(describeFailure(failure, true), /at load/, "--verbose shows the stack");
});

test("retryable failures are the infrastructure's; a thrown error keeps its message and stack", () => {
  assert.equal(isRetryable({ reason: "signalled", signal: "SIGKILL", stderrTail: "" }), true);
  assert.equal(isRetryable({ reason: "lost-worker", detail: "stalled" }), true);
  assert.equal(isRetryable({ reason: "threw", message: "x" }), false);
  assert.equal(isRetryable({ reason: "code-mismatch", files: ["a.ts"] }), false);
  const thrown = failureOf(new Error("bad input"));
  assert.equal(thrown.reason === "threw" && thrown.message, "bad input");
  assert.deepEqual(failureOf(new StageFailureError({ reason: "aborted" })), { reason: "aborted" });
});

test("user errors carry the reason that names them: two stages of one name, a baseline that is not one", async () => {
  const twin = defineStage<Record<string, never>>({ name: "twin", module: import.meta.url, run: async () => {} });
  const stages = [...twin.expand({}), ...twin.expand({})];
  assert.throws(() => new StageGraph(stages), (error: unknown) => error instanceof PipelineError && error.reason === "duplicate-stage" && /two stages are named "twin"/.test(error.message));
  const dir = await mkdtemp(join(tmpdir(), "baseline-"));
  for (const [file, content] of [["broken.json", "{"], ["other.json", JSON.stringify({ schema: 99 })]] as const) {
    await writeFile(join(dir, file), content);
    await assert.rejects(readBaseline(join(dir, file)), (error: unknown) => error instanceof PipelineError && error.reason === "invalid-baseline");
  }
});
