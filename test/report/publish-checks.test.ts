import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { accuraciesOfLock, committedBase, draftReasons, publishSlotValues } from "../../presentation/report/publish-checks.ts";
import { DRAFT_SLOT, PARAMS_FILE_SLOT, deltaSlot, fillSlots, paramsFileOfLock, slot, slotNames } from "../../presentation/report/publish-slots.ts";

/**
 * What publishing fills in, on a real git repository made for the test: the Δ since the last
 * committed report (found in the lock file's history), the draft banner (tracked files changed
 * outside reports/ and the locks, or untracked code), the params file.
 */

let repo = "";
const git = (...args: string[]): string => execFileSync("git", ["-C", repo, ...args], { encoding: "utf8" });

/** A lock as the engine writes it, reduced to what publishing reads: evaluate metrics and stage code. */
function lock(accuracies: Record<string, number>, code: Record<string, string> = { "model.ts": "h1" }): string {
  const stages: Record<string, unknown> = {};
  for (const [stage, accuracy] of Object.entries(accuracies)) stages[stage] = { metrics: { accuracy, loss: 0.1 }, code: { files: code } };
  return JSON.stringify({ schema: 1, stages }, null, 2);
}

before(async () => {
  repo = await mkdtemp(join(tmpdir(), "publish-checks-"));
  git("init", "-q");
  git("config", "user.email", "test@example.com");
  git("config", "user.name", "test");
  await writeFile(join(repo, "model.ts"), "export const x = 1;\n");
  await mkdir(join(repo, "reports"));
  await writeFile(join(repo, "reports", "report.md"), "old\n");
  await writeFile(join(repo, "pipeline.lock.json"), lock({ "evaluate@a": 0.9, "evaluate@b+seed=1": 0.8, "evaluate@b+seed=2": 0.82 }));
  git("add", ".");
  git("commit", "-qm", "first results");
  await writeFile(join(repo, "pipeline.lock.json"), lock({ "evaluate@a": 0.95, "evaluate@b+seed=1": 0.8, "evaluate@b+seed=2": 0.82 }));
  git("commit", "-qam", "second results");
});
after(() => rm(repo, { recursive: true, force: true }));

test("slots: markers survive filling, placeholders stay where nothing is known", () => {
  const markdown = `${slot(DRAFT_SLOT, "")}\n| a | ${slot(deltaSlot("a"), "—")} |\n${slot(PARAMS_FILE_SLOT, "its params file")}`;
  assert.deepEqual(slotNames(markdown), ["draft", "delta:a", "params-file"]);
  const filled = fillSlots(markdown, { "delta:a": "+1.00", "params-file": "`params.quick.json`" });
  assert.equal(filled, "<!--slot:draft--><!--/slot-->\n| a | <!--slot:delta:a-->+1.00<!--/slot--> |\n<!--slot:params-file-->`params.quick.json`<!--/slot-->");
  assert.equal(fillSlots(filled, { "delta:a": "−0.50" }).includes("<!--slot:delta:a-->−0.50<!--/slot-->"), true, "filled again on the next publish");
  assert.throws(() => slot("a b", ""), /characters a marker cannot hold/);
  assert.equal(paramsFileOfLock("pipeline.lock.json"), "params.json");
  assert.equal(paramsFileOfLock("params.quick.lock.json"), "params.quick.json");
  assert.equal(paramsFileOfLock("params.ci.lock.json"), "params.ci.json");
});

test("Δ since the last committed report: the newest commit of the lock whose accuracies differ, seeds averaged", async () => {
  const lockFile = join(repo, "pipeline.lock.json");
  // The working tree's lock differs from HEAD: HEAD is the base.
  await writeFile(lockFile, lock({ "evaluate@a": 0.951, "evaluate@b+seed=1": 0.81, "evaluate@b+seed=2": 0.83, "evaluate@b+seed=3": 0.82, "evaluate@c": 0.5 }));
  const current = accuraciesOfLock(JSON.parse(await import("node:fs").then((fs) => fs.readFileSync(lockFile, "utf8"))));
  assert.deepEqual(current.get("b"), { mean: (0.81 + 0.83 + 0.82) / 3, n: 3 });
  const head = git("rev-parse", "HEAD").trim();
  assert.equal(committedBase(lockFile, current, repo)?.commit, head);
  const report = `| a | ${slot(deltaSlot("a"), "—")} |\n| b | ${slot(deltaSlot("b"), "—")} |\n| c | ${slot(deltaSlot("c"), "—")} |\n${slot("delta-base", "")}`;
  const values = await publishSlotValues(report, { lockFile, gitDir: repo, codeRoot: repo });
  assert.equal(values["delta:a"], "+0.10", "95.1% now, 95.0% at HEAD");
  assert.equal(values["delta:b"], "+1.00 (n 2 → 3)", "82% over three seeds now, 81% over two then");
  assert.equal(values["delta:c"], "new");
  assert.match(values["delta-base"]!, new RegExp(`committed with \`pipeline.lock.json\` at \`${head.slice(0, 10)}\``));

  // Published again after committing these results: still compared with the report before, not with itself.
  git("commit", "-qam", "third results");
  const again = await publishSlotValues(report, { lockFile, gitDir: repo, codeRoot: repo });
  assert.equal(again["delta:a"], "+0.10");
  assert.match(again["delta-base"]!, new RegExp(`at \`${head.slice(0, 10)}\``));
  // A lock with no other committed results: nothing to compare with.
  await writeFile(join(repo, "params.quick.lock.json"), lock({ "evaluate@a": 0.5 }));
  const none = await publishSlotValues(report, { lockFile: join(repo, "params.quick.lock.json"), gitDir: repo, codeRoot: repo });
  assert.equal(none["delta:a"], "—");
  assert.match(none["delta-base"]!, /no earlier committed report/);
});

test("draft: tracked files changed outside reports/ and the locks, or untracked code the lock names", async () => {
  const lockFile = join(repo, "pipeline.lock.json");
  const parsed = () => JSON.parse(execFileSync("cat", [lockFile], { encoding: "utf8" }));
  git("add", ".");
  git("commit", "-qm", "clean");
  assert.deepEqual(draftReasons(parsed(), repo, repo), [], "a clean checkout");
  // Reports and lock files change on every publish: never a reason.
  await writeFile(join(repo, "reports", "report.md"), "new\n");
  await writeFile(lockFile, lock({ "evaluate@a": 0.7 }));
  assert.deepEqual(draftReasons(parsed(), repo, repo), []);
  const clean = await publishSlotValues(slot(DRAFT_SLOT, ""), { lockFile, gitDir: repo, codeRoot: repo });
  assert.equal(clean[DRAFT_SLOT], "", "no banner");
  // A tracked source file edited: a draft, named.
  await writeFile(join(repo, "model.ts"), "export const x = 2;\n");
  assert.deepEqual(draftReasons(parsed(), repo, repo), ["model.ts"]);
  // Code the lock records but git does not track: a draft too (no commit holds it). Other untracked files are not.
  await writeFile(join(repo, "helper.ts"), "export {};\n");
  await writeFile(join(repo, "notes.txt"), "scratch\n");
  await writeFile(lockFile, lock({ "evaluate@a": 0.7 }, { "model.ts": "h2", "helper.ts": "h3" }));
  assert.deepEqual(draftReasons(parsed(), repo, repo), ["helper.ts (untracked)", "model.ts"]);
  const values = await publishSlotValues(`${slot(DRAFT_SLOT, "")}\n${slot(PARAMS_FILE_SLOT, "?")}`, { lockFile, gitDir: repo, codeRoot: repo });
  assert.match(values[DRAFT_SLOT]!, /^> \*\*DRAFT\*\* — published from a working tree that differs from its commit in 2 files outside `reports\/` and the lock files \(`helper\.ts \(untracked\)`, `model\.ts`\)/);
  assert.equal(values[PARAMS_FILE_SLOT], "`params.json`");
});
