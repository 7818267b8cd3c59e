import { pathToFileURL } from "node:url";
import type { ChildMessage, ParentMessage } from "./process-runner.ts";
import { projectAbsolute } from "./stage-job.ts";
import { makeStageContext } from "./stage-context.ts";
import type { RunSink } from "./stage-runner.ts";
import type { ProjectDefinition } from "./stage.ts";

/** Entry point of a stage's child process: see process-runner.ts. */

const ORPHAN_CHECK_MS = 1000;
const ORPHAN_GRACE_MS = 3000;

const send = (message: ChildMessage): void => {
  if (process.connected) process.send?.(message);
};

/** Resolves once the message has been handed to the IPC channel. */
const sendLast = (message: ChildMessage): Promise<void> =>
  new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });

const controller = new AbortController();
process.once("SIGTERM", () => controller.abort());

// A pipeline killed with `kill -9` cannot stop its stages: each notices that its parent is gone (the
// IPC channel closes; the parent pid changes as the orphan is re-parented) and stops, so no orphan
// keeps burning a core. Its workspace is never committed, and the next run removes it.
const parentPid = process.ppid;
const orphaned = (): void => {
  controller.abort();
  process.stderr.write("pipeline: the pipeline process is gone; stopping this stage\n");
  setTimeout(() => process.exit(1), ORPHAN_GRACE_MS).unref();
};
process.once("disconnect", orphaned);
setInterval(() => {
  if (process.ppid !== parentPid) orphaned();
}, ORPHAN_CHECK_MS).unref();

process.once("message", async (message: ParentMessage) => {
  try {
    const { root, job, prepared } = message;
    const module = (await import(pathToFileURL(projectAbsolute(root, job.projectModule)).href)) as { project: ProjectDefinition<unknown> };
    const project = module.project;
    // Execution options reach ML code through their environment variables (e.g. the thread count).
    for (const option of project.execution?.options ?? []) {
      const value = job.execution[option.name];
      if (option.env && value !== undefined) process.env[option.env] = value;
    }
    const stage = project.declarations.flatMap((declaration) => declaration.expand(job.params)).find((candidate) => candidate.name === job.stage);
    if (!stage) throw new Error(`stage ${job.stage} is not declared in ${job.projectModule}`);
    const sink: RunSink = {
      progress: (progress) => send({ type: "progress", progress }),
      environment: (facts) => send({ type: "environment", facts }),
      measurements: (values) => send({ type: "measurements", values }),
    };
    const log = (line: string): void => void process.stderr.write(line.endsWith("\n") ? line : line + "\n");
    await stage.run(makeStageContext(stage, job, prepared, sink, log, controller.signal));
    await sendLast({ type: "done" });
  } catch (error) {
    process.exitCode = 1;
    const failure = error instanceof Error ? { message: error.message, ...(error.stack ? { stack: error.stack } : {}) } : { message: String(error) };
    await sendLast({ type: "error", ...failure });
  }
  process.off("disconnect", orphaned);
  process.disconnect?.();
  // Exit explicitly: a stage may leave handles that keep a process alive (worker threads of a
  // threaded backend, a library's timer), and its outputs are already written and reported.
  process.exit();
});
