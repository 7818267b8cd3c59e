import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { dirname, relative } from "node:path";
import { writeFileAtomic } from "./atomic-write.ts";
import { canonicalJson } from "./canonical-json.ts";
import { PipelineError } from "./errors.ts";
import { emptyLock, readLock, type LockFile } from "./lock-file.ts";
import { metricsOfLock, type MetricTable } from "./metrics.ts";
import { checkPassed, compareToBaseline, diffMetrics, type CheckRow, type DiffRow, type Tolerance } from "./regression-check.ts";
import { diffSweepMeans, type MeanDiffRow } from "./sweep-means.ts";
import { sweepItemOf } from "./sweep.ts";
import type { Session } from "./session.ts";
import { formatNumber, renderTable } from "./table.ts";

/** `baseline`, `check` and `diff`: metrics of lock files, compared. */

export const BASELINE_SCHEMA = 1;

export interface Baseline {
  schema: typeof BASELINE_SCHEMA;
  /** The params file the baseline was made from, relative to the project. */
  params: string;
  createdAt: string;
  metrics: MetricTable;
}

/** The current DAG's metrics, refusing stale ones: a baseline or check must describe these params. */
export function currentMetrics<Params>(session: Session<Params>, fresh: ReadonlySet<string>, runCommand = "pipeline run"): MetricTable {
  const table: MetricTable = {};
  for (const name of session.graph.order) {
    const stage = session.graph.get(name);
    if (!stage.metrics) continue;
    const entry = session.lock.stages[name];
    if (!fresh.has(name) || !entry?.metrics) {
      throw new PipelineError("stage-output-invalid", `no current metrics for ${name}: run the pipeline with these params first (\`${runCommand}\`)`);
    }
    table[name] = entry.metrics;
  }
  return table;
}

export async function writeBaseline(path: string, paramsFile: string, metrics: MetricTable, root: string): Promise<void> {
  const baseline: Baseline = { schema: BASELINE_SCHEMA, params: relative(root, paramsFile), createdAt: new Date().toISOString(), metrics };
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, canonicalJson(baseline, 2) + "\n");
}

export async function readBaseline(path: string): Promise<Baseline> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new PipelineError(
      "invalid-baseline",
      `no baseline at ${path}: create one with \`pipeline baseline\` (it records the current metrics of check's profile, so run that profile first)`,
    );
  }
  let baseline: Partial<Baseline>;
  try {
    baseline = JSON.parse(text) as Partial<Baseline>;
  } catch (error) {
    throw new PipelineError("invalid-baseline", `${path} is not valid JSON (${(error as Error).message}); restore it from git or recreate it with \`pipeline baseline\``);
  }
  const valid =
    baseline.schema === BASELINE_SCHEMA &&
    typeof baseline.metrics === "object" &&
    baseline.metrics !== null &&
    Object.values(baseline.metrics).every((metrics) => typeof metrics === "object" && metrics !== null && Object.values(metrics).every((value) => typeof value === "number"));
  if (!valid) {
    throw new PipelineError("invalid-baseline", `${path} is not a baseline (expected {"schema": ${BASELINE_SCHEMA}, "metrics": {stage: {metric: number}}}); recreate it with \`pipeline baseline\``);
  }
  return baseline as Baseline;
}

export function checkReport(rows: readonly CheckRow[], format: "text" | "markdown"): string {
  const table = renderTable(
    ["stage", "metric", "baseline", "current", "delta", "limit", "result"],
    rows.map((row) => [
      row.stage,
      row.metric,
      formatNumber(row.baseline),
      formatNumber(row.current),
      formatNumber(row.delta, true),
      formatNumber(row.limit),
      row.status === "pass" ? "PASS" : row.status === "fail" ? "FAIL" : `FAIL (${row.status.replace(/-/g, " ")})`,
    ]),
    format,
  );
  const failures = rows.filter((row) => row.status !== "pass").length;
  const verdict = failures === 0 ? `All ${rows.length} checks pass.` : `${failures} of ${rows.length} checks fail.`;
  return format === "markdown" ? `### Accuracy regression check\n\n${table}\n\n**${verdict}**` : `${table}\n${verdict}`;
}

export function runComparison(current: MetricTable, baseline: Baseline, tolerances: Readonly<Record<string, Tolerance>>): { rows: CheckRow[]; passed: boolean } {
  const rows = compareToBaseline(current, baseline.metrics, tolerances);
  return { rows, passed: checkPassed(rows) };
}

/**
 * A lock file to compare: a path to one, or `REV` / `REV:path` read from git (default path: the
 * given lock file's name). Lock files carry metrics and params, so no artifacts are needed. A
 * revision that exists but has no such lock (a profile whose lock was never committed) compares as
 * an empty lock, with a note saying so.
 */
export async function resolveLock(spec: string, defaultLockPath: string, root: string): Promise<{ lock: LockFile; note?: string }> {
  if (existsSync(spec)) return { lock: await readLock(spec) };
  if (spec === defaultLockPath) {
    const name = relative(root, spec);
    return { lock: emptyLock(), note: `there is no ${name} here yet (this profile has not run in this checkout), so it is compared as empty: run the profile to fill it` };
  }
  const [revision = "", path = relative(root, defaultLockPath)] = spec.split(":");
  // zx, loaded on demand: git for a revision's lock file.
  const { $ } = await import("zx/core");
  const git = $({ cwd: root, quiet: true, nothrow: true });
  const shown = await git`git show ${`${revision}:${path}`}`;
  if (shown.exitCode !== 0) {
    const isRevision = (await git`git rev-parse --verify --quiet ${`${revision}^{commit}`}`).exitCode === 0;
    if (!isRevision) throw new PipelineError("invalid-cli", `"${spec}" is neither a lock file nor a git revision (${shown.stderr.trim().split("\n")[0]})`);
    return { lock: emptyLock(), note: `${revision} has no ${path} (never committed there), so every value counts as added: commit the lock to compare against it later` };
  }
  try {
    return { lock: JSON.parse(shown.stdout) as LockFile };
  } catch {
    throw new PipelineError("corrupt-lock-file", `${revision}:${path} is not valid JSON`);
  }
}

export function diffReport(a: LockFile, b: LockFile, labels: [string, string], format: "text" | "markdown" | "json", all: boolean): string {
  // Each sweep item's own row, and beside them the mean over the items of its base ("(mean of n)").
  const [tableA, tableB] = [metricsOfLock(a), metricsOfLock(b)];
  const metricRows: Array<DiffRow | MeanDiffRow> = [...diffMetrics(tableA, tableB, all), ...diffSweepMeans(tableA, tableB, all)].sort(byStageMeanFirst);
  const paramRows = diffParams(a, b, all);
  if (format === "json") return JSON.stringify({ metrics: metricRows, params: paramRows }, null, 2);
  const tableFormat = format === "markdown" ? "markdown" : "text";
  const stageCell = (row: DiffRow | MeanDiffRow): string =>
    "mean" in row ? `${row.stage} (mean of ${row.mean.a === row.mean.b ? row.mean.a : `${row.mean.a} → ${row.mean.b}`})` : row.stage;
  const metrics = metricRows.length
    ? renderTable(["stage", "metric", labels[0], labels[1], "change"], metricRows.map((row) => [stageCell(row), row.name, formatNumber(row.a as number | null), formatNumber(row.b as number | null), formatNumber(row.delta, true)]), tableFormat)
    : "no metric changed";
  const params = paramRows.length
    ? renderTable(["param", labels[0], labels[1]], paramRows.map((row) => [row.name, JSON.stringify(row.a) ?? "—", JSON.stringify(row.b) ?? "—"]), tableFormat)
    : "no param changed";
  return `Metrics\n${metrics}\n\nParams\n${params}`;
}

/** Stage order; a sweep's mean rows (named by its base, so sorting before its items) before a plain stage of the same name. */
function byStageMeanFirst(x: DiffRow | MeanDiffRow, y: DiffRow | MeanDiffRow): number {
  if (x.stage !== y.stage) return x.stage < y.stage ? -1 : 1;
  const meanFirst = Number("mean" in y) - Number("mean" in x);
  return meanFirst !== 0 ? meanFirst : x.name < y.name ? -1 : x.name > y.name ? 1 : 0;
}

/**
 * Params are recorded per stage; a path read by several stages has one value, so dedupe by path.
 * Sweep items are the exception: each sees its own values at the swept paths, so where a path's
 * values differ, each item's value is listed under the path and its swept values ("(seed=2)").
 */
function diffParams(a: LockFile, b: LockFile, all: boolean): Array<{ name: string; a: unknown; b: unknown }> {
  const values = (lock: LockFile): Map<string, unknown> => {
    const byPath = new Map<string, Array<{ stage: string; value: unknown }>>();
    for (const [stage, entry] of Object.entries(lock.stages)) {
      for (const [path, value] of Object.entries(entry.params)) byPath.set(path, [...(byPath.get(path) ?? []), { stage, value }]);
    }
    const map = new Map<string, unknown>();
    for (const [path, readers] of byPath) {
      if (new Set(readers.map((reader) => canonicalJson(reader.value ?? null))).size === 1) {
        map.set(path, readers[0]!.value);
        continue;
      }
      for (const { stage, value } of readers) {
        const swept = sweepItemOf(stage);
        map.set(swept ? `${path} (${Object.entries(swept.values).map(([label, text]) => `${label}=${text}`).join(", ")})` : path, value);
      }
    }
    return map;
  };
  const [before, after] = [values(a), values(b)];
  const rows: Array<{ name: string; a: unknown; b: unknown }> = [];
  for (const path of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const [x, y] = [before.get(path), after.get(path)];
    if (all || canonicalJson(x ?? null) !== canonicalJson(y ?? null)) rows.push({ name: path, a: x ?? null, b: y ?? null });
  }
  return rows;
}
