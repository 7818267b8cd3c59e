import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Session } from "./session.ts";
import type { Stage, StageContext, StageProgress } from "./stage.ts";

/**
 * Runs a stage's `run` in a child process. TensorFlow.js's wasm backend is single-threaded and blocks
 * its event loop, so two training stages only overlap on two cores when each has a process. The child
 * re-expands the project's stages from the same resolved params and runs the one named.
 */

export type ParentMessage = {
  type: "run";
  projectModule: string;
  params: unknown;
  stage: string;
  outDir: string;
  inputs: Record<string, string>;
  declaredParams: Record<string, unknown>;
};

export type ChildMessage =
  | { type: "progress"; progress: StageProgress }
  | { type: "environment"; facts: Record<string, string> }
  | { type: "done" }
  | { type: "error"; message: string };

const CHILD_ENTRY = fileURLToPath(new URL("./stage-child.ts", import.meta.url));
const KILL_GRACE_MS = 3000;
/** Resolved from here, not from the working directory, so a run started anywhere finds tsx. */
const TSX_LOADER = import.meta.resolve("tsx");

export function runInChildProcess<Params>(session: Session<Params>, stage: Stage, context: StageContext): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD_ENTRY, [], {
      execArgv: ["--import", TSX_LOADER],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      serialization: "advanced",
    });
    let stderrTail = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderrTail = (stderrTail + chunk.toString()).slice(-4000)));
    child.stdout?.on("data", () => {}); // stage output belongs in its files; keep the pipe drained
    let settled = false;
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      context.signal.removeEventListener("abort", onAbort);
      if (error) reject(error);
      else resolve();
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        // A child that ignores SIGTERM must not keep the whole run waiting for it.
        setTimeout(() => child.kill("SIGKILL"), KILL_GRACE_MS).unref();
      }
    };
    const onAbort = (): void => {
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), KILL_GRACE_MS).unref();
      finish(new Error("interrupted"));
    };
    context.signal.addEventListener("abort", onAbort);
    child.on("message", (message: ChildMessage) => {
      if (message.type === "progress") context.progress(message.progress);
      else if (message.type === "environment") context.recordEnvironment(message.facts);
      else if (message.type === "done") finish();
      else finish(new Error(message.message));
    });
    child.on("error", (error) => finish(error));
    child.on("exit", (code, signal) => {
      const detail = stderrTail.trim().split("\n").slice(-8).join("\n");
      finish(new Error(`the stage's process exited (${signal ?? `code ${code}`}) before finishing${detail ? `:\n${detail}` : ""}`));
    });
    const message: ParentMessage = {
      type: "run",
      projectModule: session.project.module,
      params: session.params,
      stage: stage.name,
      outDir: context.outDir,
      inputs: { ...context.inputs },
      declaredParams: { ...context.params },
    };
    child.send(message);
  });
}
