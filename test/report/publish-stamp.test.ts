import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { PROVENANCE_PLACEHOLDER } from "../../presentation/report/provenance.ts";
import { publishUnlessUnchanged } from "../../presentation/report/publish-stamp.ts";

/** A work dir as the engine leaves it: a cached report result (with charts) and the lock naming it. */
async function workDirWithReport(): Promise<{ dir: string; outDir: string; lockFile: string; reportsDir: string; stampFile: string }> {
  const dir = await mkdtemp(join(tmpdir(), "publish-stamp-"));
  const fingerprint = "e".repeat(64);
  const outDir = join(dir, "artifacts", "stages", "report", fingerprint, "out");
  await mkdir(join(outDir, "charts"), { recursive: true });
  await writeFile(join(outDir, "report.md"), `# Results\n\n${PROVENANCE_PLACEHOLDER}\n\nbody\n`);
  await writeFile(join(outDir, "metrics.csv"), "id\n");
  await writeFile(join(outDir, "metrics.json"), JSON.stringify({ experiments: [] }));
  await writeFile(join(outDir, "charts", "a.svg"), "<svg/>");
  await writeFile(join(outDir, "charts", "b.svg"), "<svg></svg>");
  const lockFile = join(dir, "pipeline.lock.json");
  await writeFile(lockFile, JSON.stringify({ schema: 1, stages: { report: { fingerprint, code: { files: {}, packages: {} } } } }));
  return { dir, outDir, lockFile, reportsDir: join(dir, "reports"), stampFile: join(dir, "artifacts", ".publish-stamps", "reports.json") };
}

test("publishing an unchanged report again writes nothing; an edited, deleted or added file, or a new lock, publishes again", async () => {
  const { dir, outDir, lockFile, reportsDir, stampFile } = await workDirWithReport();
  const publish = () => publishUnlessUnchanged(outDir, reportsDir, stampFile, { lockFile, codeRoot: dir });
  try {
    const first = await publish();
    assert.equal(first.unchanged, false);
    assert.deepEqual(first.files.sort(), ["charts/a.svg", "charts/b.svg", "metrics.csv", "metrics.json", "report.md"]);
    const published = await readFile(join(reportsDir, "report.md"), "utf8");
    assert.match(published, /fingerprint `e{64}`/);

    const again = await publish();
    assert.equal(again.unchanged, true);
    assert.deepEqual(again.files.sort(), first.files.sort());
    assert.deepEqual(again.provenance, first.provenance);

    await writeFile(join(reportsDir, "charts", "a.svg"), "<svg>edited by hand</svg>");
    assert.equal((await publish()).unchanged, false, "an edited chart is copied again");
    assert.equal(await readFile(join(reportsDir, "charts", "a.svg"), "utf8"), "<svg/>");
    assert.equal((await publish()).unchanged, true);

    await unlink(join(reportsDir, "metrics.csv"));
    assert.equal((await publish()).unchanged, false, "a deleted file is copied again");
    assert.equal(await readFile(join(reportsDir, "metrics.csv"), "utf8"), "id\n");

    await writeFile(join(reportsDir, "charts", "stray.svg"), "<svg/>");
    assert.equal((await publish()).unchanged, false, "charts/ is replaced whole: a stray file is removed");
    await assert.rejects(readFile(join(reportsDir, "charts", "stray.svg")), { code: "ENOENT" });
    assert.equal((await publish()).unchanged, true);

    // Same report, another lock: the provenance stamped into report.md changes (the lock's SHA-256).
    const lock = JSON.parse(await readFile(lockFile, "utf8"));
    lock.stages["train@x"] = { fingerprint: "a".repeat(64), environment: { cpu: "test CPU" } };
    await writeFile(lockFile, JSON.stringify(lock));
    const relocked = await publish();
    assert.equal(relocked.unchanged, false);
    assert.notEqual(relocked.provenance.lockSha256, first.provenance.lockSha256);
    assert.notEqual(await readFile(join(reportsDir, "report.md"), "utf8"), published);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a stamp that cannot be written costs only the next publish: the report is still published", async () => {
  const { dir, outDir, lockFile, reportsDir } = await workDirWithReport();
  try {
    // The stamp's folder is a file, so writing the stamp fails.
    await writeFile(join(dir, "artifacts", "not-a-folder"), "");
    const stampFile = join(dir, "artifacts", "not-a-folder", "reports.json");
    const first = await publishUnlessUnchanged(outDir, reportsDir, stampFile, { lockFile, codeRoot: dir });
    assert.equal(first.unchanged, false);
    assert.match(await readFile(join(reportsDir, "report.md"), "utf8"), /body/);
    assert.equal((await publishUnlessUnchanged(outDir, reportsDir, stampFile, { lockFile, codeRoot: dir })).unchanged, false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
