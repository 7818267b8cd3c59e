import { hostname } from "node:os";
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
      // The scheduler fully rehashes every input before it dispatches a job (a remote runner hashes
      // what it pulls), so the job's references are the verified hashes.
      verifiedInputs: Object.fromEntries(Object.values(job.inputs).map((ref) => [ref.stage, ref.outputHash])),
      measurements,
    };
    const manifest = await context.store.commit(workspace, job.stage, job.fingerprint, record);
    return { manifest, record, ...(metrics ? { metrics } : {}) };
  } catch (error) {
    await context.store.discard(workspace, job.stage, job.fingerprint);
    throw new StageFailureError(context.signal.aborted ? { reason: "aborted" } : failureOf(error));
  }
}
