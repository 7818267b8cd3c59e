/**
 * What publishing fills into the report's slots (publish-slots.ts), from git and the lock files —
 * things the cached report stage may not read:
 *  - the params file the report was made from (named by its lock file);
 *  - whether it is a draft: tracked files outside `reports/` and the lock files differ from HEAD,
 *    or the lock's code includes files git does not track, so no commit holds what produced it;
 *  - each experiment's change in mean test accuracy since the last committed report: the newest
 *    commit of this lock file whose accuracies differ from the current ones (so a report published
 *    again after its own commit still compares with the one before, not with itself).
 */
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { basename, isAbsolute, relative, resolve } from "node:path";
import { signedPoints } from "./format.ts";
import { DELTA_BASE_SLOT, DRAFT_SLOT, PARAMS_FILE_SLOT, deltaSlot, paramsFileOfLock, slotNames } from "./publish-slots.ts";

interface LockShape {
  stages?: Record<string, { metrics?: Record<string, number>; code?: { files?: Record<string, string> } }>;
}

/** Mean test accuracy and seed count per experiment, from the lock's evaluate stages (`evaluate@<id>` or `evaluate@<id>+seed=<n>`). */
export function accuraciesOfLock(lock: LockShape): Map<string, { mean: number; n: number }> {
  const groups = new Map<string, number[]>();
  for (const [stage, entry] of Object.entries(lock.stages ?? {})) {
    const match = /^evaluate@(.+?)(\+seed=\d+)?$/.exec(stage);
    const accuracy = entry.metrics?.accuracy;
    if (!match || typeof accuracy !== "number") continue;
    groups.set(match[1]!, [...(groups.get(match[1]!) ?? []), accuracy]);
  }
  return new Map([...groups].map(([id, values]) => [id, { mean: values.reduce((a, b) => a + b, 0) / values.length, n: values.length }]));
}

function git(cwd: string, args: string[]): string | null {
  try {
    return execFileSync("git", ["-C", cwd, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], maxBuffer: 256 * 1024 * 1024 });
  } catch {
    return null;
  }
}

const inside = (child: string, parent: string): boolean => {
  const path = relative(parent, child);
  return path === "" || (!path.startsWith("..") && !isAbsolute(path));
};

export interface CommittedBase {
  commit: string;
  date: string;
  accuracies: Map<string, { mean: number; n: number }>;
}

/** The newest commit of the lock file whose accuracies differ from `current`; null when there is none (or no git). */
export function committedBase(lockFile: string, current: Map<string, { mean: number; n: number }>, gitDir: string, depth = 50): CommittedBase | null {
  const top = git(gitDir, ["rev-parse", "--show-toplevel"])?.trim();
  if (!top) return null;
  const path = relative(top, resolve(lockFile));
  const log = git(top, ["log", `-n${depth}`, "--format=%H %cs", "--", path]);
  if (!log) return null;
  const same = (a: Map<string, { mean: number; n: number }>): boolean =>
    a.size === current.size && [...a].every(([id, value]) => current.get(id)?.mean === value.mean && current.get(id)?.n === value.n);
  for (const line of log.trim().split("\n").filter(Boolean)) {
    const [commit, date] = line.split(" ") as [string, string];
    const text = git(top, ["show", `${commit}:${path}`]);
    if (text === null) continue;
    let accuracies: Map<string, { mean: number; n: number }>;
    try {
      accuracies = accuraciesOfLock(JSON.parse(text) as LockShape);
    } catch {
      continue;
    }
    if (!same(accuracies)) return { commit, date, accuracies };
  }
  return null;
}

/** Tracked files that differ from HEAD outside `reports/` and the lock files, plus untracked files the lock's code is made of. */
export function draftReasons(lock: LockShape, gitDir: string, codeRoot: string): string[] {
  const top = git(gitDir, ["rev-parse", "--show-toplevel"])?.trim();
  if (!top) return [];
  const reports = resolve(top, "reports");
  const changed = (git(top, ["status", "--porcelain", "--untracked-files=no"]) ?? "")
    .split("\n")
    .filter((line) => line.length > 3)
    .map((line) => line.slice(3).split(" -> ").at(-1)!.replace(/^"|"$/g, ""))
    .filter((path) => !inside(resolve(top, path), reports) && !basename(path).endsWith(".lock.json"));
  const untracked = new Set(
    (git(top, ["ls-files", "--others", "--exclude-standard"]) ?? "")
      .split("\n")
      .filter(Boolean)
      .map((path) => resolve(top, path)),
  );
  const codeFiles = new Set(Object.values(lock.stages ?? {}).flatMap((entry) => Object.keys(entry.code?.files ?? {})));
  const untrackedCode = [...codeFiles].filter((file) => untracked.has(resolve(codeRoot, file))).map((file) => `${relative(top, resolve(codeRoot, file))} (untracked)`);
  return [...changed, ...untrackedCode].sort();
}

export interface SlotValueOptions {
  lockFile: string;
  gitDir: string;
  /** The folder the lock's code paths are relative to. */
  codeRoot: string;
}

/** The text of every slot the report has: params file, draft banner, and the Δ column with its base. */
export async function publishSlotValues(markdown: string, options: SlotValueOptions): Promise<Record<string, string>> {
  const names = slotNames(markdown);
  const values: Record<string, string> = {};
  if (names.length === 0) return values;
  const lock = JSON.parse(await readFile(options.lockFile, "utf8").catch(() => "{}")) as LockShape;
  values[PARAMS_FILE_SLOT] = `\`${paramsFileOfLock(basename(options.lockFile))}\``;

  const reasons = draftReasons(lock, options.gitDir, options.codeRoot);
  const shown = reasons.slice(0, 8).map((file) => `\`${file}\``).join(", ") + (reasons.length > 8 ? ` and ${reasons.length - 8} more` : "");
  values[DRAFT_SLOT] =
    reasons.length === 0
      ? ""
      : `> **DRAFT** — published from a working tree that differs from its commit in ${reasons.length} file${reasons.length === 1 ? "" : "s"} outside \`reports/\` and the lock files (${shown}): ` +
        "no commit holds the code and params that made it. Commit them and publish again (run the pipeline: it publishes when it finishes).";

  const current = accuraciesOfLock(lock);
  const base = committedBase(options.lockFile, current, options.gitDir);
  values[DELTA_BASE_SLOT] = base
    ? `mean test accuracy now minus in the report committed with \`${basename(options.lockFile)}\` at \`${base.commit.slice(0, 10)}\` (${base.date}), in points; "new": not in that report`
    : `no earlier committed report to compare with (\`${basename(options.lockFile)}\` has no commit with other results)`;
  for (const name of names.filter((entry) => entry.startsWith("delta:"))) {
    const id = name.slice("delta:".length);
    const now = current.get(id);
    const before = base?.accuracies.get(id);
    values[deltaSlot(id)] =
      !base || !now
        ? "—"
        : !before
          ? "new"
          : `${signedPoints((now.mean - before.mean) * 100)}${before.n === now.n ? "" : ` (n ${before.n} → ${now.n})`}`;
  }
  return values;
}
