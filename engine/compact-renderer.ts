import { createLogUpdate } from "log-update";
import type { ListrRenderer } from "listr2";
import { ICONS, paint } from "./run-marks.ts";
import { RunView, type RunViewRendererOptions, type StageView } from "./run-view.ts";

// CSI sequences (cursor moves, erase, colours, cursor show/hide).
const ESCAPES = /\u001B\[[0-?]*[ -\/]*[@-~]/g;
const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"] as const;

/**
 * A run's display in a terminal, as a listr2 renderer: a stage that settles is printed once, above a
 * live area that fits the terminal — one line per running stage with its progress, then a line of
 * counts. Cached stages are counted, not listed (`pipeline status` lists them).
 *
 * Why not listr2's default renderer: it redraws one line per task, and the full grid has ~180 stages.
 * log-update keeps only the bottom `rows` lines of a frame taller than the terminal, so the running
 * trainings near the top of the list were not on screen; and measuring every line's width on each
 * redraw cost more than a no-op run's whole work (~0.17 s for 183 cached stages).
 */
export class CompactRenderer implements ListrRenderer {
  static nonTTY = false;
  static rendererOptions: RunViewRendererOptions = {};
  static rendererTaskOptions: Record<string, never> = {};

  readonly #view: RunView;
  readonly #stream: NodeJS.WriteStream;
  readonly #write: (text: string) => void;
  readonly #capture: NodeJS.WritableStream[];
  readonly #update: ReturnType<typeof createLogUpdate>;
  /** Stages already printed above the live area. */
  readonly #printed = new Set<string>();
  /** Lines written to the stream by anyone else while the live area is up (warnings), printed above it. */
  readonly #foreign: string[] = [];
  #frame = 0;
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #restoreWrites: (() => void) | undefined;
  /** Nothing is drawn before this: a run that ends sooner (a no-op) is printed once, at its end. */
  #drawFrom = performance.now() + 200;

  constructor(_tasks: unknown, options: RunViewRendererOptions) {
    this.#view = options.view ?? new RunView();
    this.#stream = options.stream ?? process.stderr;
    this.#capture = options.capture ?? [process.stdout, process.stderr];
    const stream = this.#stream;
    const write = stream.write.bind(stream) as (text: string) => boolean;
    this.#write = (text) => void write(text);
    // log-update reads the terminal's size from the stream and writes through the original write.
    const target = { write: (text: string) => write(text), get columns() { return stream.columns; }, get rows() { return stream.rows; } };
    this.#update = createLogUpdate(target as unknown as NodeJS.WriteStream);
  }

  render(): void {
    this.#restoreWrites = this.#captureForeignWrites();
    this.#unsubscribe = this.#view.onChange(() => this.#draw());
    // A tick for the spinner and for runs whose stages report no progress for a while.
    this.#timer = setInterval(() => this.#draw(true), 100);
    this.#timer.unref();
  }

  end(): void {
    clearInterval(this.#timer);
    this.#unsubscribe?.();
    this.#update.clear();
    this.#printSettled();
    const cached = [...this.#view.stages.values()].filter((view) => view.kind === "cached").length;
    if (cached > 0) this.#write(`${ICONS.done} ${cached} stage${cached === 1 ? "" : "s"} cached ${paint("dim", "(pipeline status lists them)")}\n`);
    this.#restoreWrites?.();
    this.#update.done();
  }

  #draw(tick = false): void {
    const now = performance.now();
    if (now < this.#drawFrom) return;
    // At most every 50 ms on changes; the tick catches up the rest.
    if (!tick && now < this.#drawFrom + 50) return;
    this.#drawFrom = now;
    if (tick) this.#frame = (this.#frame + 1) % SPINNER.length;
    if (this.#foreign.length > 0 || this.#hasUnprinted()) {
      this.#update.clear();
      this.#printSettled();
    }
    this.#update(this.#liveArea().join("\n"));
  }

  #hasUnprinted(): boolean {
    for (const [name, view] of this.#view.stages) if (printable(view) && !this.#printed.has(name)) return true;
    return false;
  }

  /** Settled stages not printed yet, and what others wrote meanwhile, in that order. */
  #printSettled(): void {
    const lines = this.#foreign.splice(0);
    for (const [name, view] of this.#view.stages) {
      if (!printable(view) || this.#printed.has(name)) continue;
      this.#printed.add(name);
      lines.push(`${ICONS[view.kind]} ${view.line}`);
    }
    if (lines.length > 0) this.#write(lines.map((line) => (line.endsWith("\n") ? line : `${line}\n`)).join(""));
  }

  #liveArea(): string[] {
    // A pseudo-terminal nobody sized reports 0 columns and rows.
    const columns = Math.max(20, this.#stream.columns || 80);
    const rows = Math.max(4, this.#stream.rows || 24);
    const counts = { running: 0, queued: 0, cached: 0, done: 0, failed: 0, skipped: 0 };
    const running: string[] = [];
    for (const [name, view] of this.#view.stages) {
      counts[view.kind]++;
      if (view.kind === "running") running.push(`${paint("cyan", SPINNER[this.#frame]!)} ${clip(`${name}  ${view.detail}`, columns - 2)}`);
    }
    const shown = running.slice(0, rows - 3);
    if (running.length > shown.length) shown.push(`  … and ${running.length - shown.length} more running`);
    const total = this.#view.stages.size;
    const settled = total - counts.running - counts.queued;
    const parts = [`${settled} of ${total} stages`, `${counts.running} running`, `${counts.queued} queued`, `${counts.done} ran`, `${counts.cached} cached`];
    if (counts.failed > 0) parts.push(`${counts.failed} failed`);
    if (counts.skipped > 0) parts.push(`${counts.skipped} skipped`);
    return [...shown, paint("dim", clip(parts.join(" · "), columns))];
  }

  /** Writes others make to stdout or stderr while the live area is up would land inside it: print them above. */
  #captureForeignWrites(): () => void {
    const streams = this.#capture;
    const originals = streams.map((stream) => stream.write);
    for (const stream of streams) {
      const original = stream.write.bind(stream);
      stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
        const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
        // Escapes alone (log-update's cursor hide and show) go straight through.
        if (text.replace(ESCAPES, "") === "") return original(chunk, ...(rest as []));
        this.#foreign.push(text);
        const callback = rest.find((argument) => typeof argument === "function") as (() => void) | undefined;
        callback?.();
        return true;
      }) as typeof stream.write;
    }
    return () => streams.forEach((stream, i) => (stream.write = originals[i]!));
  }
}

/** Settled stages the terminal view prints one line for: all but cached ones, which it counts. */
function printable(view: StageView): view is Extract<StageView, { line: string }> {
  return view.kind === "done" || view.kind === "failed" || view.kind === "skipped";
}

/** Cut plain text to the terminal's width, counting code points: stage names and progress are narrow text. */
function clip(text: string, columns: number): string {
  const points = [...text];
  return points.length <= columns ? text : `${points.slice(0, Math.max(0, columns - 1)).join("")}…`;
}
