import type { PredictedImage } from "../../../ml/analysis/types.ts";
import { greyImage } from "./colormap.ts";
import { CORRECT_COLOR, type Label, MISTAKE_COLOR, type Tile, type TileChart } from "./tile-chart.ts";

const SIDE = 28;

export const confidenceText = (value: number): string => `${(100 * value).toFixed(value >= 0.999 && value < 1 ? 2 : 1)}%`;

/**
 * Digits in a grid with two caption lines each; mistakes framed and captioned in red. `caption`
 * gives the two lines for one image.
 */
export function digitGrid(options: {
  title: string;
  subtitle?: string | string[];
  items: readonly PredictedImage[];
  columns: number;
  caption(item: PredictedImage): [string, string];
  scale?: number;
}): TileChart {
  const scale = options.scale ?? 3;
  const size = SIDE * scale;
  const cellWidth = Math.max(size, 110) + 12;
  const cellHeight = size + 40;
  const tiles: Tile[] = [];
  const labels: Label[] = [];
  options.items.forEach((item, index) => {
    const column = index % options.columns;
    const row = Math.floor(index / options.columns);
    const x = column * cellWidth + (cellWidth - size) / 2;
    const y = row * cellHeight;
    const wrong = item.predicted !== item.label;
    tiles.push({ x, y, width: size, height: size, image: greyImage(item.pixels, SIDE, SIDE), smooth: true, ...(wrong ? { frame: MISTAKE_COLOR } : {}) });
    const [first, second] = options.caption(item);
    const color = wrong ? MISTAKE_COLOR : CORRECT_COLOR;
    labels.push({ x: x + size / 2, y: y + size + 5, text: first, color, bold: wrong });
    labels.push({ x: x + size / 2, y: y + size + 19, text: second, color: "#555", size: 10 });
  });
  const rows = Math.ceil(options.items.length / options.columns);
  return {
    title: options.title,
    ...(options.subtitle === undefined ? {} : { subtitle: options.subtitle }),
    width: Math.min(options.columns, options.items.length) * cellWidth,
    height: rows * cellHeight,
    tiles,
    labels,
  };
}
