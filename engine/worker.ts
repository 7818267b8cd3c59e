import { availableParallelism, hostname, loadavg } from "node:os";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { UnrecoverableError, WaitingError, Worker, type Job } from "bullmq";
import { CodeFingerprinter } from "./code-fingerprint.ts";
import { PipelineError } from "./errors.ts";
import { resolveExecution } from "./execution.ts";
import { StageFailureError, describeFailure, failureOf, isRetryable } from "./failure.ts";
import { LocalResultStore } from "./local-result-store.ts";
import { InlineRunner } from "./inline-runner.ts";
import { ProcessRunner } from "./process-runner.ts";
import type { RemoteCache } from "./remote-cache.ts";
import { pushResult } from "./remote-push.ts";
import { RemoteBackedStore } from "./remote-store.ts";
import type { ResultRef } from "./result-store.ts";
import { QUEUE_NAME, encodeFailure, withTimeout, type QueueAddress, type QueueProgress, type QueueResult } from "./stage-queue.ts";
import { codeDifferences, projectRelative, type StageJob } from "./stage-job.ts";
import { toPath, type ProjectDefinition, type StageProgress } from "./stage.ts";

/**
 * `pipeline worker`: takes stage jobs from the queue and runs them in this checkout. Per job it
 * refuses code its checkout would key differently (naming the files), pulls and hashes the inputs
 * from the remote cache, runs the stage in a child process (so this process keeps renewing the
 * job's lock), pushes the result, and answers with the result's reference and run record only.
 *
 * Stopping: the first SIGTERM (or Ctrl-C) takes no new jobs and gives running stages
 * `drainTimeoutSeconds` to finish; then — or at a second signal — they are stopped and handed back
 * to the queue, where another worker takes them without spending a retry.
 */
export interface WorkerOptions {
  project: ProjectDefinition<unknown>;
  /** Where this worker's artifacts/ live (its own cache, separate from the remote). */
  workDir: string;
  address: QueueAddress;
  remote: RemoteCache;
  /** Shown in run records and the coordinator's display; default host:pid. */
  name?: string;
  /** Stages run at once. */
  concurrency: number;
  drainTimeoutSeconds: number;
  /**
   * How long a job's lock lasts without renewal: a worker that dies (kill -9, power loss) loses its
   * jobs to other workers after about this long, up to twice it (BullMQ's stalled-job check).
   */
  stallTimeoutSeconds: number;
  /** The project's execution flags given to this worker (e.g. --threads). */
  execution: Readonly<Record<string, string | undefined>>;
  log(line: string): void;
}

/** Progress updates per job go to Redis at most this often (training reports every batch). */
const PROGRESS_INTERVAL_MS = 1000;
/** After the drain, stopped stages get this long to be handed back (and connections to close) before the worker quits anyway. */
const CLOSE_GRACE_MS = 10_000;

export class StageWorker {
  readonly #active = new Map<string, AbortController>();
  /** Inputs being pulled, shared by this worker's concurrent jobs (one copy per result). */
  readonly #pulls = new Map<string, Promise<number>>();
  readonly #local: LocalResultStore;
  readonly #projectModule: string;
  readonly #execution: Readonly<Record<string, string>>;
  /**
   * The code this process loaded, fingerprinted when it started: a light stage runs in this
   * process only while its files still match it (a checkout updated under a running worker would
   * otherwise run old code under the new code's key).
   */
  readonly #loadedCode: CodeFingerprinter;
  #worker!: Worker<StageJob, QueueResult>;
  #stopping: Promise<"stopped" | "gave up"> | undefined;
  #handingBack = false;
  #lastError = "";

  private constructor(
    private readonly options: WorkerOptions,
    readonly name: string,
  ) {
    this.#local = new LocalResultStore(join(options.workDir, "artifacts"));
    this.#projectModule = projectRelative(options.project.root, options.project.module);
    this.#execution = resolveExecution(options.project.execution?.options ?? [], options.execution, { cores: availableParallelism(), jobs: options.concurrency });
    this.#loadedCode = new CodeFingerprinter(options.project.root, { cacheDir: join(options.workDir, "artifacts", ".code-cache") });
    for (const declaration of options.project.declarations) this.#loadedCode.fingerprint(toPath(declaration.module));
  }

  static async start(options: WorkerOptions): Promise<StageWorker> {
    if (!options.remote.writable) {
      throw new PipelineError("invalid-cli", `a worker pushes its results, but the remote ${options.remote.url} is read-only here: give it write access`);
    }
    const self = new StageWorker(options, options.name ?? `${hostname()}:${process.pid}`);
    for (const abandoned of await self.#local.abandonedWorkspaces()) await rm(abandoned, { recursive: true, force: true });
    const lockMs = options.stallTimeoutSeconds * 1000;
    self.#worker = new Worker<StageJob, QueueResult>(QUEUE_NAME, (job, token, signal) => self.#process(job, token, signal), {
      connection: options.address.connection,
      name: self.name,
      concurrency: options.concurrency,
      lockDuration: lockMs,
      stalledInterval: lockMs,
      // A job whose worker died twice goes on a third; a third death fails it (a stage that kills its machine).
      maxStalledCount: 2,
      autorun: false,
    });
    self.#worker.on("error", (error) => {
      if (error.message === self.#lastError) return; // a dead Redis repeats itself on every reconnection attempt
      self.#lastError = error.message;
      options.log(`worker ${self.name}: Redis at ${options.address.url}: ${error.message}`);
    });
    self.#worker.on("completed", () => (self.#lastError = "")); // Redis answers again: report its next error
    try {
      await withTimeout(self.#worker.waitUntilReady(), 5000, "no answer");
    } catch (error) {
      await self.#worker.close(true);
      throw new PipelineError("invalid-cli", `cannot reach Redis at ${options.address.url} (${self.#lastError || (error as Error).message}): start it (redis-server; see the README) or fix --queue`);
    }
    void self.#worker.run();
    options.log(
      `worker ${self.name}: waiting for stages on ${options.address.url} (concurrency ${options.concurrency}); results go to ${options.remote.url}`,
    );
    return self;
  }

  /**
   * SIGTERM/SIGINT: the first drains, a second hands running stages back at once. Resolves "stopped",
   * or "gave up" when closing did not finish in time (Redis gone: BullMQ waits for it to close its
   * connections); the caller then exits anyway, and a job still held returns to the queue through
   * BullMQ's stalled-job check.
   */
  stop(): Promise<"stopped" | "gave up"> {
    if (this.#stopping) {
      this.#handBack("a second signal");
      return this.#stopping;
    }
    const running = this.#active.size;
    this.options.log(
      running === 0
        ? `worker ${this.name}: stopping`
        : `worker ${this.name}: stopping: no new jobs; ${running} running stage${running === 1 ? "" : "s"} get ${this.options.drainTimeoutSeconds}s to finish, then go back to the queue (signal again to hand them back now)`,
    );
    const drain = setTimeout(() => this.#handBack(`the ${this.options.drainTimeoutSeconds}s drain timeout`), this.options.drainTimeoutSeconds * 1000);
    let giveUp: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<"gave up">((resolve) => {
      giveUp = setTimeout(() => resolve("gave up"), (running > 0 ? this.options.drainTimeoutSeconds * 1000 : 0) + CLOSE_GRACE_MS);
    });
    const closed = this.#worker.close().then(() => "stopped" as const);
    this.#stopping = Promise.race([closed, gaveUp]).then((outcome) => {
      clearTimeout(drain);
      clearTimeout(giveUp);
      this.options.log(
        outcome === "stopped"
          ? `worker ${this.name}: stopped`
          : `worker ${this.name}: Redis at ${this.options.address.url} did not let the worker close cleanly (${this.#lastError || "no answer"}); stopping anyway`,
      );
      return outcome;
    });
    return this.#stopping;
  }

  #handBack(why: string): void {
    if (this.#handingBack || this.#active.size === 0) return;
    this.#handingBack = true;
    this.options.log(`worker ${this.name}: ${why}: stopping ${this.#active.size} stage(s) and handing them back to the queue`);
    for (const controller of this.#active.values()) controller.abort();
  }

  async #process(job: Job<StageJob, QueueResult>, token: string | undefined, cancelled: AbortSignal | undefined): Promise<QueueResult> {
    const data = job.data;
    const label = `${data.stage} (${String(data.fingerprint).slice(0, 10)})`;
    const controller = new AbortController();
    cancelled?.addEventListener("abort", () => controller.abort(), { once: true });
    this.#active.set(job.id!, controller);
    const report = throttledProgress(job, this.name);
    try {
      const result = await this.#runJob(data, controller.signal, report.update);
      this.options.log(
        result.reused
          ? `worker ${this.name}: ${label}: already in the remote; nothing to run`
          : `worker ${this.name}: ${label}: done in ${result.record.durationSeconds.toFixed(1)}s (inputs pulled in ${result.pullSeconds.toFixed(2)}s, pushed in ${result.pushSeconds.toFixed(2)}s)`,
      );
      return result;
    } catch (error) {
      const failure = failureOf(error);
      if (this.#handingBack && failure.reason === "aborted" && token !== undefined) {
        await job.moveToWait(token);
        this.options.log(`worker ${this.name}: ${label}: handed back to the queue`);
        throw new WaitingError();
      }
      const retry = isRetryable(failure);
      this.options.log(`worker ${this.name}: ${label}: ${failure.reason === "code-mismatch" ? "refused" : "failed"}: ${describeFailure(failure)}${retry ? " (will be retried)" : ""}`);
      throw retry ? new Error(encodeFailure(failure)) : new UnrecoverableError(encodeFailure(failure));
    } finally {
      report.stop();
      this.#active.delete(job.id!);
    }
  }

  async #runJob(job: StageJob, signal: AbortSignal, onProgress: (progress: StageProgress) => void): Promise<QueueResult> {
    if (job?.schema !== 1) throw new StageFailureError({ reason: "code-mismatch", files: [`a job of schema ${JSON.stringify(job?.schema)}; this worker reads schema 1`] });
    const { remote } = this.options;
    // A fresh view of the remote per job: a long-lived worker must not remember an earlier miss.
    const store = new RemoteBackedStore(this.#local, remote, { push: false, warn: (message) => this.options.log(`worker ${this.name}: ${message}`) });
    const ref = (outputHash: string): ResultRef => ({ stage: job.stage, fingerprint: job.fingerprint, outputHash });
    const already = await store.remoteRecord(job.stage, job.fingerprint);
    if (already) return { schema: 1, ref: ref(already.manifest.outputHash), record: already.run, worker: this.name, reused: true, pullSeconds: 0, pushSeconds: 0 };

    if (job.projectModule !== this.#projectModule) {
      throw new StageFailureError({ reason: "code-mismatch", files: [`${job.projectModule} (this worker serves ${this.#projectModule})`] });
    }
    const stage = this.options.project.declarations.flatMap((declaration) => declaration.expand(job.params as never)).find((candidate) => candidate.name === job.stage);
    if (!stage) {
      throw new StageFailureError({ reason: "code-mismatch", files: [`${job.projectModule} declares no stage ${job.stage} here (restart the worker after updating its checkout)`] });
    }
    // A fresh fingerprinter per job: it reads each file once per instance, and the checkout may have changed.
    const fingerprinter = new CodeFingerprinter(this.options.project.root, { cacheDir: join(this.options.workDir, "artifacts", ".code-cache") });
    const differing = codeDifferences(job, fingerprinter, stage.module);
    if (differing.length > 0) throw new StageFailureError({ reason: "code-mismatch", files: differing });

    onProgress({ text: "pulling inputs" });
    const pullStarted = performance.now();
    await Promise.all(Object.values(job.inputs).map((input) => this.#pull(store, input)));
    const pullSeconds = (performance.now() - pullStarted) / 1000;
    if (signal.aborted) throw new StageFailureError({ reason: "aborted" });

    // As locally: a stage declared light runs in this process (a child process would cost more
    // than the stage, ~3 s of start-up for a chart) if this process loaded the code the job was
    // keyed with; the rest in a child process, so this event loop keeps renewing the job's lock
    // whatever the stage does.
    const inProcess = stage.isolation === "inline" && codeDifferences(job, this.#loadedCode, stage.module).length === 0;
    const runner = inProcess ? new InlineRunner(() => stage, this.name) : new ProcessRunner(this.options.project.root, this.name);
    const result = await runner.run(
      { ...job, execution: this.#executionFor(job) },
      // #pull rehashed each input held here, or hashed it as it streamed from the remote.
      { store, signal, onProgress, concurrentStages: this.#active.size, loadAverage: loadavg()[0] ?? 0, codeRoot: this.options.project.root, inputsVerified: true },
    );
    const pushStarted = performance.now();
    try {
      await pushResult(this.#local, remote, job.stage, job.fingerprint, { warn: (message) => this.options.log(`worker ${this.name}: ${message}`) });
    } catch (error) {
      throw new StageFailureError({ reason: "lost-worker", detail: `the worker could not push the result to ${remote.url}: ${(error as Error).message}` });
    }
    const pushSeconds = (performance.now() - pushStarted) / 1000;
    return { schema: 1, ref: ref(result.manifest.outputHash), record: result.record, worker: this.name, reused: false, pullSeconds, pushSeconds };
  }

  /**
   * An input held here is rehashed in full (a local copy may have been damaged since); one that is
   * not, or fails, is pulled from the remote and hashed as it streams. Its hash must be the job's.
   */
  #pull(store: RemoteBackedStore, input: ResultRef): Promise<number> {
    const key = `${input.stage}\n${input.fingerprint}`;
    let pending = this.#pulls.get(key);
    if (!pending) {
      pending = (async () => {
        const held = await this.#local.verify(input.stage, input.fingerprint, { deep: true, refresh: true });
        if (held.ok && held.manifest.outputHash === input.outputHash) return 0;
        if (held.ok || held.reason !== "absent") await this.#local.delete(input.stage, input.fingerprint);
        try {
          await store.materialize(input.stage, input.fingerprint);
        } catch (error) {
          throw new StageFailureError({ reason: "input-corrupted", stage: input.stage, detail: `not available intact from ${this.options.remote.url}: ${(error as Error).message}` });
        }
        return 1;
      })().finally(() => this.#pulls.delete(key));
      this.#pulls.set(key, pending);
    }
    return pending;
  }

  /**
   * Options that change results ("key") are the job's: its key was computed with them. Options that
   * do not ("recorded", e.g. threads) are resolved for this machine and this worker's concurrency.
   */
  #executionFor(job: StageJob): Record<string, string> {
    const declared = this.options.project.execution?.options ?? [];
    return Object.fromEntries(
      Object.entries(job.execution).map(([name, value]) => {
        const option = declared.find((candidate) => candidate.name === name);
        return [name, option?.policy === "recorded" ? (this.#execution[name] ?? value) : value];
      }),
    );
  }
}

/** Sends a job's progress to Redis at most every PROGRESS_INTERVAL_MS (the latest one wins). */
function throttledProgress(job: Job, worker: string): { update(progress: StageProgress): void; stop(): void } {
  let latest: StageProgress | undefined;
  let timer: NodeJS.Timeout | undefined;
  let lastSent = 0;
  const send = (): void => {
    timer = undefined;
    if (!latest) return;
    const progress: QueueProgress = { worker, text: latest.text, ...(latest.fraction === undefined ? {} : { fraction: latest.fraction }) };
    latest = undefined;
    lastSent = Date.now();
    void job.updateProgress(progress as unknown as object).catch(() => {}); // progress is best effort
  };
  return {
    update(progress) {
      latest = progress;
      if (timer) return;
      const wait = Math.max(0, lastSent + PROGRESS_INTERVAL_MS - Date.now());
      timer = setTimeout(send, wait);
      timer.unref();
    },
    stop() {
      clearTimeout(timer);
    },
  };
}
