import { Listr, ListrLogger, ProcessOutput, type ListrTaskWrapper } from "listr2";
import { CompactRenderer, RunView } from "./compact-renderer.ts";
import type { RunEvent } from "./executor.ts";
import { describeFailure } from "./failure.ts";
import { describeReason } from "./why.ts";

/**
 * Presentation only: turns the executor's events into listr2 tasks, one per stage. In a terminal,
 * CompactRenderer (compact-renderer.ts) prints each stage that ran, failed or was skipped once, above
 * a live area with the running stages' progress and the counts; cached stages are counted. Without a
 * TTY (CI logs) listr2's simple renderer prints a plain line per stage — cached ones as done with
 * "cached" and their short key (listr2's "skipped" is kept for stages that did not run because of
 * another's failure) — and progress is thinned to one line per stage every 15 s so logs stay
 * readable. Everything goes to `stream` (stderr by default): stdout belongs to the command's
 * result, e.g. `check --json`.
 */
export interface Reporter {
  onEvent(event: RunEvent): void;
  finished(): Promise<void>;
}

type Settle = { kind: "cached" | "skipped"; message: string } | { kind: "done"; message: string } | { kind: "failed"; message: string };

export function createListrReporter(options: { tty: boolean; stream?: NodeJS.WriteStream }): Reporter {
  const stream = options.stream ?? process.stderr;
  const logger = new ListrLogger({ useIcons: true, processOutput: new ProcessOutput(stream, stream) });
  const throttleMs = options.tty ? 100 : 15_000;
  const settles = new Map<string, (settle: Settle) => void>();
  const tasks = new Map<string, ListrTaskWrapper<unknown, any, any>>();
  const lastProgress = new Map<string, number>();
  const view = new RunView();
  /** Stages reported cached, then rebuilt because a stage about to read them found them corrupt: why. */
  const cachedStages = new Set<string>();
  const rebuilding = new Map<string, string>();
  /** After its listr task settled as cached, a rebuilt input is told in plain lines (the terminal view redraws it). */
  const line = (text: string): void => void (options.tty || stream.write(`${text}\n`));
  let listrRun: Promise<unknown> = Promise.resolve();

  const onEvent = (event: RunEvent): void => {
    switch (event.type) {
      case "plan": {
        view.plan(event.stages);
        const listr = new Listr(
          event.stages.map((name) => ({
            title: name,
            task: async (_: unknown, task: ListrTaskWrapper<unknown, any, any>) => {
              tasks.set(name, task);
              const settle = await new Promise<Settle>((resolve) => settles.set(name, resolve));
              if (settle.kind === "skipped") task.skip(`${name} ${settle.message}`);
              else if (settle.kind === "failed") throw new Error(`${name}: ${settle.message}`);
              else task.title = `${name} ${settle.message}`;
            },
          })),
          {
            concurrent: true,
            exitOnError: false,
            registerSignalListeners: false,
            renderer: options.tty ? CompactRenderer : "simple",
            fallbackRenderer: "simple",
            fallbackRendererCondition: !options.tty,
            rendererOptions: { view, stream },
            fallbackRendererOptions: { logger },
          },
        );
        listrRun = listr.run().catch(() => {});
        return;
      }
      case "cached":
        cachedStages.add(event.stage);
        view.set(event.stage, { kind: "cached" });
        return whenReady(event.stage, (settle) =>
          settle({ kind: "cached", message: `cached ${event.fingerprint.slice(0, 10)}${event.restored ? " (restored)" : ""}` }),
        );
      case "skipped":
        view.set(event.stage, { kind: "skipped", line: `${event.stage} skipped: ${event.because}` });
        return whenReady(event.stage, (settle) => settle({ kind: "skipped", message: `skipped: ${event.because}` }));
      case "start": {
        const reasons = event.reasons.map(describeReason);
        const why = reasons.slice(0, 2).join("; ") + (reasons.length > 2 ? ` (+${reasons.length - 2} more: pipeline status)` : "");
        view.set(event.stage, { kind: "running", detail: `running: ${why}` });
        if (cachedStages.has(event.stage)) {
          rebuilding.set(event.stage, why);
          line(`↻ ${event.stage} rebuilding: ${why}`);
          return;
        }
        return whenReady(event.stage, () => {
          const task = tasks.get(event.stage);
          if (task) {
            task.title = event.stage;
            task.output = `running: ${why}`;
          }
        });
      }
      case "progress": {
        const now = Date.now();
        if (now - (lastProgress.get(event.stage) ?? 0) < throttleMs) return;
        lastProgress.set(event.stage, now);
        view.set(event.stage, { kind: "running", detail: event.progress.text });
        const task = tasks.get(event.stage);
        if (task) task.output = event.progress.text;
        return;
      }
      case "done": {
        const rebuilt = rebuilding.get(event.stage);
        if (rebuilt !== undefined) {
          view.set(event.stage, { kind: "done", line: `${event.stage} rebuilt in ${formatSeconds(event.seconds)} (${rebuilt})` });
          line(`✔ ${event.stage} rebuilt in ${formatSeconds(event.seconds)}`);
          return;
        }
        view.set(event.stage, { kind: "done", line: `${event.stage} done in ${formatSeconds(event.seconds)}` });
        return whenReady(event.stage, (settle) => settle({ kind: "done", message: `done in ${formatSeconds(event.seconds)}` }));
      }
      case "failed":
        if (rebuilding.has(event.stage)) line(`✖ ${event.stage}: rebuilding failed: ${describeFailure(event.failure)}`);
        view.set(event.stage, { kind: "failed", line: `${event.stage}: ${describeFailure(event.failure)}` });
        return whenReady(event.stage, (settle) => settle({ kind: "failed", message: describeFailure(event.failure) }));
    }
  };

  /** Listr starts tasks on its own schedule; an event may arrive before its task is waiting. */
  const whenReady = (stage: string, action: (settle: (settle: Settle) => void) => void): void => {
    const settle = settles.get(stage);
    if (settle) action(settle);
    else setImmediate(() => whenReady(stage, action));
  };

  return { onEvent, finished: async () => void (await listrRun) };
}

export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${String(Math.round(seconds % 60)).padStart(2, "0")}s`;
}
