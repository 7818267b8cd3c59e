/**
 * Why a stage did not produce a result, as data: a union keyed by `reason` (as wireit's `Failure`),
 * so the CLI, a retrying scheduler and tests branch on the kind instead of parsing messages.
 */
export type StageFailure =
  /** The stage's own code threw: a bug or bad data; running it again gives the same answer. */
  | { reason: "threw"; message: string; stack?: string }
  /** Its process exited before reporting a result (a crash, out of memory, `process.exit`). */
  | { reason: "exited"; code: number; stderrTail: string }
  /** Its process was killed by a signal nobody in this run sent (OOM killer, a user's kill -9). */
  | { reason: "signalled"; signal: string; stderrTail: string }
  /** This run was interrupted (Ctrl-C, SIGTERM) while the stage ran. */
  | { reason: "aborted" }
  /** It finished but its outputs break its declaration (a declared metric missing, say). */
  | { reason: "invalid-output"; message: string }
  /** A runner's checkout computes another code fingerprint than the job expects. */
  | { reason: "code-mismatch"; files: string[] }
  /** Files of the stage's code were edited while it ran: its result would be filed under the old code's key. */
  | { reason: "code-changed"; files: string[] }
  /** An input's files do not match their recorded hashes and could not be rebuilt. */
  | { reason: "input-corrupted"; stage: string; detail: string }
  /** The machine or worker running it went away (a remote runner's connection, a stalled job). */
  | { reason: "lost-worker"; detail: string };

export type FailureReason = StageFailure["reason"];

/**
 * Worth running again elsewhere or later: the failure came from the infrastructure, not from the
 * stage. A stage that threw or wrote bad output would fail the same way again.
 */
export function isRetryable(failure: StageFailure): boolean {
  switch (failure.reason) {
    case "exited":
    case "signalled":
    case "lost-worker":
      return true;
    case "threw":
    case "aborted":
    case "invalid-output":
    case "code-mismatch":
    case "code-changed":
    case "input-corrupted":
      return false;
  }
}

/** One line (plus the stack or the process's last stderr lines when `verbose`) for people. */
export function describeFailure(failure: StageFailure, verbose = false): string {
  switch (failure.reason) {
    case "threw":
      return verbose && failure.stack ? failure.stack : failure.message;
    case "exited":
      return `its process exited with code ${failure.code} before finishing${tail(failure.stderrTail, verbose)}`;
    case "signalled":
      return `its process was killed by ${failure.signal}${tail(failure.stderrTail, verbose)}`;
    case "aborted":
      return "interrupted";
    case "invalid-output":
      return failure.message;
    case "code-mismatch":
      return `this checkout's code differs from the job's: ${failure.files.join(", ")}`;
    case "code-changed":
      return `${failure.files.join(", ")} changed while it ran, so its result was discarded (it may come from either version): run again`;
    case "input-corrupted":
      return `input ${failure.stage} is corrupted (${failure.detail}) and could not be rebuilt`;
    case "lost-worker":
      return `lost the worker running it: ${failure.detail}`;
  }
}

function tail(stderr: string, verbose: boolean): string {
  const lines = stderr.trim().split("\n").filter(Boolean);
  if (lines.length === 0) return "";
  return verbose ? `:\n${lines.slice(-20).join("\n")}` : `: ${telling(lines)} (pipeline logs STAGE for the whole output)`;
}

/** The line that says what went wrong: Node ends a crash with a stack and its version, not with the error. */
function telling(lines: readonly string[]): string {
  const meaningful = lines.filter((line) => !/^\s+at /.test(line) && !/^Node\.js v\d/.test(line) && line.trim() !== "^");
  const errors = meaningful.filter((line) => /\b\w*(Error|Exception)\b|\berror\b/i.test(line));
  return errors.at(-1) ?? meaningful.at(-1) ?? lines.at(-1)!;
}

/** A failure travelling through `throw` inside the engine, so runners can reject with data. */
export class StageFailureError extends Error {
  constructor(readonly failure: StageFailure) {
    super(describeFailure(failure));
    this.name = "StageFailureError";
  }
}

/** What a caught value means for the stage: a StageFailureError keeps its failure; anything else threw. */
export function failureOf(error: unknown): StageFailure {
  if (error instanceof StageFailureError) return error.failure;
  if (error instanceof Error) return { reason: "threw", message: error.message, ...(error.stack ? { stack: error.stack } : {}) };
  return { reason: "threw", message: String(error) };
}
