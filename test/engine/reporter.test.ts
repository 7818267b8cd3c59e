import assert from "node:assert/strict";
import { test } from "node:test";
import { createListrReporter } from "../../engine/reporter.ts";

function fakeStream(): { stream: NodeJS.WriteStream; written: () => string } {
  let raw = "";
  const stream = { columns: 80, rows: 24, isTTY: false, write: (text: string) => ((raw += text), true) } as unknown as NodeJS.WriteStream;
  return { stream, written: () => raw.replace(/\u001B\[[0-?]*[ -/]*[@-~]/g, "") };
}

test("CI logs: an input reported cached, then found corrupt and rebuilt before its reader ran, is said to be rebuilt and why", async () => {
  const { stream, written } = fakeStream();
  const reporter = createListrReporter({ tty: false, stream });
  reporter.onEvent({ type: "plan", stages: ["source", "upper"] });
  reporter.onEvent({ type: "cached", stage: "source", fingerprint: "a".repeat(64), restored: false });
  reporter.onEvent({ type: "start", stage: "source", fingerprint: "a".repeat(64), reasons: [{ kind: "output-corrupted", file: "source.txt" }] });
  reporter.onEvent({ type: "done", stage: "source", fingerprint: "a".repeat(64), seconds: 0.5 });
  reporter.onEvent({ type: "start", stage: "upper", fingerprint: "b".repeat(64), reasons: [{ kind: "forced" }] });
  reporter.onEvent({ type: "done", stage: "upper", fingerprint: "b".repeat(64), seconds: 1 });
  await reporter.finished();
  const text = written();
  assert.match(text, /source cached aaaaaaaaaa/);
  assert.match(text, /↻ source rebuilding: .*source\.txt/);
  assert.match(text, /✔ source rebuilt in 0\.50s/);
  assert.match(text, /upper done in 1\.00s/);
});
