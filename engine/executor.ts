import { readFile, rm, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { canonicalJson } from "./canonical-json.ts";
import { baseEnvironment } from "./environment.ts";
import { errorMessage } from "./errors.ts";
import { checkFreshness } from "./freshness.ts";
import { readDeclaredMetrics } from "./metrics.ts";
import { readDeclaredParam, type FingerprintInputs } from "./fingerprint.ts";
import { writeLock, type LockedStage } from "./lock-file.ts";
import { runInChildProcess } from "./child-process-runner.ts";
import { byPriority, criticalPathPriorities } from "./scheduling.ts";
import type { Session } from "./session.ts";
import type { Stage, StageContext, StageProgress } from "./stage.ts";
import type { StaleReason } from "./why.ts";

export type RunEvent =
  | { type: "plan"; stages: readonly string[] }
  | { type: "cached"; stage: string; fingerprint: string; restored: boolean }
  | { type: "start"; stage: string; fingerprint: string; reasons: StaleReason[] }
  | { type: "progress"; stage: string; progress: StageProgress }
  | { type: "done"; stage: string; fingerprint: string; seconds: number }
  | { type: "failed"; stage: string; error: string }
  | { type: "skipped"; stage: string; because: string };

export type StageOutcome =
  | { status: "cached" | "ran"; fingerprint: string }
  | { status: "failed"; error: string }
  | { status: "skipped"; because: string };

export interface RunOptions {
  only?: readonly string[];
  downstream?: boolean;
  force?: readonly string[];
  /** Stages running at once. */
  jobs?: number;
  /** After a failure, go on with every stage that does not depend on it (otherwise start nothing new). */
  keepGoing?: boolean;
  /** Rehash every cached output instead of trusting unchanged size/mtime/inode. */
  deepVerify?: boolean;
  signal?: AbortSignal;
  onEvent?(event: RunEvent): void;
}

export interface RunSummary {
  ok: boolean;
  aborted: boolean;
  outcomes: Record<string, StageOutcome>;
  seconds: number;
}

/** Run metadata kept beside each cached result, so a restored result can refill its lock entry. */
interface RunRecord {
  startedAt: string;
  durationSeconds: number;
  environment: Record<string, string>;
}

/**
 * Runs the selected stages in dependency order, up to `jobs` at once. Each stage's key is computed
 * only once its upstream results exist (their output hashes are part of it), so a stage whose
 * upstream reran but produced identical output is still reused.
 */
export async function executeStages<Params>(session: Session<Params>, options: RunOptions = {}): Promise<RunSummary> {
  const started = performance.now();
  const emit = options.onEvent ?? (() => {});
  const jobs = Math.max(1, options.jobs ?? 1);
  const selected = session.selection(options.only ?? [], options.downstream ?? false);
  const forced = options.force?.length ? session.graph.match(options.force) : new Set<string>();
  const order = session.graph.order.filter((name) => selected.has(name));
  emit({ type: "plan", stages: order });

  for (const abandoned of await session.store.abandonedWorkspaces()) await rm(abandoned, { recursive: true, force: true });

  const outcomes: Record<string, StageOutcome> = {};
  const outputHashes: Record<string, string> = {};
  const outputDirs: Record<string, string> = {};
  const lock = structuredClone(session.lock);
  let lockWrites = Promise.resolve();
  let lastWritten = canonicalJson(session.lock);
  // Written after every stage that changed it (so a crash keeps what finished), skipped when a
  // cached stage left it as it was: a no-op run writes nothing.
  const saveLock = (): Promise<void> =>
    (lockWrites = lockWrites.then(async () => {
      const text = canonicalJson(lock);
      if (text === lastWritten) return;
      await writeLock(session.lockPath, lock);
      lastWritten = text;
    }));

  const running = new Map<string, Promise<void>>();
  let stopScheduling = false;
  const aborted = (): boolean => options.signal?.aborted ?? false;

  const settle = (name: string, outcome: StageOutcome): void => {
    outcomes[name] = outcome;
    if (outcome.status === "failed" && !options.keepGoing) stopScheduling = true;
  };

  const processStage = async (stage: Stage): Promise<void> => {
    const inputs = session.fingerprintInputs(stage, outputHashes);
    const freshness = await checkFreshness(session.store, inputs, session.lock.stages[stage.name], {
      forced: forced.has(stage.name),
      deepVerify: options.deepVerify ?? false,
    });
    if (freshness.fresh) {
      outputHashes[stage.name] = freshness.manifest.outputHash;
      outputDirs[stage.name] = freshness.outDir;
      if (session.lock.stages[stage.name]?.fingerprint !== freshness.fingerprint || freshness.restored) {
        const resultDir = join(freshness.outDir, "..");
        lock.stages[stage.name] = {
          ...lockEntry(session.workDir, inputs, freshness.fingerprint, freshness.manifest, resultDir, await readRunRecord(resultDir)),
          ...(stage.metrics ? { metrics: await readDeclaredMetrics(stage.name, freshness.outDir, stage.metrics) } : {}),
        };
        await saveLock();
      }
      settle(stage.name, { status: "cached", fingerprint: freshness.fingerprint });
      emit({ type: "cached", stage: stage.name, fingerprint: freshness.fingerprint, restored: freshness.restored });
      return;
    }
    emit({ type: "start", stage: stage.name, fingerprint: freshness.fingerprint, reasons: freshness.reasons });
    const workspace = await session.store.createWorkspace(stage.name);
    const startedAt = new Date();
    try {
      const environment = baseEnvironment();
      const context = makeContext(stage, inputs, join(workspace, "out"), outputDirs, environment, emit, options.signal);
      if (stage.isolation === "process") {
        await runInChildProcess(session, stage, context);
      } else {
        await stage.run(context);
      }
      if (aborted()) throw new Error("interrupted");
      const record: RunRecord = {
        startedAt: startedAt.toISOString(),
        durationSeconds: Number(((Date.now() - startedAt.getTime()) / 1000).toFixed(3)),
        environment,
      };
      await writeFile(join(workspace, "run.json"), JSON.stringify(record, null, 2));
      // Read before commit: a stage whose declared metrics are missing fails and keeps nothing.
      const metrics = stage.metrics ? await readDeclaredMetrics(stage.name, join(workspace, "out"), stage.metrics) : undefined;
      const manifest = await session.store.commit(workspace, stage.name, freshness.fingerprint);
      const resultDir = session.store.resultDir(stage.name, freshness.fingerprint);
      outputHashes[stage.name] = manifest.outputHash;
      outputDirs[stage.name] = join(resultDir, "out");
      lock.stages[stage.name] = { ...lockEntry(session.workDir, inputs, freshness.fingerprint, manifest, resultDir, record), ...(metrics ? { metrics } : {}) };
      await saveLock();
      settle(stage.name, { status: "ran", fingerprint: freshness.fingerprint });
      emit({ type: "done", stage: stage.name, fingerprint: freshness.fingerprint, seconds: record.durationSeconds });
    } catch (error) {
      await session.store.discardWorkspace(workspace);
      const message = aborted() ? "interrupted" : errorMessage(error);
      settle(stage.name, { status: "failed", error: message });
      emit({ type: "failed", stage: stage.name, error: message });
    }
  };

  // Ready stages start longest-critical-path first (by the previous run's durations); the loop
  // below still starts only stages whose upstream finished.
  const priorities = criticalPathPriorities(session.graph, order, (name) => session.lock.stages[name]?.durationSeconds ?? 0);
  const waiting = byPriority(order, priorities);
  while (waiting.length > 0 || running.size > 0) {
    for (let i = 0; i < waiting.length; ) {
      const name = waiting[i]!;
      const stage = session.graph.get(name);
      const blocked = stage.deps.find((dep) => outcomes[dep]?.status === "failed" || outcomes[dep]?.status === "skipped");
      if (blocked !== undefined) {
        const because = outcomes[blocked]?.status === "failed" ? `upstream ${blocked} failed` : `upstream ${blocked} did not run`;
        settle(name, { status: "skipped", because });
        emit({ type: "skipped", stage: name, because });
        waiting.splice(i, 1);
        continue;
      }
      const ready = stage.deps.every((dep) => outcomes[dep]?.status === "cached" || outcomes[dep]?.status === "ran");
      if (ready && running.size < jobs && !stopScheduling && !aborted()) {
        waiting.splice(i, 1);
        running.set(name, processStage(stage).finally(() => running.delete(name)));
        continue;
      }
      i++;
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }
  for (const name of waiting) {
    const because = aborted() ? "interrupted" : "stopped after a failure (use --keep-going to continue other branches)";
    settle(name, { status: "skipped", because });
    emit({ type: "skipped", stage: name, because });
  }

  // The lock describes the current DAG only: stages no longer declared drop out (their cache stays until gc).
  for (const name of Object.keys(lock.stages)) if (!session.graph.stages.has(name)) delete lock.stages[name];
  await saveLock();

  const ok = Object.values(outcomes).every((outcome) => outcome.status === "cached" || outcome.status === "ran");
  return { ok, aborted: aborted(), outcomes, seconds: (performance.now() - started) / 1000 };
}

function makeContext(
  stage: Stage,
  inputs: FingerprintInputs,
  outDir: string,
  outputDirs: Readonly<Record<string, string>>,
  environment: Record<string, string>,
  emit: (event: RunEvent) => void,
  signal: AbortSignal | undefined,
): StageContext {
  const upstream: Record<string, string> = {};
  for (const dep of stage.deps) upstream[dep] = outputDirs[dep]!;
  return {
    name: stage.name,
    outDir,
    inputs: upstream,
    params: inputs.params,
    param: <T>(path: string) => readDeclaredParam<T>(stage.name, inputs.params, path),
    progress(update) {
      emit({ type: "progress", stage: stage.name, progress: typeof update === "string" ? { text: update } : update });
    },
    recordEnvironment(facts) {
      Object.assign(environment, facts);
    },
    signal: signal ?? new AbortController().signal,
  };
}

function lockEntry(
  workDir: string,
  inputs: FingerprintInputs,
  fingerprint: string,
  manifest: { files: LockedStage["outputs"]["files"]; outputHash: string },
  resultDir: string,
  record: RunRecord | undefined,
): LockedStage {
  return {
    fingerprint,
    code: inputs.code,
    params: inputs.params,
    inputs: inputs.inputs,
    outputs: { files: manifest.files, outputHash: manifest.outputHash },
    artifact: relative(workDir, resultDir).split("\\").join("/"),
    startedAt: record?.startedAt ?? "unknown",
    durationSeconds: record?.durationSeconds ?? 0,
    environment: record?.environment ?? {},
  };
}

async function readRunRecord(resultDir: string): Promise<RunRecord | undefined> {
  try {
    return JSON.parse(await readFile(join(resultDir, "run.json"), "utf8")) as RunRecord;
  } catch {
    return undefined;
  }
}
