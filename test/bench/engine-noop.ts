import { spawnSync } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * What "nothing changed" costs: wall time of whole commands in child processes, Node start-up
 * included, each started two ways — through tsx (`node --import tsx pipeline.ts`) and from the
 * cached bundle (`node pipeline.mjs`, engine/launch.mjs) — and, for runs, with stdout a pipe (CI
 * logs) and a pseudo-terminal (util-linux `script`, 120×50), where listr2 draws its live display.
 *
 * - toy: a no-op `run` of the engine tests' toy project with 94 foreach items: 98 stages, as many as
 *   the full grid, whose results take 90 minutes to make;
 * - project: this project's `status` and `run --dry-run` on params.json (all ~98 stages planned and
 *   fingerprinted; needs no results, but reads the params cache a run leaves), `--help` (start-up
 *   and module loading only), `node -e 0` (Node alone; the tsx row adds --import tsx) and `status`
 *   through `npm run pipeline` (npm's own start-up included);
 * - quick: a real no-op `run` of the quick profile (36 stages), when its results are cached here
 *   (`npm run pipeline -- --params params.quick.json -j 2` once, ~2 min); likewise the full grid.
 *
 * Besides the median wall time, the children's CPU time (from /proc/self/stat, Linux) is given:
 * on a shared machine it varies less than wall time.
 */
export interface Timing {
  median: number;
  min: number;
  max: number;
  runs: number;
  /** Median CPU seconds (user + system) of the command and its children; null where /proc is absent. */
  cpuMedian: number | null;
}

export type Start = "tsx" | "bundle";
export type Terminal = "pipe" | "pty";

export interface NoopBenchResult {
  toy: { stages: number; coldSeconds: number; firstBundleStartSeconds: number; noop: Record<`${Start}/${Terminal}`, Timing | string> };
  project: Record<string, Partial<Record<Start, Timing>> | string>;
  quick: Record<`${Start}/${Terminal}`, Timing> | string;
  fullGrid: Record<`${Start}/${Terminal}`, Timing> | string;
  /** Seconds by difference of medians: where a no-op's time goes. */
  phases: Record<string, number>;
}

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const FIXTURE = join(ROOT, "test", "fixtures", "toy");
const RIGS = join(ROOT, ".tmp", "rigs");
const LAUNCHER = join(ROOT, "engine", "launch.mjs");
const PTY_SIZE = "stty rows 50 cols 120 2>/dev/null";

export async function benchEngineNoop(runs = 7): Promise<NoopBenchResult> {
  const pty = ptyAvailable();
  const terminals: Terminal[] = pty ? ["pipe", "pty"] : ["pipe"];
  const ptyMissing = "skipped: no pseudo-terminal (util-linux `script`, Debian package bsdutils, is not installed)";

  // Toy project: a fresh rig, so its first bundled start builds the bundle.
  await mkdir(RIGS, { recursive: true });
  const dir = await mkdtemp(join(RIGS, "bench-"));
  try {
    await cp(FIXTURE, dir, { recursive: true });
    const params = JSON.parse(await readFile(join(dir, "params.json"), "utf8"));
    params.items = Array.from({ length: 94 }, (_, i) => `w${i}`);
    await writeFile(join(dir, "params.json"), JSON.stringify(params));
    const toyCli = join(dir, "cli.ts");
    const coldSeconds = once(commandFor("tsx", toyCli, ["run"]), dir, "pipe");
    const firstBundleStartSeconds = once(commandFor("bundle", toyCli, ["run"]), dir, "pipe");
    const toyNoop: Record<string, Timing | string> = {};
    for (const start of ["tsx", "bundle"] as const) {
      for (const terminal of ["pipe", "pty"] as const) {
        toyNoop[`${start}/${terminal}`] = pty || terminal === "pipe" ? timeRuns(commandFor(start, toyCli, ["run"]), dir, terminal, runs) : ptyMissing;
      }
    }

    // This project: planning commands need no cached results.
    const pipeline = join(ROOT, "pipeline.ts");
    const project: NoopBenchResult["project"] = {};
    const node = { tsx: timeRuns([process.execPath, "--import", "tsx", "-e", "0"], ROOT, "pipe", runs), bundle: timeRuns([process.execPath, "-e", "0"], ROOT, "pipe", runs) };
    project["node -e 0 (start-up only)"] = node;
    for (const args of [["--help"], ["status"], ["run", "--dry-run"]]) {
      project[args.join(" ")] = { tsx: timeRuns(commandFor("tsx", pipeline, args), ROOT, "pipe", runs), bundle: timeRuns(commandFor("bundle", pipeline, args), ROOT, "pipe", runs) };
    }

    // npm's own start-up, paid by every `npm run pipeline`: `node pipeline.mjs` (or ./pipeline.mjs) skips it.
    const npm = spawnSync("npm", ["--version"], { stdio: "ignore" }).status === 0;
    project["npm run -s pipeline -- status"] = npm ? { bundle: timeRuns(["npm", "run", "-s", "pipeline", "--", "status"], ROOT, "pipe", runs) } : "skipped: npm is not on the PATH";

    const noopOf = (paramsFile: string): Record<`${Start}/${Terminal}`, Timing> | string => {
      const notCached = uncachedStages(paramsFile);
      if (notCached !== 0) return `skipped: ${notCached} stages of ${paramsFile} are not cached here (run the profile once: npm run pipeline -- --params ${paramsFile} -j 2)`;
      const result: Record<string, Timing> = {};
      try {
        for (const start of ["tsx", "bundle"] as const) {
          for (const terminal of terminals) result[`${start}/${terminal}`] = timeRuns(commandFor(start, pipeline, ["run", "--params", paramsFile]), ROOT, terminal, runs);
        }
      } catch (error) {
        return `failed: ${(error as Error).message.split("\n").slice(0, 3).join(" ")}`; // e.g. exit 3: another run holds the project
      }
      return result as Record<`${Start}/${Terminal}`, Timing>;
    };
    const quick = noopOf("params.quick.json");
    const fullGrid = noopOf("params.json");

    const help = project["--help"] as Record<Start, Timing>;
    const status = project["status"] as Record<Start, Timing>;
    const ptyOverhead = pty ? timeRuns([process.execPath, "-e", "0"], ROOT, "pty", runs).median - node.bundle.median : Number.NaN;
    const phases: Record<string, number> = {
      "node start-up (node -e 0)": node.bundle.median,
      "tsx registration (node --import tsx -e 0, minus node's)": node.tsx.median - node.bundle.median,
      "module loading through tsx (--help, minus tsx registration)": help.tsx.median - node.tsx.median,
      "module loading from the bundle (--help, freshness check included)": help.bundle.median - node.bundle.median,
      "params, graph, code fingerprints, plan of the full grid (status − --help, bundle)": status.bundle.median - help.bundle.median,
    };
    const display = (noop: Record<string, Timing | string>): number =>
      typeof noop["bundle/pty"] === "object" && typeof noop["bundle/pipe"] === "object" ? noop["bundle/pty"].median - noop["bundle/pipe"].median - ptyOverhead : Number.NaN;
    phases["terminal display, toy no-op (pty − pipe, bundle, minus script's own cost)"] = display(toyNoop);
    if (typeof quick === "object") {
      phases["quick no-op beyond start-up: run, lock, publish (run − --help, bundle, pipe)"] = quick["bundle/pipe"].median - help.bundle.median;
      phases["terminal display, quick no-op (pty − pipe, bundle, minus script's own cost)"] = display(quick);
    }
    return {
      toy: { stages: 4 + params.items.length, coldSeconds, firstBundleStartSeconds, noop: toyNoop as NoopBenchResult["toy"]["noop"] },
      project,
      quick,
      fullGrid,
      phases,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function commandFor(start: Start, entry: string, args: readonly string[]): string[] {
  return start === "tsx" ? [process.execPath, "--import", "tsx", entry, ...args] : [process.execPath, LAUNCHER, entry, ...args];
}

/** Stages of a profile that a run would not take from the cache (a dry run plans them and writes nothing). */
function uncachedStages(paramsFile: string): number {
  const result = spawnSync(process.execPath, [LAUNCHER, join(ROOT, "pipeline.ts"), "status", "--json", "--params", paramsFile], { cwd: ROOT, encoding: "utf8" });
  if (result.status !== 0) return Number.POSITIVE_INFINITY;
  const plans = JSON.parse(result.stdout) as { state: string }[];
  return plans.filter((plan) => plan.state !== "up-to-date").length;
}

function timeRuns(argv: readonly string[], cwd: string, terminal: Terminal, runs: number): Timing {
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < runs; i++) {
    const cpuBefore = childrenCpuSeconds();
    walls.push(once(argv, cwd, terminal));
    const cpuAfter = childrenCpuSeconds();
    if (cpuBefore !== null && cpuAfter !== null) cpus.push(cpuAfter - cpuBefore);
  }
  walls.sort((a, b) => a - b);
  cpus.sort((a, b) => a - b);
  return { median: middle(walls), min: walls[0]!, max: walls.at(-1)!, runs, cpuMedian: cpus.length === runs ? middle(cpus) : null };
}

function once(argv: readonly string[], cwd: string, terminal: Terminal): number {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: process.env.TERM ?? "xterm-256color" };
  // The toy rig's bundles live and go with the rig.
  if (cwd !== ROOT) env.TS_LAUNCH_CACHE = join(cwd, ".launch-cache");
  // The CLI draws listr2's live display only on a terminal and never under CI=true.
  if (terminal === "pty") delete env.CI;
  else env.CI = "true";
  const [file, ...args] = terminal === "pty" ? ["script", "-qec", `${PTY_SIZE}; exec ${argv.map(shellQuote).join(" ")}`, "/dev/null"] : argv;
  const started = performance.now();
  const result = spawnSync(file!, args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== 0) throw new Error(`bench: ${argv.join(" ")} exited ${result.status}: ${result.stderr || result.stdout}`);
  return seconds;
}

function ptyAvailable(): boolean {
  const probe = spawnSync("script", ["-qec", "true", "/dev/null"], { stdio: "ignore" });
  return probe.status === 0;
}

/** CPU seconds of waited-for children so far (cutime + cstime of /proc/self/stat), or null off Linux. */
function childrenCpuSeconds(): number | null {
  if (!existsSync("/proc/self/stat")) return null;
  const stat = readFileSync("/proc/self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // After the command name: state is field 3, so cutime (16) and cstime (17) sit at 13 and 14.
  const ticksPerSecond = 100; // USER_HZ, 100 on every Linux Node supports
  return (Number(fields[13]) + Number(fields[14])) / ticksPerSecond;
}

function middle(sorted: readonly number[]): number {
  return sorted[Math.floor(sorted.length / 2)]!;
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export interface AgainstResult {
  revision: string;
  commit: string;
  toyStages: number;
  toyNoop: Partial<Record<Terminal, Timing>>;
  project: Record<string, Timing>;
}

/**
 * The same no-op measurements on an earlier revision, in the same bench run (so both see the same
 * machine load): its toy project with 94 foreach items, and its project's `--help` and `status` on
 * params.json, each through tsx (the only way an older checkout starts). The revision is exported
 * with `git archive` into .tmp/ and shares this checkout's node_modules. Its full grid has no
 * results cached here under its own keys, so no full-grid no-op can be timed for it.
 */
export async function benchEngineNoopAgainst(revision: string, runs = 7): Promise<AgainstResult> {
  const commit = spawnSync("git", ["rev-parse", "--verify", `${revision}^{commit}`], { cwd: ROOT, encoding: "utf8" }).stdout.trim();
  if (!commit) throw new Error(`bench --against: "${revision}" is not a commit of this repository`);
  await mkdir(RIGS, { recursive: true });
  const checkout = await mkdtemp(join(RIGS, `against-${commit.slice(0, 10)}-`));
  try {
    const archive = spawnSync("sh", ["-c", `git archive ${commit} | tar -x -C '${checkout}'`], { cwd: ROOT, encoding: "utf8" });
    if (archive.status !== 0) throw new Error(`bench --against: git archive ${commit} failed: ${archive.stderr}`);
    await symlink(join(ROOT, "node_modules"), join(checkout, "node_modules"), "dir");
    const toy = join(checkout, "test", "fixtures", "toy");
    const params = JSON.parse(await readFile(join(toy, "params.json"), "utf8"));
    params.items = Array.from({ length: 94 }, (_, i) => `w${i}`);
    await writeFile(join(toy, "params.json"), JSON.stringify(params));
    const toyCli = join(toy, "cli.ts");
    once(commandFor("tsx", toyCli, ["run"]), toy, "pipe"); // the cold run that fills its cache
    const toyNoop: AgainstResult["toyNoop"] = { pipe: timeRuns(commandFor("tsx", toyCli, ["run"]), toy, "pipe", runs) };
    if (ptyAvailable()) toyNoop.pty = timeRuns(commandFor("tsx", toyCli, ["run"]), toy, "pty", runs);
    const pipeline = join(checkout, "pipeline.ts");
    const project: Record<string, Timing> = {};
    for (const args of [["--help"], ["status"]]) project[args.join(" ")] = timeRuns(commandFor("tsx", pipeline, args), checkout, "pipe", runs);
    return { revision, commit, toyStages: 4 + params.items.length, toyNoop, project };
  } finally {
    await rm(checkout, { recursive: true, force: true });
  }
}
