import type { ListrRenderer } from "listr2";
import { ICONS } from "./run-marks.ts";
import { RunView, type RunViewRendererOptions, type StageView } from "./run-view.ts";

/**
 * A run's display without a terminal (CI logs, a pipe), as a listr2 renderer: a line when a stage
 * starts running (↻ when it was reported cached and is rebuilt because a stage about to read it
 * found it corrupt), its progress as the reporter thins it, and a line when it settles — cached
 * ones too, with their short key. Nothing is redrawn; listr2's simple renderer also printed a
 * "started" line for every stage, cached ones included.
 */
export class LogRenderer implements ListrRenderer {
  static nonTTY = true;
  static rendererOptions: RunViewRendererOptions = {};
  static rendererTaskOptions: Record<string, never> = {};

  readonly #view: RunView;
  readonly #stream: NodeJS.WriteStream;
  /** What was last printed of each stage. */
  readonly #shown = new Map<string, StageView["kind"]>();
  #unsubscribe: (() => void) | undefined;

  constructor(_tasks: unknown, options: RunViewRendererOptions) {
    this.#view = options.view ?? new RunView();
    this.#stream = options.stream ?? process.stderr;
  }

  render(): void {
    this.#unsubscribe = this.#view.onChange((stage) => {
      if (stage !== null) this.#print(stage);
    });
  }

  end(): void {
    this.#unsubscribe?.();
  }

  #print(stage: string): void {
    const view = this.#view.stages.get(stage);
    if (!view || view.kind === "queued") return;
    const before = this.#shown.get(stage);
    this.#shown.set(stage, view.kind);
    const line =
      view.kind !== "running"
        ? `${ICONS[view.kind]} ${view.line}`
        : before === "running"
          ? `  ${stage}: ${view.detail}`
          : `${before === "cached" ? "↻" : "›"} ${stage} ${view.detail}`;
    this.#stream.write(`${line}\n`);
  }
}
