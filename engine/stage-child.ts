import { pathToFileURL } from "node:url";
import type { ChildMessage, ParentMessage } from "./child-process-runner.ts";
import { readDeclaredParam } from "./fingerprint.ts";
import type { ProjectDefinition } from "./stage.ts";

/** Entry point of a stage's child process: see child-process-runner.ts. */

const send = (message: ChildMessage): void => {
  process.send?.(message);
};

/** Resolves once the message has been handed to the IPC channel. */
const sendLast = (message: ChildMessage): Promise<void> =>
  new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });

process.once("message", async (message: ParentMessage) => {
  try {
    const module = (await import(pathToFileURL(message.projectModule).href)) as { project: ProjectDefinition<unknown> };
    const stage = module.project.declarations
      .flatMap((declaration) => declaration.expand(message.params))
      .find((candidate) => candidate.name === message.stage);
    if (!stage) throw new Error(`stage ${message.stage} is not declared in ${message.projectModule}`);
    const controller = new AbortController();
    process.once("SIGTERM", () => controller.abort());
    await stage.run({
      name: stage.name,
      outDir: message.outDir,
      inputs: message.inputs,
      params: message.declaredParams,
      param: <T>(path: string) => readDeclaredParam<T>(stage.name, message.declaredParams, path),
      progress: (update) => send({ type: "progress", progress: typeof update === "string" ? { text: update } : update }),
      recordEnvironment: (facts) => send({ type: "environment", facts }),
      signal: controller.signal,
    });
    await sendLast({ type: "done" });
  } catch (error) {
    process.exitCode = 1;
    await sendLast({ type: "error", message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  }
  process.disconnect?.();
  // Exit explicitly: a stage may leave handles that keep a process alive (worker threads of a
  // threaded backend, a library's timer), and its outputs are already written and reported.
  process.exit();
});
