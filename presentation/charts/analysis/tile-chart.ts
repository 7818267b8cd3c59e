/**
 * Picture charts (digits, filters, feature maps, heatmaps) as Vega-Lite specs: small embedded PNG
 * tiles placed at pixel positions (x / y with `scale: null`), captions as text marks, optional
 * coloured frames (e.g. a wrong prediction), and a colour legend drawn by Vega-Lite from the same
 * scheme the tiles were coloured with. One spec stays editable and re-renderable in any Vega viewer.
 */
import type { TopLevelSpec } from "vega-lite";
import { CHART_CONFIG, VEGA_LITE_SCHEMA } from "../chart-style.ts";
import type { SchemeName } from "./colormap.ts";

export interface Tile {
  x: number;
  y: number;
  width: number;
  height: number;
  /** data:image/png URL (colormap.ts). */
  image: string;
  /** Frame colour, e.g. red for a mistake. */
  frame?: string;
  /** Interpolate when scaling up (photos of digits); false keeps data pixels square (kernels, heatmaps). */
  smooth?: boolean;
}

export interface Label {
  x: number;
  y: number;
  text: string;
  color?: string;
  align?: "left" | "center" | "right";
  bold?: boolean;
  size?: number;
}

export interface TileChart {
  title: string;
  subtitle?: string | string[];
  width: number;
  height: number;
  tiles: Tile[];
  labels?: Label[];
  legend?: { title: string; scheme: SchemeName; domain: [number, number] };
}

export const MISTAKE_COLOR = "#d62728";
export const CORRECT_COLOR = "#333333";

const pixels = (field: string) => ({ field, type: "quantitative" as const, scale: null, axis: null });

export function tileChartSpec(chart: TileChart): TopLevelSpec {
  // Vega-Lite's image size and smoothing are mark properties, not encodings: one layer per kind of tile.
  const imageLayers = [...groupBy(chart.tiles, (tile) => JSON.stringify([tile.width, tile.height, tile.smooth ?? false]))].map(([kind, tiles]) => {
    const [width, height, smooth] = JSON.parse(kind) as [number, number, boolean];
    return {
      data: { values: tiles.map(({ x, y, image }) => ({ x, y, image })) },
      mark: { type: "image" as const, width, height, aspect: false, smooth, align: "left" as const, baseline: "top" as const },
      encoding: { x: pixels("x"), y: pixels("y"), url: { field: "image", type: "nominal" as const } },
    };
  });
  // Per-item colour, alignment and weight as mark properties, one layer per style: an encoding
  // with `scale: null` would share the colour channel with the legend layer, which Vega-Lite
  // cannot merge (and align / fontWeight are not encoding channels at all).
  const framesByColor = groupBy(chart.tiles.filter((tile) => tile.frame !== undefined), (tile) => tile.frame!);
  const frameLayers = [...framesByColor].map(([color, tiles]) => ({
    data: { values: tiles.map((tile) => ({ x: tile.x - 1.5, y: tile.y - 1.5, x2: tile.x + tile.width + 1.5, y2: tile.y + tile.height + 1.5 })) },
    mark: { type: "rect" as const, fillOpacity: 0, stroke: color, strokeWidth: 2.5 },
    encoding: { x: pixels("x"), y: pixels("y"), x2: { field: "x2" }, y2: { field: "y2" } },
  }));
  const labelsByStyle = groupBy(chart.labels ?? [], (label) => JSON.stringify([label.color ?? CORRECT_COLOR, label.align ?? "center", label.bold ?? false, label.size ?? 11]));
  const labelLayers = [...labelsByStyle].map(([style, labels]) => {
    const [color, align, bold, size] = JSON.parse(style) as [string, "left" | "center" | "right", boolean, number];
    return {
      data: { values: labels.map(({ x, y, text }) => ({ x, y, text })) },
      mark: { type: "text" as const, baseline: "top" as const, color, align, fontWeight: bold ? ("bold" as const) : ("normal" as const), fontSize: size },
      encoding: { x: pixels("x"), y: pixels("y"), text: { field: "text", type: "nominal" as const } },
    };
  });
  // An invisible mark carrying the colour scale, so Vega-Lite draws the legend for the tiles' colours.
  const legendLayer = chart.legend === undefined ? [] : [{
    data: { values: chart.legend.domain.map((value) => ({ value, x: 0, y: 0 })) },
    mark: { type: "point" as const, opacity: 0 },
    encoding: {
      x: pixels("x"),
      y: pixels("y"),
      color: {
        field: "value",
        type: "quantitative" as const,
        title: chart.legend.title,
        scale: { scheme: chart.legend.scheme, domain: chart.legend.domain },
        legend: { gradientLength: Math.min(200, Math.max(80, chart.height - 40)), direction: "vertical" as const, titleOrient: "top" as const },
      },
    },
  }];
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: chart.title, ...(chart.subtitle === undefined ? {} : { subtitle: chart.subtitle }) },
    width: chart.width,
    height: chart.height,
    config: { ...CHART_CONFIG, view: { stroke: null } },
    layer: [...imageLayers, ...frameLayers, ...labelLayers, ...legendLayer],
  } as TopLevelSpec;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const name = key(item);
    const group = groups.get(name);
    if (group) group.push(item);
    else groups.set(name, [item]);
  }
  return groups;
}
