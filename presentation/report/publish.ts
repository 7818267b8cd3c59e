/**
 * publishReport: copy the cached report to the repository's `reports/` folder and stamp what it
 * was produced from — the commit, the lock file's SHA-256, the report stage's fingerprint, and the
 * machine the experiments trained on (from the lock's train entries). Runs after the pipeline,
 * outside caching, so it may read git and the lock; the report stage itself must not.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { PROVENANCE_BEGIN, PROVENANCE_END } from "./provenance.ts";
import { paramsFileOfLock } from "./publish-slots.ts";

export interface PublishOptions {
  /**
   * The lock file of the run (the engine keeps one per params file: `session.lockPath`). Default:
   * the lock file in the report's work dir (`<workDir>/artifacts/stages/<stage>/<fp>/out`) whose
   * report entry is this report, else `pipeline.lock.json`.
   */
  lockFile?: string;
  /** Any folder inside the git work tree; default: that work dir. */
  gitDir?: string;
  /** The report stage's name in the lock. */
  stageName?: string;
  /** The folder the lock's code paths are relative to; default: this project's root. */
  codeRoot?: string;
}

export interface Provenance {
  commit: string | null;
  /** Changed or untracked files outside the published folder and the lock file; null without git. */
  uncommittedFiles: number | null;
  /** File name of the lock file read. */
  lockFile: string;
  lockSha256: string | null;
  reportFingerprint: string;
  /** Whether the lock's entry for the report stage names this very result. */
  lockMatches: boolean;
  /** Lock entries whose code files no longer hash as recorded (edited during or after the run), and those files. */
  behindCode: { stages: string[]; of: number; files: string[] };
  machines: string[];
}

export interface PublishResult {
  provenance: Provenance;
  /** Files written, relative to reportsDir. */
  files: string[];
}

const PUBLISHED = ["report.md", "metrics.csv", "metrics.json"] as const;
/** The interactive page (presentation/html/), stamped like report.md; absent from reports made before it existed. */
const HTML_REPORT = "report.html";
const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CHARTS_DIR = "charts";
const FOLDERS = [CHARTS_DIR, "analyses"] as const;

/** `<workDir>/artifacts/stages/<stage>/<fingerprint>/out` → workDir. */
function workDirOf(reportOutDir: string): string {
  return resolve(reportOutDir, "..", "..", "..", "..", "..");
}

/** The folder of the report a lock file records (what its last run produced); the lock sits in the work dir. */
export async function reportOutDirFromLock(lockFile: string, stageName = "report"): Promise<string> {
  const lock = JSON.parse(await readFile(lockFile, "utf8")) as { stages: Record<string, { artifact: string }> };
  const entry = lock.stages[stageName];
  if (!entry) throw new Error(`${lockFile} has no "${stageName}" stage: run the pipeline first`);
  return join(dirname(lockFile), entry.artifact, "out");
}

/** Among the work dir's lock files, the one whose report entry is this very report. */
async function findLockFile(workDir: string, stageName: string, fingerprint: string): Promise<string> {
  const fallback = join(workDir, "pipeline.lock.json");
  let names: string[];
  try {
    names = (await readdir(workDir)).filter((name) => name.endsWith(".lock.json")).sort();
  } catch {
    return fallback;
  }
  for (const name of names) {
    try {
      const lock = JSON.parse(await readFile(join(workDir, name), "utf8")) as LockShape;
      if (lock.stages?.[stageName]?.fingerprint === fingerprint) return join(workDir, name);
    } catch {
      // not a lock file we can read: try the next
    }
  }
  return fallback;
}

const execFileAsync = promisify(execFile);

/**
 * git's output (its end trimmed), or null when git fails or is absent. Asynchronous: a publish asks
 * git three things at once, and a synchronous spawn from this process (~150 MB) blocks it for each
 * fork. execFile, not zx: publish runs after every run, a no-op included, and loading zx costs
 * more than the git calls themselves.
 */
async function git(gitDir: string, args: string[]): Promise<string | null> {
  try {
    // Only the end: `status --porcelain` lines start with a space when the index is unchanged.
    return (await execFileAsync("git", ["-C", gitDir, ...args], { encoding: "utf8" })).stdout.trimEnd();
  } catch {
    return null;
  }
}

/** git's exit code (0 for success), or null when it could not run. */
async function gitExitCode(gitDir: string, args: string[]): Promise<number | null> {
  try {
    await execFileAsync("git", ["-C", gitDir, ...args]);
    return 0;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === "number" ? code : null;
  }
}

function isInside(child: string, parent: string): boolean {
  const path = relative(parent, child);
  return path === "" || (!path.startsWith("..") && !isAbsolute(path));
}

/**
 * What a result depends on besides its code and params: the installed packages. The versions a
 * stage imports are in its lock entry already; the lockfile pins the rest. (package.json alone
 * changes nothing installed: scripts, allowScripts.)
 */
const PACKAGE_FILES = ["package-lock.json"] as const;

function codeFilesOf(lock: LockShape, codeRoot: string): string[] {
  return [...new Set(Object.values(lock.stages ?? {}).flatMap((entry) => Object.keys(entry.code?.files ?? {})))].map((file) => join(codeRoot, file));
}

/**
 * The commit to stamp on a clean checkout: the one the published report already names when no file
 * that made it (the lock's code files, the params file, package-lock.json) differs between that
 * commit and HEAD — otherwise HEAD. Committing the report, then a README, must not make the next
 * no-op run rewrite the committed report with a new commit and leave the working tree dirty.
 * Resolves to whether `named` still qualifies; started before HEAD is known, beside the other git calls.
 */
async function stillProducing(gitDir: string, named: string | undefined, sources: string[]): Promise<boolean> {
  if (named === undefined) return false;
  // Absolute pathspecs: git refuses one outside the work tree (exit 128), and then HEAD is named.
  // Exit 0: no difference in those paths; 1: a difference; anything else (an unknown commit): not reusable.
  return (await gitExitCode(gitDir, ["diff", "--quiet", named, "HEAD", "--", ...sources])) === 0;
}

interface LockShape {
  stages?: Record<string, { fingerprint?: string; environment?: Record<string, string>; code?: { files?: Record<string, string> } }>;
}

/**
 * The engine records each stage's code as file → SHA-256 of its bytes. Hashing those files again
 * (a few ms) tells whether the code changed after the lock was written, e.g. edited during a long
 * run: the report then describes older code than the checkout's.
 */
async function stagesBehindCode(lock: LockShape, root: string): Promise<Provenance["behindCode"]> {
  const entries = Object.entries(lock.stages ?? {});
  const unique = [...new Set(entries.flatMap(([, entry]) => Object.keys(entry.code?.files ?? {})))];
  const hashes = await Promise.all(unique.map((file) => readFile(join(root, file)).then((bytes) => createHash("sha256").update(bytes).digest("hex"), () => null)));
  const now = new Map(unique.map((file, i) => [file, hashes[i]]));
  const files = new Set<string>();
  const stages: string[] = [];
  for (const [name, entry] of entries) {
    let behind = false;
    for (const [file, recorded] of Object.entries(entry.code?.files ?? {})) {
      if (now.get(file) !== recorded) {
        files.add(file);
        behind = true;
      }
    }
    if (behind) stages.push(name);
  }
  return { stages, of: entries.length, files: [...files].sort() };
}

export async function collectProvenance(reportOutDir: string, reportsDir: string, options: PublishOptions = {}): Promise<Provenance> {
  const workDir = workDirOf(reportOutDir);
  const gitDir = options.gitDir ?? workDir;
  const stageName = options.stageName ?? "report";
  const reportFingerprint = basename(dirname(resolve(reportOutDir)));
  const lockFile = options.lockFile ?? (await findLockFile(workDir, stageName, reportFingerprint));

  let lockSha256: string | null = null;
  let lock: LockShape = {};
  const codeRoot = options.codeRoot ?? PROJECT_ROOT;
  try {
    const bytes = await readFile(lockFile);
    lockSha256 = createHash("sha256").update(bytes).digest("hex");
    lock = JSON.parse(bytes.toString("utf8")) as LockShape;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const published = await readFile(join(reportsDir, "report.md"), "utf8").catch(() => "");
  const named = /^\| commit \| `([0-9a-f]{40})`/m.exec(published)?.[1];
  const sources = [...codeFilesOf(lock, codeRoot), join(dirname(lockFile), paramsFileOfLock(basename(lockFile))), ...PACKAGE_FILES.map((file) => join(codeRoot, file))];
  const [headAndTop, status, namedStillProduces, behindCode, reported] = await Promise.all([
    git(gitDir, ["rev-parse", "HEAD", "--show-toplevel"]),
    git(gitDir, ["status", "--porcelain", "--untracked-files=all"]),
    stillProducing(gitDir, named, sources),
    lockSha256 === null ? Promise.resolve({ stages: [], of: 0, files: [] }) : stagesBehindCode(lock, codeRoot),
    reportedExperiments(reportOutDir),
  ]);
  const [head = null, top = null] = headAndTop?.split("\n") ?? [];
  let uncommittedFiles: number | null = null;
  if (top !== null && status !== null) {
    // The published folder and the lock change on every publish; they are outputs, not what produced them.
    const ignored = [resolve(reportsDir), resolve(lockFile)];
    uncommittedFiles = status
      .split("\n")
      .filter((line) => line.length > 3)
      .map((line) => resolve(top, line.slice(3).split(" -> ").at(-1)!.replace(/^"|"$/g, "")))
      .filter((path) => !ignored.some((folder) => isInside(path, folder))).length;
  }
  const commit = head !== null && uncommittedFiles === 0 && namedStillProduces ? named! : head;

  const lockMatches = lock.stages?.[stageName]?.fingerprint === reportFingerprint;
  const machines = new Set<string>();
  for (const [name, entry] of Object.entries(lock.stages ?? {})) {
    // `train@<id>`, or `train@<id>+seed=<n>` for a replicated experiment.
    if (!name.startsWith("train@") || (reported && !reported.has(name.slice("train@".length).split("+")[0]!))) continue;
    const env = entry.environment ?? {};
    const backend = env.backend ? `tfjs ${env["version:tfjs-core"] ?? "?"} on ${env.backend}${env["backend:simd"] ? ` (SIMD ${env["backend:simd"]}, threads ${env["backend:threads"] ?? "?"})` : ""}` : "backend not recorded";
    machines.add(`${env.cpu ?? "unknown CPU"}, ${env.memory ?? "? GiB"}, ${env.platform ?? "?"}, Node.js ${env.node ?? "?"}; ${backend}`);
  }
  return { commit, uncommittedFiles, lockFile: basename(lockFile), lockSha256, reportFingerprint, lockMatches, behindCode, machines: [...machines].sort() };
}

async function reportedExperiments(reportOutDir: string): Promise<Set<string> | null> {
  try {
    const metrics = JSON.parse(await readFile(join(reportOutDir, "metrics.json"), "utf8")) as { experiments: { id: string }[] };
    return new Set(metrics.experiments.map((experiment) => experiment.id));
  } catch {
    return null;
  }
}

export function provenanceBlock(provenance: Provenance): string {
  const commit =
    provenance.commit === null
      ? "not a git checkout"
      : `\`${provenance.commit}\`${
          provenance.uncommittedFiles ? ` — plus uncommitted changes in ${provenance.uncommittedFiles} file${provenance.uncommittedFiles === 1 ? "" : "s"}` : ""
        }`;
  const rows = [
    ["commit", commit],
    ["lock file", provenance.lockSha256 === null ? "no lock file found" : `\`${provenance.lockFile}\` SHA-256 \`${provenance.lockSha256}\``],
    [
      "report stage",
      `fingerprint \`${provenance.reportFingerprint}\`${provenance.lockMatches ? " (the lock's current `report` entry)" : " — **not** the lock's current `report` entry: the lock has moved on since this report was made"}`,
    ],
    ["trained on", provenance.machines.length === 0 ? "not recorded in the lock" : provenance.machines.join("<br>")],
  ];
  const { stages, of, files } = provenance.behindCode;
  if (stages.length > 0) {
    const list = (names: string[]): string => names.slice(0, 5).map((name) => `\`${name}\``).join(", ") + (names.length > 5 ? ` and ${names.length - 5} more` : "");
    rows.push([
      "lock vs code",
      `**the lock is behind the code for ${stages.length} of ${of} stages** (${list(stages)}): ${list(files)} changed since it was written; rerun the pipeline to refresh the lock and this report`,
    ]);
  }
  return [PROVENANCE_BEGIN, "| produced from | |", "| --- | --- |", ...rows.map(([key, value]) => `| ${key} | ${value} |`), PROVENANCE_END].join("\n");
}

export function stampReport(markdown: string, provenance: Provenance): string {
  const begin = markdown.indexOf(PROVENANCE_BEGIN);
  const end = markdown.indexOf(PROVENANCE_END);
  if (begin < 0 || end < begin) throw new Error("report.md has no provenance placeholder to fill");
  return markdown.slice(0, begin) + provenanceBlock(provenance) + markdown.slice(end + PROVENANCE_END.length);
}

/**
 * report.md stamped with its provenance, and the values of its slots (params file, draft banner, Δ
 * since the last committed report: publish-checks.ts) — filled into report.md and, converted to
 * HTML, into report.html, so the two say the same.
 */
async function stampAndFill(markdown: string, provenance: Provenance, reportOutDir: string, options: PublishOptions): Promise<{ markdown: string; slots: Record<string, string> }> {
  const stamped = stampReport(markdown, provenance);
  const lockFile = options.lockFile ?? join(workDirOf(reportOutDir), provenance.lockFile);
  const { publishSlotValues } = await import("./publish-checks.ts");
  const { fillSlots } = await import("./publish-slots.ts");
  const slots = await publishSlotValues(stamped, { lockFile, gitDir: options.gitDir ?? workDirOf(reportOutDir), codeRoot: options.codeRoot ?? PROJECT_ROOT });
  return { markdown: fillSlots(stamped, slots), slots };
}

/**
 * Copies report.md and report.html (stamped), metrics.csv, metrics.json, charts/ and analyses/ from the report stage's output
 * folder into `reportsDir`. Other files there (e.g. bench.json) are left alone; charts/ is
 * replaced whole, so charts of experiments no longer in the report do not linger. Files are
 * written fresh (the cached ones are read-only).
 */
export async function publishReport(reportOutDir: string, reportsDir: string, options: PublishOptions = {}, collected?: Provenance): Promise<PublishResult> {
  const provenance = collected ?? (await collectProvenance(reportOutDir, reportsDir, options));
  await mkdir(reportsDir, { recursive: true });
  const files: string[] = [];
  let slots: Record<string, string> = {};
  for (const file of PUBLISHED) {
    const content = await readFile(join(reportOutDir, file));
    if (file === "report.md") {
      const filled = await stampAndFill(content.toString("utf8"), provenance, reportOutDir, options);
      slots = filled.slots;
      await writeFile(join(reportsDir, file), filled.markdown);
    } else {
      await writeFile(join(reportsDir, file), content);
    }
    files.push(file);
  }
  const html = await readFile(join(reportOutDir, HTML_REPORT), "utf8").catch((error: NodeJS.ErrnoException) => (error.code === "ENOENT" ? null : Promise.reject(error)));
  if (html === null) {
    await rm(join(reportsDir, HTML_REPORT), { force: true }); // a page left from another report would contradict this one
  } else {
    // Loaded here: a no-op run, whose publish is skipped, need not load the markdown converter.
    const { fillHtmlSlots, stampHtmlReport } = await import("../html/provenance-html.ts");
    await writeFile(join(reportsDir, HTML_REPORT), fillHtmlSlots(stampHtmlReport(html, provenanceBlock(provenance)), slots));
    files.push(HTML_REPORT);
  }
  // Folders the report links into, each replaced whole: charts/ always, analyses/ when the params have analyses.
  for (const folder of FOLDERS) {
    const target = join(reportsDir, folder);
    await rm(target, { recursive: true, force: true });
    const source = join(reportOutDir, folder);
    const entries = await readdir(source).catch((error: NodeJS.ErrnoException) => (error.code === "ENOENT" && folder !== CHARTS_DIR ? null : Promise.reject(error)));
    if (entries === null) continue;
    await mkdir(target, { recursive: true });
    for (const file of entries.sort()) {
      await writeFile(join(target, file), await readFile(join(source, file)));
      files.push(`${folder}/${file}`);
    }
  }
  return { provenance, files };
}
