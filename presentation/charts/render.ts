/**
 * Chart files: each chart as its Vega-Lite spec (`.vl.json`, the source of truth, re-renderable in
 * any Vega viewer), an SVG rendered headless with Vega, and a PNG rasterised from that SVG by resvg
 * (a Rust renderer shipped prebuilt inside npm packages: nothing is downloaded at install time).
 * This module loads vega, vega-lite and resvg; stage files import it dynamically inside `run`.
 */
import { writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { Resvg } from "@resvg/resvg-js";
// Imported (not only resolved) so the font package's version is part of the chart stages' code fingerprint.
import fontPackage from "dejavu-fonts-ttf/package.json" with { type: "json" };
import * as vega from "vega";
import { compile, version as vegaLiteVersion, type TopLevelSpec } from "vega-lite";
import type { ChartDefinition } from "./chart-sets.ts";
import { loadFontMetrics, type FontMetrics } from "./font-metrics.ts";
import { CHART_MANIFEST, type ChartFiles, type ChartManifest, type ChartManifestEntry } from "../report/chart-manifest.ts";

const require = createRequire(import.meta.url);

/**
 * The PNG renderer gets exactly these fonts and no system fonts: the pictures then look the same on
 * every machine, and no text silently disappears on a machine without fonts.
 */
const FONT_FILES = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"].map((file) => require.resolve(`dejavu-fonts-ttf/ttf/${file}`));
export const FONT_VERSION = `DejaVu ${fontPackage.version}`;

// Vega measures text to lay charts out; with no canvas in Node it guesses 0.8 em per character,
// far wider than real text. Measuring with the very font the PNG is drawn with (Vega supports a
// user-defined `textMetrics.width`, as vl-convert does) keeps margins tight and labels placed.
const [REGULAR, BOLD] = FONT_FILES.map(loadFontMetrics) as [FontMetrics, FontMetrics];
interface TextItem {
  fontSize?: number;
  fontWeight?: string | number;
  limit?: number;
}
// Exported by vega at run time, missing from its typings.
const { textMetrics } = vega as unknown as { textMetrics: { width(item: TextItem, text: unknown): number } };
textMetrics.width = (item, text) => {
  const weight = item.fontWeight;
  const font = weight === "bold" || weight === "bolder" || (typeof weight === "number" && weight >= 600) || Number(weight) >= 600 ? BOLD : REGULAR;
  const width = font.width(String(text ?? "").trim(), item.fontSize ?? 11);
  return item.limit && item.limit > 0 ? Math.min(width, item.limit) : width;
};

/** Renders one at a time: two stages drawing at once in one process would share vega's id counters. */
let rendering: Promise<unknown> = Promise.resolve();

export function renderSvg(spec: TopLevelSpec): Promise<string> {
  const next = rendering.then(async () => {
    // Gradient and clip-path ids come from counters shared by the whole process: reset them so a
    // chart's bytes do not depend on what this process drew before (inline or in a worker's process).
    (vega as unknown as { resetSVGDefIds(): void }).resetSVGDefIds();
    const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
    try {
      return await view.toSVG();
    } finally {
      view.finalize();
    }
  });
  rendering = next.catch(() => {});
  return next;
}

/** The SVG as RGBA pixels, text drawn with the bundled fonts. `scale` 2 gives crisp text on high-density screens and in slides. */
export function rasterize(svg: string, scale = 2): { width: number; height: number; pixels: Buffer; asPng(): Buffer } {
  const resvg = new Resvg(svg, {
    fitTo: { mode: "zoom", value: scale },
    background: "white",
    font: { loadSystemFonts: false, fontFiles: FONT_FILES, defaultFontFamily: "DejaVu Sans", sansSerifFamily: "DejaVu Sans" },
  });
  return resvg.render();
}

export function svgToPng(svg: string, scale = 2): Buffer {
  return rasterize(svg, scale).asPng();
}

export async function writeCharts(outDir: string, charts: readonly ChartDefinition[], options: { png?: boolean } = {}): Promise<ChartManifest> {
  const entries: ChartManifestEntry[] = [];
  for (const chart of charts) {
    const files: ChartFiles = { spec: `${chart.name}.vl.json`, svg: `${chart.name}.svg` };
    const svg = await renderSvg(chart.spec);
    await writeFile(join(outDir, files.spec), JSON.stringify(chart.spec, null, 2) + "\n");
    await writeFile(join(outDir, files.svg), svg);
    if (options.png ?? true) {
      files.png = `${chart.name}.png`;
      await writeFile(join(outDir, files.png), svgToPng(svg));
    }
    const { spec: _spec, ...described } = chart;
    entries.push({ ...described, files });
  }
  const manifest: ChartManifest = {
    charts: entries,
    renderer: { vega: vega.version, vegaLite: vegaLiteVersion, font: FONT_VERSION },
  };
  await writeFile(join(outDir, CHART_MANIFEST), JSON.stringify(manifest, null, 2) + "\n");
  return manifest;
}
