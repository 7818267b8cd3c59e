/**
 * Values → colours for the embedded pictures, taken from Vega's own colour schemes so a picture
 * and the Vega-Lite legend drawn beside it (tile-chart.ts) use exactly the same colours.
 */
import * as vega from "vega";
import { pngDataUrl } from "./png.ts";

/** Vega scheme names used: sequential for probabilities / activations, diverging for signed weights. */
export type SchemeName = "viridis" | "redblue" | "greys";

const luts = new Map<SchemeName, Uint8Array>();

function lut(name: SchemeName): Uint8Array {
  const cached = luts.get(name);
  if (cached) return cached;
  const interpolate = (vega as unknown as { scheme(name: string): ((t: number) => string) | undefined }).scheme(name);
  if (!interpolate) throw new Error(`vega has no colour scheme "${name}"`);
  const table = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const match = /rgb\((\d+),\s*(\d+),\s*(\d+)\)/.exec(interpolate(i / 255));
    if (!match) throw new Error(`unexpected colour from vega scheme ${name}: ${interpolate(i / 255)}`);
    table.set([Number(match[1]), Number(match[2]), Number(match[3])], i * 3);
  }
  luts.set(name, table);
  return table;
}

/** Grey picture: `low` maps to black, `high` to white (values outside are clipped). */
export function greyImage(values: ArrayLike<number>, width: number, height: number, low = 0, high = 1): string {
  const samples = new Uint8Array(width * height);
  const span = high > low ? high - low : 1;
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round(255 * Math.min(1, Math.max(0, ((values[i] ?? low) - low) / span)));
  return pngDataUrl(width, height, 1, samples);
}

/**
 * Colour picture through a Vega scheme: `low` maps to the scheme's start, `high` to its end. Each
 * value becomes a `blockSize`² block of identical pixels: data cells (a 3x3 kernel, a heatmap)
 * must stay square when the chart scales them up, and renderers do not all honour SVG's
 * `image-rendering` (resvg smooths regardless), so the PNG itself carries the blocks.
 */
export function schemeImage(
  values: ArrayLike<number>,
  width: number,
  height: number,
  scheme: SchemeName,
  low: number,
  high: number,
  blockSize = 1,
  /** The colour of a NaN cell (no value there: e.g. the margin around an occlusion map); default the scheme's start. */
  missing?: readonly [number, number, number],
): string {
  const table = lut(scheme);
  const outWidth = width * blockSize;
  const samples = new Uint8Array(outWidth * height * blockSize * 3);
  const span = high > low ? high - low : 1;
  for (let y = 0; y < height * blockSize; y++) {
    for (let x = 0; x < outWidth; x++) {
      const value = values[Math.floor(y / blockSize) * width + Math.floor(x / blockSize)] ?? low;
      if (Number.isNaN(value) && missing) {
        samples.set(missing, (y * outWidth + x) * 3);
        continue;
      }
      const index = Math.round(255 * Math.min(1, Math.max(0, (value - low) / span)));
      samples.set(table.subarray(index * 3, index * 3 + 3), (y * outWidth + x) * 3);
    }
  }
  return pngDataUrl(outWidth, height * blockSize, 3, samples);
}
