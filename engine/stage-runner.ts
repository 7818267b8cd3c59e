import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { sha256 } from "./canonical-json.ts";
import { baseEnvironment } from "./environment.ts";
import { StageFailureError, failureOf } from "./failure.ts";
import { readDeclaredMetrics } from "./metrics.ts";
import type { Manifest, ResultStore, Workspace } from "./result-store.ts";
import { RUN_RECORD_SCHEMA, type Measurement, type RunRecord } from "./run-record.ts";
import type { StageJob } from "./stage-job.ts";
import type { StageProgress } from "./stage.ts";

/**
 * Runs one stage job and leaves its result in a result store. The scheduler only sees this
 * interface: in this process, in a child process, or on a worker elsewhere are implementations.
 * A runner rejects with a StageFailureError carrying a typed StageFailure.
 */
export interface StageRunner {
  /** Recorded in the run record as `runner` (inline, process, a worker's name). */
  readonly name: string;
  run(job: StageJob, context: RunnerContext): Promise<StageResult>;
}

export interface RunnerContext {
  /** Where the job's inputs are found and its result is committed. */
  store: ResultStore;
  signal: AbortSignal;
  onProgress(progress: StageProgress): void;
  /** Stages running at once on this machine when the job started (recorded with the result). */
  concurrentStages: number;
  loadAverage: number;
  /**
   * The stage's critical path in expected seconds (its own run plus the longest chain waiting on
   * it), as the local scheduler orders ready stages: a queue hands higher ones to workers first.
   */
  criticalPathSeconds?: number;
  /**
   * The checkout the stage's code is loaded from. Set, the job's code files are rehashed there
   * once the stage has run, and a result whose code changed meanwhile is discarded.
   */
  codeRoot?: string;
  /**
   * The caller rehashed every input in full against its reference just before (the executor does,
   * and a worker after pulling). Only then does the run record list the inputs as verified; a
   * record without that list is rerun by `--verify`.
   */
  inputsVerified?: boolean;
}

export interface StageResult {
  manifest: Manifest;
  record: RunRecord;
  metrics?: Record<string, number>;
}

/** Where a local run's stage reads and writes, prepared from the job's references. */
export interface PreparedRun {
  workspace: Workspace;
  inputDirs: Record<string, string>;
  inputRecords: Record<string, RunRecord | undefined>;
}

/** What a running stage reports besides its files. */
export interface RunSink {
  progress(progress: StageProgress): void;
  environment(facts: Record<string, string>): void;
  measurements(values: Record<string, Measurement>): void;
}

/**
 * The part every local runner shares: resolve the input references in the store (their output hash
 * must match), give the stage a fresh workspace, check its declared metrics, write the run record
 * and commit — or discard the workspace (keeping its log) on any failure.
 */
export async function runInWorkspace(
  runner: string,
  job: StageJob,
  context: RunnerContext,
  execute: (prepared: PreparedRun, sink: RunSink) => Promise<void>,
): Promise<StageResult> {
  const inputDirs: Record<string, string> = {};
  const inputRecords: Record<string, RunRecord | undefined> = {};
  for (const [role, ref] of Object.entries(job.inputs)) {
    const stored = await context.store.readRecord(ref.stage, ref.fingerprint);
    if (stored?.manifest.outputHash !== ref.outputHash) {
      const detail = stored ? `its output hash is ${stored.manifest.outputHash.slice(0, 10)}, the job expects ${ref.outputHash.slice(0, 10)}` : "absent";
      throw new StageFailureError({ reason: "input-corrupted", stage: ref.stage, detail });
    }
    try {
      inputDirs[role] = await context.store.materialize(ref.stage, ref.fingerprint);
    } catch (error) {
      throw new StageFailureError({ reason: "input-corrupted", stage: ref.stage, detail: (error as Error).message });
    }
    inputRecords[role] = stored.run;
  }
  const workspace = await context.store.createWorkspace(job.stage);
  const startedAt = new Date();
  const environment: Record<string, string> = { ...baseEnvironment(), host: hostname(), runner };
  const measurements: Record<string, Measurement> = {};
  try {
    await execute(
      { workspace, inputDirs, inputRecords },
      {
        progress: context.onProgress,
        environment: (facts) => Object.assign(environment, facts),
        measurements: (values) => Object.assign(measurements, values),
      },
    );
    if (context.signal.aborted) throw new StageFailureError({ reason: "aborted" });
    let metrics: Record<string, number> | undefined;
    if (job.metrics) {
      try {
        metrics = await readDeclaredMetrics(job.stage, workspace.outDir, job.metrics);
      } catch (error) {
        throw new StageFailureError({ reason: "invalid-output", message: (error as Error).message });
      }
    }
    const record: RunRecord = {
      schema: RUN_RECORD_SCHEMA,
      startedAt: startedAt.toISOString(),
      durationSeconds: Number(((Date.now() - startedAt.getTime()) / 1000).toFixed(3)),
      environment,
      execution: job.execution,
      load: { concurrentStages: context.concurrentStages, loadAverage: Number(context.loadAverage.toFixed(2)) },
      ...(context.inputsVerified ? { verifiedInputs: Object.fromEntries(Object.values(job.inputs).map((ref) => [ref.stage, ref.outputHash])) } : {}),
      measurements,
    };
    if (context.codeRoot !== undefined) {
      const changed = await changedCodeFiles(context.codeRoot, job);
      if (changed.length > 0) throw new StageFailureError({ reason: "code-changed", files: changed });
    }
    const manifest = await context.store.commit(workspace, job.stage, job.fingerprint, record);
    return { manifest, record, ...(metrics ? { metrics } : {}) };
  } catch (error) {
    await context.store.discard(workspace, job.stage, job.fingerprint);
    throw new StageFailureError(context.signal.aborted ? { reason: "aborted" } : failureOf(error));
  }
}

/**
 * The job's code files whose bytes differ now from the hashes its key was computed with (an
 * import added or removed changes an importing file, so rehashing the listed files suffices).
 */
export async function changedCodeFiles(root: string, job: StageJob): Promise<string[]> {
  const changed: string[] = [];
  for (const [file, hash] of Object.entries(job.code.files)) {
    const bytes = await readFile(join(root, file)).catch(() => undefined);
    if (bytes === undefined || sha256(bytes) !== hash) changed.push(file);
  }
  return changed;
}
