import { pathToFileURL } from "node:url";
import type { ChildMessage, ParentMessage } from "./child-process-runner.ts";
import { readDeclaredParam } from "./fingerprint.ts";
import type { ProjectDefinition } from "./stage.ts";

/** Entry point of a stage's child process: see child-process-runner.ts. */

const send = (message: ChildMessage): void => {
  process.send?.(message);
};

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
    send({ type: "done" });
  } catch (error) {
    send({ type: "error", message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  }
  process.disconnect?.();
});
