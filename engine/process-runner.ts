import { fork } from "node:child_process";
import { createWriteStream } from "node:fs";
import { fileURLToPath } from "node:url";
import { StageFailureError, type StageFailure } from "./failure.ts";
import type { Measurement } from "./run-record.ts";
import { runInWorkspace, type PreparedRun, type RunnerContext, type StageResult, type StageRunner } from "./stage-runner.ts";
import type { StageJob } from "./stage-job.ts";
import type { StageProgress } from "./stage.ts";

/**
 * Runs a stage in a child process of its own: CPU-heavy stages (TensorFlow.js on wasm blocks its
 * event loop) then use another core. The child re-expands the project's stages from the job's params
 * and runs the one named. Its whole stdout and stderr go to the stage's log.
 */

export type ParentMessage = { type: "run"; root: string; job: StageJob; prepared: PreparedRun };

export type ChildMessage =
  | { type: "progress"; progress: StageProgress }
  | { type: "environment"; facts: Record<string, string> }
  | { type: "measurements"; values: Record<string, Measurement> }
  | { type: "done" }
  | { type: "error"; message: string; stack?: string };

const CHILD_ENTRY = fileURLToPath(new URL("./stage-child.ts", import.meta.url));
const KILL_GRACE_MS = 3000;
/** Resolved from here, not from the working directory, so a run started anywhere finds tsx. */
const TSX_LOADER = import.meta.resolve("tsx");

export class ProcessRunner implements StageRunner {
  /**
   * `root`: the project root the child resolves the job's project module against. `name`: the
   * runner named in run records (a queue worker passes its own name, so records say which worker).
   */
  constructor(
    private readonly root: string,
    readonly name: string = "process",
  ) {}

  run(job: StageJob, context: RunnerContext): Promise<StageResult> {
    return runInWorkspace(this.name, job, context, (prepared, sink) => runChild(this.root, job, prepared, context.signal, sink));
  }
}

function runChild(
  root: string,
  job: StageJob,
  prepared: PreparedRun,
  signal: AbortSignal,
  sink: { progress(p: StageProgress): void; environment(f: Record<string, string>): void; measurements(v: Record<string, Measurement>): void },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD_ENTRY, [], {
      execArgv: ["--import", TSX_LOADER],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      serialization: "advanced",
    });
    const log = createWriteStream(prepared.workspace.logPath);
    let stderrTail = "";
    child.stdout?.pipe(log, { end: false });
    child.stderr?.on("data", (chunk: Buffer) => {
      log.write(chunk);
      stderrTail = (stderrTail + chunk.toString()).slice(-4000);
    });
    let outcome: { ok: true } | { ok: false; failure: StageFailure } | undefined;
    let killedByUs = false;
    const stop = (): void => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      killedByUs = true;
      child.kill("SIGTERM");
      // A child that ignores SIGTERM must not keep the whole run waiting for it.
      setTimeout(() => child.kill("SIGKILL"), KILL_GRACE_MS).unref();
    };
    const onAbort = (): void => {
      outcome ??= { ok: false, failure: { reason: "aborted" } };
      stop();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    child.on("message", (message: ChildMessage) => {
      if (message.type === "progress") sink.progress(message.progress);
      else if (message.type === "environment") sink.environment(message.facts);
      else if (message.type === "measurements") sink.measurements(message.values);
      else if (message.type === "done") {
        outcome ??= { ok: true };
        // It exits by itself once its result is sent; one that lingers (a library's handle) is stopped.
        setTimeout(stop, KILL_GRACE_MS).unref();
      } else {
        outcome ??= { ok: false, failure: { reason: "threw", message: message.message, ...(message.stack ? { stack: message.stack } : {}) } };
      }
    });
    // Settle only once the child is gone and its output is in the log, so the log is whole and the
    // workspace is never renamed under an open file.
    child.on("close", (code, exitSignal) => {
      signal.removeEventListener("abort", onAbort);
      const final =
        outcome ??
        ({
          ok: false,
          failure: exitSignal
            ? killedByUs
              ? { reason: "aborted" }
              : { reason: "signalled", signal: exitSignal, stderrTail }
            : { reason: "exited", code: code ?? -1, stderrTail },
        } as const);
      log.end(() => (final.ok ? resolve() : reject(new StageFailureError(final.failure))));
    });
    child.on("error", (error) => {
      outcome ??= { ok: false, failure: { reason: "lost-worker", detail: `could not start the stage process: ${error.message}` } };
    });
    const message: ParentMessage = { type: "run", root, job, prepared };
    child.send(message);
  });
}
