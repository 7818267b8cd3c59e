import { DefaultRenderer, Listr, ListrLogger, ProcessOutput, type ListrTaskWrapper } from "listr2";
import type { RunEvent } from "./executor.ts";
import { describeFailure } from "./failure.ts";
import { describeReason } from "./why.ts";

/**
 * Presentation only: turns the executor's events into listr2 lines — one per stage, with its live
 * progress while it runs; cached stages show as done with "cached" and their short key (listr2's
 * "skipped" is kept for stages that did not run because of another's failure). Without a TTY (CI
 * logs) listr2's simple renderer prints plain lines, and progress is thinned to one line per stage
 * every 15 s so logs stay readable. Everything goes to `stream` (stderr by default): stdout belongs
 * to the command's result, e.g. `check --json`.
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
  let listrRun: Promise<unknown> = Promise.resolve();

  const onEvent = (event: RunEvent): void => {
    switch (event.type) {
      case "plan": {
        const listr = new Listr(
          event.stages.map((name) => ({
            title: name,
            task: async (_: unknown, task: ListrTaskWrapper<unknown, any, any>) => {
              tasks.set(name, task);
              // Listr starts every task at once; mark those the engine has not started yet.
              if (options.tty) task.title = `${name} · queued`;
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
            renderer: options.tty ? ThrottledRenderer : "simple",
            fallbackRenderer: "simple",
            fallbackRendererCondition: !options.tty,
            rendererOptions: { collapseErrors: false, showErrorMessage: true, logger },
            fallbackRendererOptions: { logger },
          },
        );
        listrRun = listr.run().catch(() => {});
        return;
      }
      case "cached":
        return whenReady(event.stage, (settle) =>
          settle({ kind: "cached", message: `cached ${event.fingerprint.slice(0, 10)}${event.restored ? " (restored)" : ""}` }),
        );
      case "skipped":
        return whenReady(event.stage, (settle) => settle({ kind: "skipped", message: `skipped: ${event.because}` }));
      case "start": {
        const reasons = event.reasons.map(describeReason);
        const why = reasons.slice(0, 2).join("; ") + (reasons.length > 2 ? ` (+${reasons.length - 2} more: pipeline status)` : "");
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
        const task = tasks.get(event.stage);
        if (task) task.output = event.progress.text;
        return;
      }
      case "done":
        return whenReady(event.stage, (settle) => settle({ kind: "done", message: `done in ${formatSeconds(event.seconds)}` }));
      case "failed":
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

/**
 * listr2's default renderer redraws every line on every task change, besides its 100 ms spinner
 * tick, and a redraw measures every line with string-width: a no-op run's ~4 changes per stage
 * redrew the list ~4 × stages times (3.6 s of a 36-stage no-op in a terminal). Here nothing is drawn
 * in the first 200 ms, so a run that finishes sooner (a no-op) is drawn once, whole, at its end; after
 * that a change redraws at most every 50 ms and the spinner tick catches up the rest.
 */
class ThrottledRenderer extends DefaultRenderer {
  #nextDraw = performance.now() + 200;

  override update(): void {
    const now = performance.now();
    if (now < this.#nextDraw) return;
    this.#nextDraw = now + 50;
    super.update();
  }
}

export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${String(Math.round(seconds % 60)).padStart(2, "0")}s`;
}
