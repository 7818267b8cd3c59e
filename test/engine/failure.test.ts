/** How failures read: the line of a crashed process that says what went wrong, not Node's version banner. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { describeFailure, failureOf, isRetryable, StageFailureError } from "../../engine/failure.ts";

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
