/**
 * Draws charts with vega-embed (a classic script, global `vegaEmbed`) as they come near the screen:
 * a page with fifty charts would otherwise parse them all before the reader sees the first. One at
 * a time, in the order they are needed. Each slot records its state in `data-state` (rendering,
 * rendered, failed), which the browser tests wait on.
 */
import type { EmbedOptions, Result } from "vega-embed";
import type { ChartSpec, PageData } from "../page-data.ts";

declare global {
  interface Window {
    vegaEmbed(element: HTMLElement, spec: object, options?: EmbedOptions): Promise<Result>;
  }
}

/**
 * vega-tooltip's table of the datum, without what only Vega-Lite or the chart's layout uses: empty
 * values (a row without a published value, a band where seeds agree) and the `_start`/`_end`
 * fields a stack adds. Otherwise a bar's tooltip grew taller than the screen and was cut off.
 */
function formatTooltip(value: unknown, valueToHtml: (value: unknown) => string, maxDepth: number): string {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return valueToHtml(value);
  const datum = value as Record<string, unknown>;
  const stackField = (key: string): boolean => /_(start|end)$/.test(key) && key.replace(/_(start|end)$/, "") in datum;
  const entries = Object.entries(datum).filter(([key, shown]) => shown !== null && shown !== undefined && !key.startsWith("__") && !stackField(key));
  const cell = (shown: unknown): string => valueToHtml(typeof shown === "object" ? JSON.stringify(shown, null, 0).slice(0, 200 * maxDepth) : shown);
  const title = entries.find(([key]) => key === "title");
  const rows = entries.filter(([key]) => key !== "title").map(([key, shown]) => `<tr><td class="key">${valueToHtml(key)}</td><td class="value">${cell(shown)}</td></tr>`);
  return `${title ? `<h2>${cell(title[1])}</h2>` : ""}<table>${rows.join("")}</table>`;
}

const EMBED_OPTIONS: EmbedOptions = {
  renderer: "svg",
  // Export only: the other actions open the spec in the online Vega editor, which this page must not reach.
  actions: { export: true, source: false, compiled: false, editor: false },
  tooltip: { theme: "light", formatTooltip },
  // Vega warns about empty layers (a band where every seed agrees); a reader can do nothing about it.
  logLevel: 1,
};

export class ChartRenderer {
  readonly #data: PageData;
  readonly #views = new Map<HTMLElement, Result>();
  #queue: Promise<void> = Promise.resolve();
  readonly #observer: IntersectionObserver;

  constructor(data: PageData) {
    this.#data = data;
    this.#observer = new IntersectionObserver(
      (entries) => {
        for (const entry of entries) {
          if (!entry.isIntersecting) continue;
          const slot = entry.target as HTMLElement;
          this.#observer.unobserve(slot);
          const name = slot.dataset.chart ?? "";
          const chart = this.#data.charts[name];
          if (chart) void this.draw(slot, chart.spec, name);
          else this.#fail(slot, new Error(`no chart named "${name}" in the page's data`));
        }
      },
      { rootMargin: "600px 0px" },
    );
  }

  /** Watches every chart slot under `root`; each is drawn when it comes within 600 px of the screen. */
  observe(root: ParentNode): void {
    for (const slot of root.querySelectorAll<HTMLElement>(".chart-slot[data-chart]")) {
      if (!slot.dataset.state) this.#observer.observe(slot);
    }
  }

  /** Draws `spec` into `host` (replacing what it showed), after the charts queued before it. */
  draw(host: HTMLElement, spec: ChartSpec, name: string): Promise<void> {
    host.dataset.state = "queued";
    const job = this.#queue.then(() => this.#embed(host, spec, name));
    this.#queue = job.catch(() => undefined);
    return job;
  }

  /** Removes the chart drawn in `host`, if any. */
  clear(host: HTMLElement): void {
    this.#views.get(host)?.finalize();
    this.#views.delete(host);
    host.replaceChildren();
    delete host.dataset.state;
  }

  async #embed(host: HTMLElement, spec: ChartSpec, name: string): Promise<void> {
    host.dataset.state = "rendering";
    this.#views.get(host)?.finalize();
    const target = document.createElement("div");
    target.className = "chart-canvas";
    try {
      const result = await window.vegaEmbed(target, spec, { ...EMBED_OPTIONS, downloadFileName: name });
      host.replaceChildren(target);
      this.#views.set(host, result);
      host.dataset.state = "rendered";
    } catch (error) {
      this.#fail(host, error);
    }
  }

  #fail(host: HTMLElement, error: unknown): void {
    host.dataset.state = "failed";
    const message = document.createElement("span");
    message.className = "chart-status chart-failed";
    message.textContent = `This chart could not be drawn: ${error instanceof Error ? error.message : String(error)}`;
    host.replaceChildren(message);
    console.error(`chart ${host.dataset.chart ?? host.id}:`, error);
  }
}
