import { Listr, type ListrTaskWrapper } from "listr2";
import { CompactRenderer } from "./compact-renderer.ts";
import { LogRenderer } from "./log-renderer.ts";
import { RunView } from "./run-view.ts";
import type { RunEvent } from "./executor.ts";
import { describeFailure } from "./failure.ts";
import { describeReason } from "./why.ts";

/**
 * Presentation only: turns the executor's events into a RunView (what each stage is doing) and
 * one listr2 task per stage, settled as the stage settles. The renderers draw from the view
 * (compact-renderer.ts): in a terminal, CompactRenderer prints each stage that ran, failed or was
 * skipped once, above a live area with the running stages' progress and the counts (cached stages
 * are counted); without one (CI logs), LogRenderer prints plain lines as stages start and settle,
 * and progress is thinned to one line per stage every 15 s so logs stay readable. Everything goes
 * to `stream` (stderr by default): stdout belongs to the command's result, e.g. `check --json`.
 */
export interface Reporter {
  onEvent(event: RunEvent): void;
  finished(): Promise<void>;
}

export function createListrReporter(options: { tty: boolean; stream?: NodeJS.WriteStream }): Reporter {
  const stream = options.stream ?? process.stderr;
  const throttleMs = options.tty ? 100 : 15_000;
  const settles = new Map<string, () => void>();
  const lastProgress = new Map<string, number>();
  const view = new RunView();
  /** Stages reported cached, then rebuilt because a stage about to read them found them corrupt: why. */
  const cachedStages = new Set<string>();
  const rebuilding = new Map<string, string>();
  let listrRun: Promise<unknown> = Promise.resolve();

  const onEvent = (event: RunEvent): void => {
    switch (event.type) {
      case "plan": {
        view.plan(event.stages);
        const renderer = options.tty ? CompactRenderer : LogRenderer;
        const listr = new Listr(
          event.stages.map((name) => ({
            title: name,
            task: (_: unknown, _task: ListrTaskWrapper<unknown, typeof renderer, typeof LogRenderer>) => new Promise<void>((resolve) => settles.set(name, resolve)),
          })),
          {
            concurrent: true,
            exitOnError: false,
            registerSignalListeners: false,
            renderer,
            rendererOptions: { view, stream },
            fallbackRenderer: LogRenderer,
            fallbackRendererCondition: !options.tty,
            fallbackRendererOptions: { view, stream },
          },
        );
        listrRun = listr.run().catch(() => {});
        return;
      }
      case "cached":
        cachedStages.add(event.stage);
        view.set(event.stage, { kind: "cached", line: `${event.stage} cached ${event.fingerprint.slice(0, 10)}${event.restored ? " (restored)" : ""}` });
        return settle(event.stage);
      case "skipped":
        view.set(event.stage, { kind: "skipped", line: `${event.stage} skipped: ${event.because}` });
        return settle(event.stage);
      case "start": {
        const reasons = event.reasons.map(describeReason);
        const why = reasons.slice(0, 2).join("; ") + (reasons.length > 2 ? ` (+${reasons.length - 2} more: pipeline status)` : "");
        if (cachedStages.has(event.stage)) {
          rebuilding.set(event.stage, why);
          return view.set(event.stage, { kind: "running", detail: `rebuilding: ${why}` });
        }
        return view.set(event.stage, { kind: "running", detail: `running: ${why}` });
      }
      case "progress": {
        const now = Date.now();
        if (now - (lastProgress.get(event.stage) ?? 0) < throttleMs) return;
        lastProgress.set(event.stage, now);
        return view.set(event.stage, { kind: "running", detail: event.progress.text });
      }
      case "done": {
        const rebuilt = rebuilding.get(event.stage);
        const line = rebuilt === undefined ? `${event.stage} done in ${formatSeconds(event.seconds)}` : `${event.stage} rebuilt in ${formatSeconds(event.seconds)} (${rebuilt})`;
        view.set(event.stage, { kind: "done", line });
        return settle(event.stage);
      }
      case "failed":
        view.set(event.stage, { kind: "failed", line: `${event.stage}: ${rebuilding.has(event.stage) ? "rebuilding failed: " : ""}${describeFailure(event.failure)}` });
        return settle(event.stage);
    }
  };

  /** Listr starts tasks on its own schedule; a stage may settle before its task is waiting. A rebuilt stage settles twice: once counts. */
  const settle = (stage: string): void => {
    const resolve = settles.get(stage);
    if (resolve) resolve();
    else setImmediate(() => settle(stage));
  };

  return { onEvent, finished: async () => void (await listrRun) };
}

export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${String(Math.round(seconds % 60)).padStart(2, "0")}s`;
}
