import { Job, Queue, QueueEvents } from "bullmq";
import { PipelineError } from "./errors.ts";
import { StageFailureError, type StageFailure } from "./failure.ts";
import type { LocalResultStore } from "./local-result-store.ts";
import { readDeclaredMetrics } from "./metrics.ts";
import type { RemoteCache } from "./remote-cache.ts";
import { recordProblem, type RemoteRecord } from "./remote-record.ts";
import type { Manifest } from "./result-store.ts";
import { copyResult } from "./result-transfer.ts";
import { JOB_OPTIONS, QUEUE_NAME, decodeFailure, jobIdFor, withTimeout, type QueueAddress, type QueueProgress, type QueueResult } from "./stage-queue.ts";
import type { StageJob } from "./stage-job.ts";
import type { RunnerContext, StageResult, StageRunner } from "./stage-runner.ts";
import type { StageProgress } from "./stage.ts";

/**
 * The coordinator's runner: each stage becomes a BullMQ job (id from stage and fingerprint, so two
 * coordinators share it), a worker elsewhere runs it and pushes the result to the remote cache,
 * and this runner pulls the result back — hashed as it streams — once the job completes. Nothing
 * but references, run records and progress goes through Redis.
 *
 * Jobs are dispatched as they become ready (the executor calls `run` when a stage's inputs are
 * settled), not as a prebuilt flow: a stage's key depends on its inputs' output hashes, and BullMQ
 * flows are trees, not DAGs with shared dependencies.
 *
 * Completion arrives through QueueEvents, with a poll every few seconds as a safety net: it catches
 * an event missed while subscribing or reconnecting, a job Redis no longer knows (restarted without
 * persistence), and a Redis that stays unreachable — each reported as a lost worker, never a hang.
 */
export interface QueueRunnerOptions {
  address: QueueAddress;
  /** Where results are pulled to (the coordinator's store) and where workers pushed them. */
  local: LocalResultStore;
  remote: RemoteCache;
  /** How often each waiting job's state is checked besides the events (default 2 s). */
  pollMs?: number;
  /** How long Redis may be unreachable before the waiting stages fail (default 15 s). */
  unreachableMs?: number;
  /** How long to wait for Redis when connecting (default 5 s). */
  connectMs?: number;
}

/** Per stage: where the time around the stage's own run went. */
export interface JobTiming {
  stage: string;
  worker: string;
  reused: boolean;
  /** From enqueueing to the result being here: everything the coordinator waited. */
  totalSeconds: number;
  /** The stage's own run, as its run record says. */
  runSeconds: number;
  queuedSeconds: number;
  pullSeconds: number;
  pushSeconds: number;
  fetchSeconds: number;
}

interface Waiter {
  id: string;
  stage: string;
  onProgress(progress: StageProgress): void;
  settle(outcome: { ok: true; result: unknown } | { ok: false; failure: StageFailure }): void;
}

export class QueueRunner implements StageRunner {
  readonly name = "queue";
  readonly timings: JobTiming[] = [];
  readonly #waiters = new Map<string, Waiter>();
  #lastError = "";
  #unreachableSince: number | undefined;
  #poller: NodeJS.Timeout | undefined;
  #polling = false;

  private constructor(
    private readonly options: QueueRunnerOptions,
    private readonly queue: Queue,
    private readonly events: QueueEvents,
  ) {}

  /** Connects to Redis, or fails with a message saying how to start it. */
  static async connect(options: QueueRunnerOptions): Promise<QueueRunner> {
    const queue = new Queue(QUEUE_NAME, { connection: options.address.connection });
    let lastError = "";
    // An EventEmitter's unhandled 'error' would crash the run: note the cause for messages instead.
    queue.on("error", (error) => (lastError = error.message));
    try {
      await withTimeout(queue.waitUntilReady(), options.connectMs ?? 5000, "no answer");
    } catch (error) {
      await queue.close();
      throw new PipelineError(
        "invalid-cli",
        `cannot reach Redis at ${options.address.url} (${lastError || (error as Error).message}): start it (redis-server; see the README's "Running on many machines") or fix --queue`,
      );
    }
    // Created once Redis answers: a QueueEvents that never connected cannot be closed (BullMQ 5 awaits its client).
    const events = new QueueEvents(QUEUE_NAME, { connection: options.address.connection });
    const runner = new QueueRunner(options, queue, events);
    runner.#lastError = lastError;
    queue.on("error", (error) => runner.#noteError(error));
    events.on("error", (error) => runner.#noteError(error));
    queue.on("ioredis:close", () => (runner.#unreachableSince ??= Date.now()));
    await withTimeout(events.waitUntilReady(), options.connectMs ?? 5000, `Redis at ${options.address.url} stopped answering`);
    events.on("completed", ({ jobId, returnvalue }) => runner.#waiters.get(jobId)?.settle({ ok: true, result: returnvalue }));
    events.on("failed", ({ jobId, failedReason }) => runner.#waiters.get(jobId)?.settle({ ok: false, failure: decodeFailure(failedReason) }));
    events.on("progress", ({ jobId, data }) => {
      const progress = data as Partial<QueueProgress>;
      if (typeof progress?.text === "string") {
        runner.#waiters.get(jobId)?.onProgress({ text: `${progress.text} · ${progress.worker ?? "a worker"}`, ...(typeof progress.fraction === "number" ? { fraction: progress.fraction } : {}) });
      }
    });
    events.on("stalled", ({ jobId }) => runner.#waiters.get(jobId)?.onProgress({ text: "its worker stopped answering; back in the queue for another worker" }));
    events.on("waiting", ({ jobId, prev }) => {
      if (prev === "active") runner.#waiters.get(jobId)?.onProgress({ text: "handed back by its worker; waiting for another" });
    });
    events.on("delayed", ({ jobId }) => runner.#waiters.get(jobId)?.onProgress({ text: "its process failed on the worker; retrying after a pause" }));
    runner.#poller = setInterval(() => void runner.#poll(), options.pollMs ?? 2000);
    runner.#poller.unref();
    return runner;
  }

  async run(job: StageJob, context: RunnerContext): Promise<StageResult> {
    const id = jobIdFor(job.stage, job.fingerprint);
    const started = performance.now();
    context.onProgress({ text: "queued: waiting for a worker" });
    let result = await this.#runJob(id, job, context);
    const fetchStarted = performance.now();
    let manifest: Manifest;
    try {
      manifest = await this.#fetch(result);
    } catch (error) {
      // A job finished earlier (kept by Redis) whose result the remote no longer has: ask again, once.
      if (!result.earlier) throw error;
      await this.queue.remove(id);
      result = await this.#runJob(id, job, context);
      manifest = await this.#fetch(result);
    }
    const fetchSeconds = (performance.now() - fetchStarted) / 1000;
    const stored = await this.options.local.readRecord(job.stage, job.fingerprint);
    const record = stored?.run ?? result.value.record;
    const outDir = await this.options.local.materialize(job.stage, job.fingerprint);
    let metrics: Record<string, number> | undefined;
    if (job.metrics) {
      try {
        metrics = await readDeclaredMetrics(job.stage, outDir, job.metrics);
      } catch (error) {
        throw new StageFailureError({ reason: "invalid-output", message: (error as Error).message });
      }
    }
    this.timings.push({
      stage: job.stage,
      worker: result.value.worker,
      reused: result.value.reused,
      totalSeconds: (performance.now() - started) / 1000,
      runSeconds: result.value.reused ? 0 : record.durationSeconds,
      queuedSeconds: result.queuedSeconds,
      pullSeconds: result.value.pullSeconds,
      pushSeconds: result.value.pushSeconds,
      fetchSeconds,
    });
    return { manifest, record, ...(metrics ? { metrics } : {}) };
  }

  /** Workers connected to the queue now; undefined when Redis will not say (CLIENT LIST disallowed). */
  async workerCount(): Promise<number | undefined> {
    return withTimeout(this.queue.getWorkersCount(), 3000, "no answer").catch(() => undefined);
  }

  /** One line for the end of a run: where the time around the stages went. */
  summary(): string | undefined {
    const ran = this.timings.filter((timing) => !timing.reused);
    if (this.timings.length === 0) return undefined;
    const median = (values: number[]): number => {
      const sorted = [...values].sort((a, b) => a - b);
      const middle = Math.floor(sorted.length / 2);
      return sorted.length === 0 ? 0 : sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
    };
    const workers = new Set(this.timings.map((timing) => timing.worker)).size;
    // Waiting for a free worker is the schedule's doing, not overhead: it is reported apart.
    const overheads = ran.map((timing) => timing.totalSeconds - timing.runSeconds - timing.queuedSeconds);
    const reused = this.timings.length - ran.length;
    const seconds = (values: number[]): string => `${median(values).toFixed(2)}s`;
    return (
      `queue: ${this.timings.length} job${this.timings.length === 1 ? "" : "s"} on ${workers} worker${workers === 1 ? "" : "s"}` +
      (reused ? ` (${reused} already in the remote)` : "") +
      (ran.length
        ? `; median per stage: ${seconds(overheads)} around the run (pull ${seconds(ran.map((t) => t.pullSeconds))}, push ${seconds(ran.map((t) => t.pushSeconds))}, ` +
          `fetch back ${seconds(ran.map((t) => t.fetchSeconds))}), ${seconds(ran.map((t) => t.queuedSeconds))} waiting for a free worker`
        : "")
    );
  }

  async close(): Promise<void> {
    clearInterval(this.#poller);
    for (const waiter of this.#waiters.values()) waiter.settle({ ok: false, failure: { reason: "aborted" } });
    const closed = Promise.allSettled([this.events.close(), this.queue.close()]);
    // With Redis gone, BullMQ's close waits for a QUIT that never gets an answer: cut the connections.
    if ((await withTimeout(closed, 3000, "no answer").catch(() => "timeout")) === "timeout") {
      // Not awaited: the clients' 'end' may never come either; disconnecting stops their reconnection timers.
      for (const side of [this.events, this.queue]) void side.disconnect().catch(() => {});
    }
  }

  /** Adds the job (or joins the one with its id) and waits for its outcome. */
  async #runJob(id: string, job: StageJob, context: RunnerContext): Promise<{ value: QueueResult; earlier: boolean; queuedSeconds: number }> {
    if (context.signal.aborted) throw new StageFailureError({ reason: "aborted" });
    const onAbort = (): void => {
      this.#waiters.get(id)?.settle({ ok: false, failure: { reason: "aborted" } });
      // A job no worker has taken yet is withdrawn; one already running finishes and reaches the
      // remote, where the next run finds it (removing it would not stop its worker).
      void this.queue.remove(id).catch(() => {});
    };
    context.signal.addEventListener("abort", onAbort, { once: true });
    try {
      const earlier = await this.#enqueue(id, job, queuePriority(context.criticalPathSeconds));
      const outcome = new Promise<Parameters<Waiter["settle"]>[0]>((resolve) => {
        this.#waiters.set(id, { id, stage: job.stage, onProgress: context.onProgress, settle: resolve });
      });
      if (context.signal.aborted) onAbort();
      // Events before the waiter existed are not lost: the job's stored state settles it.
      await this.#check(id);
      const settled = await outcome;
      if (!settled.ok) throw new StageFailureError(settled.failure);
      const value = checkResult(settled.result, job);
      const stored = await Job.fromId(this.queue, id).catch(() => undefined);
      const queuedSeconds = stored?.processedOn && stored.timestamp ? Math.max(0, (stored.processedOn - stored.timestamp) / 1000) : 0;
      return { value, earlier, queuedSeconds };
    } finally {
      context.signal.removeEventListener("abort", onAbort);
      this.#waiters.delete(id);
    }
  }

  /**
   * Adds the job; an existing id is joined, whatever its state. A job that failed before (in an
   * earlier run, or for another coordinator) is removed and added again: running the pipeline again
   * is asking again. Returns whether the job had completed before this run asked.
   */
  async #enqueue(id: string, job: StageJob, priority: number): Promise<boolean> {
    await this.queue.add(job.stage, job, { ...JOB_OPTIONS, jobId: id, priority });
    const state = await this.queue.getJobState(id);
    if (state !== "failed") return state === "completed";
    await this.queue.remove(id);
    await this.queue.add(job.stage, job, { ...JOB_OPTIONS, jobId: id, priority });
    return false;
  }

  /** Settles a waiter from the job's stored state: the safety net under the events. */
  async #check(id: string): Promise<void> {
    const waiter = this.#waiters.get(id);
    if (!waiter) return;
    const state = await this.queue.getJobState(id);
    if (state === "unknown") {
      waiter.settle({
        ok: false,
        failure: {
          reason: "lost-worker",
          detail: `Redis at ${this.options.address.url} no longer knows this stage's job (restarted without persistence, or the job was removed); run again: results workers already pushed are reused from the remote`,
        },
      });
      return;
    }
    if (state !== "completed" && state !== "failed") return;
    const stored = await Job.fromId(this.queue, id);
    if (!stored) return;
    waiter.settle(state === "completed" ? { ok: true, result: stored.returnvalue } : { ok: false, failure: decodeFailure(stored.failedReason) });
  }

  async #poll(): Promise<void> {
    if (this.#polling || this.#waiters.size === 0) return;
    this.#polling = true;
    try {
      for (const id of [...this.#waiters.keys()]) await withTimeout(this.#check(id), 3000, "Redis did not answer within 3 s");
      this.#unreachableSince = undefined;
      this.#lastError = "";
    } catch (error) {
      if (!this.#lastError) this.#noteError(error as Error); // the connection's own error says more
      this.#unreachableSince ??= Date.now();
      const seconds = (Date.now() - this.#unreachableSince) / 1000;
      if (seconds * 1000 >= (this.options.unreachableMs ?? 15_000)) {
        const detail =
          `lost the connection to Redis at ${this.options.address.url} (${this.#lastError}) for ${seconds.toFixed(0)} s; ` +
          `the stage may still finish on its worker and reach the remote — run again once Redis is back, and finished results are reused`;
        for (const waiter of this.#waiters.values()) waiter.settle({ ok: false, failure: { reason: "lost-worker", detail } });
      }
    } finally {
      this.#polling = false;
    }
  }

  /** Pulls the job's result into the local store (hashing every file), unless it is already here. */
  async #fetch(result: { value: QueueResult }): Promise<Manifest> {
    const { ref } = result.value;
    const held = await this.options.local.verify(ref.stage, ref.fingerprint, { deep: false, refresh: false });
    if (held.ok && held.outDir !== undefined && held.manifest.outputHash === ref.outputHash) return held.manifest;
    const raw = await this.options.remote.getRecord(ref.stage, ref.fingerprint).catch((error: Error) => {
      throw lost(`the remote ${this.options.remote.url} did not answer for the result of ${ref.stage} (${error.message})`);
    });
    if (raw === undefined) throw lost(`its worker reported ${ref.stage} done, but the remote ${this.options.remote.url} has no record of it`);
    const problem = recordProblem(raw, ref.stage, ref.fingerprint);
    if (problem !== undefined) throw lost(`the remote's record of ${ref.stage} is unusable: ${problem}`);
    const record = raw as RemoteRecord;
    if (record.manifest.outputHash !== ref.outputHash) {
      // Two runs of a nondeterministic stage: the remote keeps the first, and that one is what downstream stages get.
      result.value.ref = { ...ref, outputHash: record.manifest.outputHash };
    }
    try {
      return await copyResult(
        {
          readRecord: async () => ({ manifest: record.manifest, run: record.run }),
          openFile: async (_stage, _fingerprint, file) => this.options.remote.getBlob(record.manifest.files[file]!.sha256),
        },
        this.options.local,
        result.value.ref,
      );
    } catch (error) {
      throw lost(`cannot fetch the result of ${ref.stage} from ${this.options.remote.url}: ${(error as Error).message}`);
    }
  }

  #noteError(error: Error): void {
    this.#lastError = error.message;
  }
}

function lost(detail: string): StageFailureError {
  return new StageFailureError({ reason: "lost-worker", detail });
}

/** A worker's answer, checked: it must be about this job. */
function checkResult(raw: unknown, job: StageJob): QueueResult {
  const value = raw as Partial<QueueResult> | undefined;
  if (value?.schema !== 1 || value.ref?.stage !== job.stage || value.ref.fingerprint !== job.fingerprint || typeof value.ref.outputHash !== "string" || !value.record) {
    throw lost(`its worker returned an answer that is not about ${job.stage} (${job.fingerprint.slice(0, 10)})`);
  }
  return value as QueueResult;
}

export interface QueuedJob {
  stage: string;
  fingerprint: string;
  state: string;
  worker?: string;
  progress?: string;
}

/** Jobs that are waiting or running, for `status --queue`. */
export async function queuedJobs(address: QueueAddress): Promise<QueuedJob[]> {
  const queue = new Queue(QUEUE_NAME, { connection: address.connection });
  let lastError = "";
  queue.on("error", (error) => (lastError = error.message));
  try {
    await withTimeout(queue.waitUntilReady(), 5000, "no answer").catch((error: Error) => {
      throw new PipelineError("invalid-cli", `cannot reach Redis at ${address.url} (${lastError || error.message}): start it or fix --queue`);
    });
    const listed: QueuedJob[] = [];
    for (const state of ["active", "waiting", "prioritized", "delayed"] as const) {
      for (const job of await queue.getJobs([state])) {
        if (!job?.id) continue;
        const data = job.data as Partial<StageJob>;
        const progress = job.progress as Partial<QueueProgress> | number;
        listed.push({
          stage: data.stage ?? job.name,
          fingerprint: data.fingerprint ?? "",
          state: state === "active" ? "running" : state === "delayed" ? "retrying" : "queued",
          ...(state === "active" && job.processedBy ? { worker: job.processedBy } : {}),
          ...(state === "active" && typeof progress === "object" && typeof progress?.text === "string" ? { progress: progress.text } : {}),
        });
      }
    }
    return listed;
  } finally {
    await queue.close();
  }
}

/** BullMQ rejects priorities above 2^21 − 1 (and 0 means "none": ahead of every prioritized job). */
const LOWEST_PRIORITY = 2 ** 21 - 1;

/**
 * A stage's critical path as a BullMQ priority: longer chains first, as the local scheduler does.
 * Every job gets one (a job without a priority would jump ahead of all prioritized ones); equal
 * priorities keep arrival order, which is the executor's.
 */
export function queuePriority(criticalPathSeconds = 0): number {
  return Math.max(1, LOWEST_PRIORITY - Math.round(Math.max(0, criticalPathSeconds)));
}
