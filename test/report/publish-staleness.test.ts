import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { PROVENANCE_PLACEHOLDER } from "../../presentation/report/provenance.ts";
import { publishReport } from "../../presentation/report/publish.ts";

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

/**
 * A work dir laid out as the engine leaves it — a cached report result and a lock whose entries
 * record their code files' hashes — with the "project code" beside it, so editing a file after the
 * lock was written is what a long run sees when someone commits during it.
 */
async function workDirWithReport(): Promise<{ dir: string; outDir: string; lockFile: string }> {
  const dir = await mkdtemp(join(tmpdir(), "publish-staleness-"));
  const fingerprint = "f".repeat(64);
  const outDir = join(dir, "artifacts", "stages", "report", fingerprint, "out");
  await mkdir(join(outDir, "charts"), { recursive: true });
  await writeFile(join(outDir, "report.md"), `# Results\n\n${PROVENANCE_PLACEHOLDER}\n\nbody\n`);
  await writeFile(join(outDir, "metrics.csv"), "id\n");
  await writeFile(join(outDir, "metrics.json"), JSON.stringify({ experiments: [] }));
  await mkdir(join(dir, "src"));
  await writeFile(join(dir, "src", "report.ts"), "export const report = 1;\n");
  await writeFile(join(dir, "src", "train.ts"), "export const train = 1;\n");
  const lock = {
    schema: 1,
    stages: {
      "train@a": { fingerprint: "a".repeat(64), code: { files: { "src/train.ts": sha256("export const train = 1;\n") }, packages: {} } },
      report: { fingerprint, code: { files: { "src/report.ts": sha256("export const report = 1;\n") }, packages: {} } },
    },
  };
  const lockFile = join(dir, "pipeline.lock.json");
  await writeFile(lockFile, JSON.stringify(lock));
  return { dir, outDir, lockFile };
}

test("the published report says when its lock is behind the code (a file changed after the lock was written)", async () => {
  const { dir, outDir, lockFile } = await workDirWithReport();
  try {
    const reportsDir = join(dir, "reports");
    const current = await publishReport(outDir, reportsDir, { lockFile, codeRoot: dir });
    assert.deepEqual(current.provenance.behindCode, { stages: [], of: 2, files: [] });
    assert.doesNotMatch(await readFile(join(reportsDir, "report.md"), "utf8"), /behind the code/);

    await writeFile(join(dir, "src", "train.ts"), "export const train = 2; // edited during the run\n");
    const behind = await publishReport(outDir, reportsDir, { lockFile, codeRoot: dir });
    assert.deepEqual(behind.provenance.behindCode, { stages: ["train@a"], of: 2, files: ["src/train.ts"] });
    assert.match(
      await readFile(join(reportsDir, "report.md"), "utf8"),
      /\| lock vs code \| \*\*the lock is behind the code for 1 of 2 stages\*\* \(`train@a`\): `src\/train\.ts` changed since it was written; rerun the pipeline/,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("the stamp counts uncommitted files other than its outputs: a modified lock or report is not one, a modified source is", async () => {
  const { dir, outDir, lockFile } = await workDirWithReport();
  const git = (...args: string[]): string => execFileSync("git", ["-C", dir, ...args], { encoding: "utf8" });
  try {
    git("init", "-q");
    git("-c", "user.name=t", "-c", "user.email=t@t", "add", "-A");
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base");
    const reportsDir = join(dir, "reports");
    // The lock sorts first in `git status`, as an unstaged change: " M pipeline.lock.json".
    await writeFile(lockFile, (await readFile(lockFile, "utf8")) + "\n");
    const clean = await publishReport(outDir, reportsDir, { lockFile, codeRoot: dir, gitDir: dir });
    assert.equal(clean.provenance.uncommittedFiles, 0, git("status", "--porcelain"));
    assert.doesNotMatch(await readFile(join(reportsDir, "report.md"), "utf8"), /uncommitted/);

    await writeFile(join(dir, "src", "train.ts"), "export const train = 3;\n");
    const dirty = await publishReport(outDir, reportsDir, { lockFile, codeRoot: dir, gitDir: dir });
    assert.equal(dirty.provenance.uncommittedFiles, 1);
    assert.match(await readFile(join(reportsDir, "report.md"), "utf8"), /plus uncommitted changes in 1 file\b/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a clean checkout keeps the commit its committed report names while nothing that made it changed, so a no-op publish leaves the tree clean", async () => {
  const { dir, outDir, lockFile } = await workDirWithReport();
  const git = (...args: string[]): string => execFileSync("git", ["-C", dir, "-c", "user.name=t", "-c", "user.email=t@t", ...args], { encoding: "utf8" }).trim();
  const commitAll = (message: string): string => {
    git("add", "-A");
    git("commit", "-q", "--allow-empty", "-m", message);
    return git("rev-parse", "HEAD");
  };
  try {
    git("init", "-q");
    await writeFile(join(dir, "params.json"), "{}\n");
    await writeFile(join(dir, "README.md"), "# toy\n");
    const base = commitAll("code, params and lock");
    const reportsDir = join(dir, "reports");
    const options = { lockFile, codeRoot: dir, gitDir: dir };
    assert.equal((await publishReport(outDir, reportsDir, options)).provenance.commit, base);
    commitAll("the published report");
    const committed = await readFile(join(reportsDir, "report.md"), "utf8");

    await writeFile(join(dir, "README.md"), "# toy, documented\n");
    commitAll("a README edit: nothing the report was made from");
    assert.equal((await publishReport(outDir, reportsDir, options)).provenance.commit, base);
    assert.equal(await readFile(join(reportsDir, "report.md"), "utf8"), committed);
    assert.equal(git("status", "--porcelain"), "");

    // A code file of the lock, the params file or package-lock.json changed since: HEAD is named.
    for (const [file, content] of [["src/report.ts", "export const report = 1; // reworded\n"], ["params.json", "{ }\n"], ["package-lock.json", "{}\n"]] as const) {
      await publishReport(outDir, reportsDir, options);
      commitAll("republished");
      await writeFile(join(dir, file), content);
      const head = commitAll(`edit ${file}`);
      assert.equal((await publishReport(outDir, reportsDir, options)).provenance.commit, head, file);
    }

    // A dirty tree names HEAD with its uncommitted files, whatever the report said before.
    commitAll("republished");
    await writeFile(join(dir, "README.md"), "# toy, edited again\n");
    commitAll("README again");
    await writeFile(join(dir, "src", "train.ts"), "export const train = 4;\n");
    const dirty = await publishReport(outDir, reportsDir, options);
    assert.equal(dirty.provenance.commit, git("rev-parse", "HEAD"));
    assert.equal(dirty.provenance.uncommittedFiles, 1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
