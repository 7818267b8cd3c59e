import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { CompactRenderer } from "../../engine/compact-renderer.ts";
import { RunView } from "../../engine/run-view.ts";

/** A terminal stand-in: what the renderer wrote, with escapes stripped and erased lines removed. */
function fakeTerminal(columns = 60, rows = 12): { stream: NodeJS.WriteStream; written: () => string } {
  let raw = "";
  const stream = { columns, rows, isTTY: true, write: (text: string) => ((raw += text), true) } as unknown as NodeJS.WriteStream;
  return { stream, written: () => raw };
}

const plain = (text: string): string => text.replace(/\u001B\[[0-?]*[ -/]*[@-~]/g, "");

test("a no-op in a terminal prints one line for all cached stages, none per stage", () => {
  const view = new RunView();
  const { stream, written } = fakeTerminal();
  const renderer = new CompactRenderer([], { view, stream, capture: [] });
  renderer.render();
  const names = Array.from({ length: 183 }, (_, i) => `stage-${i}`);
  view.plan(names);
  for (const name of names) view.set(name, { kind: "cached", line: `${name} cached` });
  renderer.end();
  assert.equal(plain(written()).trim(), "✔ 183 stages cached (pipeline status lists them)");
});

test("a run in a terminal: each settled stage printed once above the live area, which lists running stages and the counts", async () => {
  const view = new RunView();
  const { stream, written } = fakeTerminal(60, 8);
  const renderer = new CompactRenderer([], { view, stream, capture: [] });
  renderer.render();
  view.plan(["download", "train@a", "train@b", "evaluate@a", "report"]);
  view.set("download", { kind: "cached", line: "download cached" });
  view.set("train@a", { kind: "running", detail: "epoch 1/3, a progress text far wider than this terminal" });
  view.set("train@b", { kind: "running", detail: "epoch 2/3" });
  await sleep(350); // past the first 200 ms: the live area is drawn
  const live = plain(written());
  assert.match(live, /train@a {2}epoch 1\/3, a progress text far wider than this t…\n/, "a running stage's line is cut to the terminal's width");
  assert.ok(plain(written()).split("\n").every((line) => [...line].length <= 60), "no line wider than the terminal");
  assert.match(live, /1 of 5 stages · 2 running · 2 queued · 0 ran · 1 cached/);
  view.set("train@a", { kind: "done", line: "train@a done in 1.00s" });
  view.set("evaluate@a", { kind: "failed", line: "evaluate@a: threw: boom" });
  view.set("train@b", { kind: "done", line: "train@b done in 2.00s" });
  view.set("report", { kind: "skipped", line: "report skipped: upstream evaluate@a failed" });
  await sleep(150);
  renderer.end();
  const text = plain(written());
  for (const line of ["✔ train@a done in 1.00s", "✖ evaluate@a: threw: boom", "✔ train@b done in 2.00s", "↓ report skipped: upstream evaluate@a failed", "✔ 1 stage cached"]) {
    assert.equal(text.split(line).length - 1, 1, `"${line}" printed once:\n${text}`);
  }
  assert.ok(text.indexOf("✔ train@a done") < text.indexOf("✔ 1 stage cached"), "settled stages come before the cached count");
});

test("others' writes while the live area is up are printed above it, not lost", async () => {
  const view = new RunView();
  const { stream, written } = fakeTerminal();
  const other = { write: () => true } as unknown as NodeJS.WritableStream;
  const renderer = new CompactRenderer([], { view, stream, capture: [other] });
  renderer.render();
  view.plan(["a"]);
  view.set("a", { kind: "running", detail: "working" });
  other.write("warning: the remote is down\n");
  await sleep(350);
  view.set("a", { kind: "done", line: "a done in 0.35s" });
  renderer.end();
  const text = plain(written());
  assert.match(text, /warning: the remote is down\n/);
  assert.ok(text.indexOf("warning: the remote") < text.indexOf("✔ a done"));
});
