import { loadavg } from "node:os";
import { rm } from "node:fs/promises";
import { relative } from "node:path";
import { canonicalJson } from "./canonical-json.ts";
import { declaredExecution } from "./execution.ts";
import { StageFailureError, failureOf, type StageFailure } from "./failure.ts";
import { checkFreshness } from "./freshness.ts";
import { fingerprintFor, type FingerprintInputs } from "./fingerprint.ts";
import { InlineRunner } from "./inline-runner.ts";
import { writeLock, type LockedStage } from "./lock-file.ts";
import { readDeclaredMetrics } from "./metrics.ts";
import { ProcessRunner } from "./process-runner.ts";
import type { Manifest, ResultRef } from "./result-store.ts";
import type { RunRecord } from "./run-record.ts";
import { byPriority, criticalPathPriorities, expectedDuration } from "./scheduling.ts";
import type { Session } from "./session.ts";
import { projectRelative, type StageJob } from "./stage-job.ts";
import type { StageRunner } from "./stage-runner.ts";
import type { Stage, StageProgress } from "./stage.ts";
import type { StaleReason } from "./why.ts";

export type RunEvent =
  | { type: "plan"; stages: readonly string[] }
  | { type: "cached"; stage: string; fingerprint: string; restored: boolean }
  | { type: "start"; stage: string; fingerprint: string; reasons: StaleReason[] }
  | { type: "progress"; stage: string; progress: StageProgress }
  | { type: "done"; stage: string; fingerprint: string; seconds: number }
  | { type: "failed"; stage: string; failure: StageFailure }
  | { type: "skipped"; stage: string; because: string };

export type StageOutcome =
  | { status: "cached" | "ran"; fingerprint: string }
  | { status: "failed"; failure: StageFailure }
  | { status: "skipped"; because: string };

export interface RunOptions {
  only?: readonly string[];
  downstream?: boolean;
  force?: readonly string[];
  /** Stages running at once. */
  jobs?: number;
  /** After a failure, go on with every stage that does not depend on it (otherwise start nothing new). */
  keepGoing?: boolean;
  /**
   * Rehash every cached output instead of trusting unchanged stat snapshots, and rerun results
   * whose run record does not show their inputs were verified with the hashes their key names.
   */
  deepVerify?: boolean;
  /** Which runner runs a stage; default: in this process or a child process, by its isolation. */
  runnerFor?(stage: Stage): StageRunner;
  signal?: AbortSignal;
  onEvent?(event: RunEvent): void;
}

export interface RunSummary {
  ok: boolean;
  aborted: boolean;
  outcomes: Record<string, StageOutcome>;
  seconds: number;
}

/**
 * Runs the selected stages in dependency order, up to `jobs` at once. Each stage's key is computed
 * only once its upstream results exist (their output hashes are part of it), so a stage whose
 * upstream reran but produced identical output is still reused. Before a stage runs, every input it
 * will read is rehashed in full; a corrupted one is rebuilt first, so a result is never computed
 * from, and filed under the key of, inputs other than the ones its key names.
 */
export async function executeStages<Params>(session: Session<Params>, options: RunOptions = {}): Promise<RunSummary> {
  const started = performance.now();
  const emit = options.onEvent ?? (() => {});
  const jobs = Math.max(1, options.jobs ?? 1);
  const signal = options.signal ?? new AbortController().signal;
  const selected = session.selection(options.only ?? [], options.downstream ?? false);
  const forced = options.force?.length ? session.graph.match(options.force) : new Set<string>();
  const order = session.graph.order.filter((name) => selected.has(name));
  const inline = new InlineRunner((name) => session.graph.get(name));
  const inProcess = new ProcessRunner(session.project.root);
  const runnerFor = options.runnerFor ?? ((stage: Stage) => (stage.isolation === "process" ? inProcess : inline));
  emit({ type: "plan", stages: order });
  // Ready stages start longest-critical-path first (by the previous run's durations); the loop
  // below still starts only stages whose upstream finished.
  const priorities = criticalPathPriorities(session.graph, order, (name) => expectedDuration(session.lock.stages, name));
  // Every key is made with the code as it is now, when this process has just loaded it (inline
  // stages run that code); a file edited later fails the stages whose code it is (runInWorkspace).
  for (const name of order) session.code.fingerprint(session.graph.get(name).module);

  for (const abandoned of await session.local.abandonedWorkspaces()) await rm(abandoned, { recursive: true, force: true });

  const outcomes: Record<string, StageOutcome> = {};
  /** Results settled in this run: what dependents' keys and jobs reference. */
  const results: Record<string, ResultRef> = {};
  const outputHashes: Record<string, string> = {};
  const lock = structuredClone(session.lock);
  let lockWrites = Promise.resolve();
  // Written after every stage that changed it (so a crash keeps what finished), skipped when a
  // cached stage left it as it was: a no-op run writes nothing. Changes are tracked per entry, not
  // by serialising the whole lock (the full grid's is 1.5 MB) after every stage.
  let lockChanged = false;
  const saveLock = (): Promise<void> =>
    (lockWrites = lockWrites.then(async () => {
      if (!lockChanged) return;
      lockChanged = false;
      await writeLock(session.lockPath, lock);
    }));

  const running = new Map<string, Promise<void>>();
  let stopScheduling = false;

  const settle = (name: string, outcome: StageOutcome): void => {
    outcomes[name] = outcome;
    if (outcome.status === "failed" && !options.keepGoing) stopScheduling = true;
  };

  const accept = (stage: Stage, ref: ResultRef): void => {
    results[stage.name] = ref;
    outputHashes[stage.name] = ref.outputHash;
  };

  const recordInLock = async (stage: Stage, inputs: FingerprintInputs, manifest: Manifest, record: RunRecord | undefined, metrics?: Record<string, number>): Promise<void> => {
    const entry: LockedStage = { ...lockEntry(session, inputs, manifest, record), ...(metrics ? { metrics } : {}) };
    const previous = lock.stages[stage.name];
    // A result reproduced byte for byte keeps the entry of the run that first made it: the lock
    // changes only when a result does, so a fresh checkout that rebuilds everything leaves a
    // committed lock as it was. This run's times and machine are in its run record.
    if (!previous || !sameResult(previous, entry)) {
      lock.stages[stage.name] = entry;
      lockChanged = true;
    }
    await saveLock();
  };

  /**
   * Each input rehashed in full at most once per run (a 50 MB dataset read by 19 trainings is read
   * once); results committed in this run were hashed as they were written.
   */
  const verifiedThisRun = new Map<string, Promise<void>>();
  const verifyInput = (dep: string): Promise<void> => {
    let pending = verifiedThisRun.get(dep);
    if (!pending) {
      pending = (async () => {
        const ref = results[dep]!;
        // A result only a remote holds is fetched first (hashed as it streams); one that cannot be had is rebuilt.
        const fetched = await session.store.materialize(dep, ref.fingerprint).then(
          () => true,
          () => false,
        );
        const check = fetched ? await session.store.verify(dep, ref.fingerprint, { deep: true, refresh: true }) : ({ ok: false, reason: "absent" } as const);
        if (check.ok) return;
        const detail = check.reason === "missing-file" || check.reason === "corrupted-file" ? `${check.reason.replace("-", " ")}: ${check.file}` : check.reason;
        const reasons: StaleReason[] = [
          check.reason === "corrupted-file" ? { kind: "output-corrupted", file: check.file } : { kind: "output-missing", ...(check.reason === "missing-file" ? { file: check.file } : {}) },
        ];
        const outcome = await runStage(session.graph.get(dep), reasons);
        outcomes[dep] = outcome;
        if (outcome.status !== "ran") {
          throw new StageFailureError({ reason: "input-corrupted", stage: dep, detail: `${detail}; rebuilding it failed` });
        }
      })();
      verifiedThisRun.set(dep, pending);
    }
    return pending;
  };

  /** Rebuild-or-refuse every input, then run the stage with inputs whose hashes were just verified. */
  const runStage = async (stage: Stage, reasons: StaleReason[]): Promise<StageOutcome> => {
    try {
      await Promise.all(stage.deps.map(verifyInput));
    } catch (error) {
      return { status: "failed", failure: failureOf(error) };
    }
    // A rebuilt input may have come out different (a nondeterministic stage): key on what is there now.
    const inputs = session.fingerprintInputs(stage, outputHashes);
    const fingerprint = fingerprintFor(inputs);
    emit({ type: "start", stage: stage.name, fingerprint, reasons });
    try {
      const result = await runnerFor(stage).run(jobFor(session, stage, inputs, fingerprint, results), {
        store: session.store,
        signal,
        onProgress: (progress) => emit({ type: "progress", stage: stage.name, progress }),
        concurrentStages: running.size,
        loadAverage: loadavg()[0] ?? 0,
        criticalPathSeconds: priorities.get(stage.name) ?? 0,
        codeRoot: session.project.root,
        // verifyInput rehashed each of them above (or made it in this run, hashing it as it was written).
        inputsVerified: true,
      });
      accept(stage, { stage: stage.name, fingerprint, outputHash: result.manifest.outputHash });
      verifiedThisRun.set(stage.name, Promise.resolve());
      await recordInLock(stage, inputs, result.manifest, result.record, result.metrics);
      emit({ type: "done", stage: stage.name, fingerprint, seconds: result.record.durationSeconds });
      return { status: "ran", fingerprint };
    } catch (error) {
      const failure: StageFailure = signal.aborted ? { reason: "aborted" } : failureOf(error);
      emit({ type: "failed", stage: stage.name, failure });
      return { status: "failed", failure };
    }
  };

  /** Stages whose key must be checked before anything else; a check takes no job slot. */
  const checking = new Map<string, Promise<void>>();
  /** Stages that must run, with why, waiting for a job slot. */
  const runnable = new Map<string, StaleReason[]>();

  /** A cached result is taken at once; a stage to run waits in `runnable` for a slot. */
  const checkStage = async (stage: Stage): Promise<void> => {
    const inputs = session.fingerprintInputs(stage, outputHashes);
    const freshness = await checkFreshness(session.store, inputs, session.lock.stages[stage.name], {
      forced: forced.has(stage.name),
      deepVerify: options.deepVerify ?? false,
      refresh: true,
    });
    if (!freshness.fresh) {
      runnable.set(stage.name, freshness.reasons);
      return;
    }
    try {
      if (session.lock.stages[stage.name]?.fingerprint !== freshness.fingerprint || freshness.restored) {
        const stored = await session.store.readRecord(stage.name, freshness.fingerprint);
        // Declared metrics come from the files: a result only the remote holds is fetched (small: metrics files).
        const metrics = stage.metrics ? await readDeclaredMetrics(stage.name, freshness.outDir ?? (await session.store.materialize(stage.name, freshness.fingerprint)), stage.metrics) : undefined;
        await recordInLock(stage, inputs, freshness.manifest, stored?.run, metrics);
      }
      accept(stage, { stage: stage.name, fingerprint: freshness.fingerprint, outputHash: freshness.manifest.outputHash });
      settle(stage.name, { status: "cached", fingerprint: freshness.fingerprint });
      emit({ type: "cached", stage: stage.name, fingerprint: freshness.fingerprint, restored: freshness.restored });
    } catch (error) {
      // A cached result that cannot be read after all (a remote blob gone bad) is made again here.
      runnable.set(stage.name, [{ kind: "unexplained", detail: `its cached result could not be used: ${(error as Error).message}` }]);
    }
  };

  // Keys are checked as soon as a stage's inputs are settled, all at once (a no-op's work is waiting
  // on file reads, which overlap); only stages that must run take one of the `jobs` slots. Slots are
  // handed out only while no check is in flight, so the choice among stages to run is made with all
  // of them known, longest critical path first, whatever order their checks finished in.
  const waiting = byPriority(order, priorities);
  while (waiting.length > 0 || running.size > 0 || checking.size > 0 || runnable.size > 0) {
    for (let i = 0; i < waiting.length; ) {
      const name = waiting[i]!;
      const stage = session.graph.get(name);
      const blocked = stage.deps.find((dep) => outcomes[dep]?.status === "failed" || outcomes[dep]?.status === "skipped");
      if (blocked !== undefined) {
        const upstream = outcomes[blocked];
        const because =
          upstream?.status === "failed" ? (upstream.failure.reason === "aborted" ? `upstream ${blocked} was interrupted` : `upstream ${blocked} failed`) : `upstream ${blocked} did not run`;
        settle(name, { status: "skipped", because });
        emit({ type: "skipped", stage: name, because });
        waiting.splice(i, 1);
        continue;
      }
      const ready = stage.deps.every((dep) => outcomes[dep]?.status === "cached" || outcomes[dep]?.status === "ran");
      if (ready && !stopScheduling && !signal.aborted) {
        waiting.splice(i, 1);
        checking.set(name, checkStage(stage).finally(() => checking.delete(name)));
        continue;
      }
      i++;
    }
    if (checking.size === 0) {
      for (const name of byPriority([...runnable.keys()], priorities)) {
        if (running.size >= jobs || stopScheduling || signal.aborted) break;
        const reasons = runnable.get(name)!;
        runnable.delete(name);
        running.set(name, runStage(session.graph.get(name), reasons).then((outcome) => settle(name, outcome)).finally(() => running.delete(name)));
      }
    }
    if (running.size === 0 && checking.size === 0) break;
    await Promise.race([...running.values(), ...checking.values()]);
  }
  for (const name of [...runnable.keys(), ...waiting]) {
    const because = signal.aborted ? "interrupted" : "stopped after a failure (use --keep-going to continue other branches)";
    settle(name, { status: "skipped", because });
    emit({ type: "skipped", stage: name, because });
  }

  // The lock describes the current DAG only: stages no longer declared drop out (their cache stays until gc).
  for (const name of Object.keys(lock.stages)) {
    if (session.graph.stages.has(name)) continue;
    delete lock.stages[name];
    lockChanged = true;
  }
  await saveLock();

  const ok = Object.values(outcomes).every((outcome) => outcome.status === "cached" || outcome.status === "ran");
  return { ok, aborted: signal.aborted, outcomes, seconds: (performance.now() - started) / 1000 };
}

/** The serialisable job for a stage whose inputs are settled in `results`. */
export function jobFor<Params>(session: Session<Params>, stage: Stage, inputs: FingerprintInputs, fingerprint: string, results: Readonly<Record<string, ResultRef>>): StageJob {
  return {
    schema: 1,
    projectModule: projectRelative(session.project.root, session.project.module),
    stage: stage.name,
    fingerprint,
    params: session.params,
    declaredParams: inputs.params,
    inputs: Object.fromEntries(Object.entries(stage.inputs).map(([role, dep]) => [role, results[dep]!])),
    code: inputs.code,
    execution: declaredExecution(stage.execution, session.execution),
    ...(stage.metrics ? { metrics: stage.metrics } : {}),
  };
}

/** The same key, inputs and outputs: the entries differ only in when, where and how fast the run was. */
function sameResult(a: LockedStage, b: LockedStage): boolean {
  const { startedAt: _a1, durationSeconds: _a2, environment: _a3, measurements: _a4, ...resultA } = a;
  const { startedAt: _b1, durationSeconds: _b2, environment: _b3, measurements: _b4, ...resultB } = b;
  return canonicalJson(resultA) === canonicalJson(resultB);
}

function lockEntry<Params>(session: Session<Params>, inputs: FingerprintInputs, manifest: Manifest, record: RunRecord | undefined): LockedStage {
  return {
    fingerprint: manifest.fingerprint,
    code: inputs.code,
    params: inputs.params,
    inputs: inputs.inputs,
    ...(inputs.execution ? { execution: inputs.execution } : {}),
    outputs: { files: manifest.files, outputHash: manifest.outputHash },
    artifact: relative(session.workDir, session.local.resultDir(manifest.stage, manifest.fingerprint)).split("\\").join("/"),
    startedAt: record?.startedAt ?? "unknown",
    durationSeconds: record?.durationSeconds ?? 0,
    environment: { ...record?.environment, ...record?.execution },
    ...(record && Object.keys(record.measurements).length > 0 ? { measurements: record.measurements } : {}),
  };
}
