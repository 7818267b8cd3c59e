/**
 * Errors a user can act on. Each carries a `reason` (a string-literal union, not an enum) so the CLI
 * and tests can tell them apart, and a message that says what is wrong, where, and what to do.
 */

export type PipelineErrorReason =
  | "invalid-params"
  | "invalid-override"
  | "invalid-cli"
  | "unknown-stage"
  | "no-log"
  | "duplicate-stage"
  | "unknown-execution-option"
  | "invalid-baseline"
  | "dependency-cycle"
  | "undeclared-param"
  | "project-locked"
  | "corrupt-lock-file"
  | "stage-output-invalid"
  | "invalid-sweep";

export class PipelineError extends Error {
  constructor(
    readonly reason: PipelineErrorReason,
    message: string,
  ) {
    super(message);
    this.name = "PipelineError";
  }
}

/** Exit codes: 1 = a stage failed; 2 = the input (CLI, params, baseline, project) is wrong; 3 = project busy. */
export function exitCodeFor(error: unknown): number {
  if (!(error instanceof PipelineError)) return 1;
  return error.reason === "project-locked" ? 3 : 2;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
