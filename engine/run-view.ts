/** What one stage is doing, as the display shows it. */
export type StageView =
  | { kind: "queued" }
  | { kind: "running"; detail: string }
  | { kind: "cached" | "done" | "failed" | "skipped"; line: string };

/**
 * What a run's display knows of each stage, in plan order: the reporter (reporter.ts) writes it from
 * the executor's events, and the renderers (compact-renderer.ts in a terminal, log-renderer.ts
 * without one) draw from it.
 */
export class RunView {
  readonly stages = new Map<string, StageView>();
  readonly #listeners = new Set<(stage: string | null) => void>();

  plan(names: readonly string[]): void {
    for (const name of names) this.stages.set(name, { kind: "queued" });
    this.#changed(null);
  }

  set(stage: string, view: StageView): void {
    this.stages.set(stage, view);
    this.#changed(stage);
  }

  /** `listener(stage)` after each change: the stage changed, or null for the plan. */
  onChange(listener: (stage: string | null) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(stage: string | null): void {
    for (const listener of this.#listeners) listener(stage);
  }
}

/** Options both renderers take from listr2's rendererOptions. */
export interface RunViewRendererOptions {
  view?: RunView;
  stream?: NodeJS.WriteStream;
  /** Streams whose writes are printed above the live area (default: the process's stdout and stderr). */
  capture?: NodeJS.WritableStream[];
}
