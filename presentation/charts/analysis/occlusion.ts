import type { AnalysisPresentation } from "../../../ml/analysis/stage-io.ts";
import type { OcclusionMap, OcclusionResult } from "../../../ml/analysis/types.ts";
import { greyImage, schemeImage } from "./colormap.ts";
import { confidenceText } from "./digits.ts";
import { CORRECT_COLOR, type Label, MISTAKE_COLOR, type Tile, tileChartSpec } from "./tile-chart.ts";

const SCALE = 2;
const TILE = 28 * SCALE;
/** The margin of a registered map where no patch centre falls: light grey, outside viridis. */
const MARGIN: readonly [number, number, number] = [225, 225, 225];

/**
 * A map registered to its 28×28 digit, on a grid of half pixels (a 14×14 patch's centre falls
 * between pixels): each half pixel takes the value of the patch centred over it; where no patch
 * centre falls (the margin of width (patch − stride) / 2) it is NaN, drawn as the margin colour. So
 * the map tile is the digit's size and every cell sits over the pixels it was measured on.
 */
export function registeredMap(map: OcclusionMap, stride: number): { values: Float32Array; side: number } {
  const side = 28 * SCALE;
  const values = new Float32Array(side * side).fill(Number.NaN);
  const offset = (map.patchSize - stride) / 2;
  for (let y = 0; y < side; y++) {
    const row = Math.floor(((y + 0.5) / SCALE - offset) / stride);
    if (row < 0 || row >= map.side) continue;
    for (let x = 0; x < side; x++) {
      const column = Math.floor(((x + 0.5) / SCALE - offset) / stride);
      if (column >= 0 && column < map.side) values[y * side + x] = map.probabilities[row * map.side + column]!;
    }
  }
  return { values, side };
}

/**
 * One row of the test images, then one row of heatmaps per patch size, each heatmap registered to
 * the 28×28 digit above it (same size, cells over the pixels they were measured on, a grey margin
 * where no patch centre falls: half the patch on each side, 6.5 px for a 14×14 patch).
 */
function occlusionChart(result: OcclusionResult, experiment: string) {
  const left = 74;
  const gap = 8;
  const rowHeight = TILE + 22;
  const sizes = result.items[0]?.maps.map((map) => map.patchSize) ?? [];
  const tiles: Tile[] = [];
  const labels: Label[] = [];
  result.items.forEach((item, column) => {
    const x = left + column * (TILE + gap);
    const wrong = item.predicted !== item.label;
    tiles.push({ x, y: 16, width: TILE, height: TILE, image: greyImage(item.pixels, 28, 28), ...(wrong ? { frame: MISTAKE_COLOR } : {}) });
    labels.push({ x: x + TILE / 2, y: 0, text: `${item.label}: ${confidenceText(item.trueProbability)}`, size: 10, color: wrong ? MISTAKE_COLOR : CORRECT_COLOR });
    item.maps.forEach((map, row) => {
      const y = 16 + (row + 1) * rowHeight;
      const registered = registeredMap(map, result.stride);
      tiles.push({ x, y, width: TILE, height: TILE, image: schemeImage(registered.values, registered.side, registered.side, "viridis", 0, 1, 1, MARGIN) });
      labels.push({ x: x + TILE / 2, y: y + TILE + 2, text: `min ${map.min.toFixed(2)}`, size: 9, color: "#555" });
    });
  });
  labels.push({ x: left - 8, y: 16 + TILE / 2 - 6, text: "image", align: "right" });
  sizes.forEach((size, row) => labels.push({ x: left - 8, y: 16 + (row + 1) * rowHeight + TILE / 2 - 6, text: `${size}×${size}`, align: "right" }));
  return tileChartSpec({
    title: `${experiment}: occlusion sensitivity`,
    subtitle: [
      `P(true class) with a grey patch (pixel value ${result.fill.pixel}) at each position, stride ${result.stride}, drawn at the patch's centre on the digit's 28×28 grid (light grey: no patch centre there); one row per patch size`,
      "above each digit: its label and P(true class) unoccluded; below each map: the lowest probability",
    ],
    width: left + result.items.length * (TILE + gap),
    height: 16 + (sizes.length + 1) * rowHeight,
    tiles,
    labels,
    legend: { title: "P(true class)", scheme: "viridis", domain: [0, 1] },
  });
}

export function presentOcclusion(result: OcclusionResult, experiment: string): AnalysisPresentation {
  const sizes = result.items[0]?.maps.map((map) => map.patchSize) ?? [];
  const sentences = sizes.map((size, index) => {
    const minima = result.items.map((item) => item.maps[index]!.min);
    const mean = minima.reduce((a, b) => a + b, 0) / Math.max(1, minima.length);
    // Only images the network gets right unoccluded can be pushed below 0.5 by the patch.
    const confident = result.items.filter((item) => item.trueProbability >= 0.5);
    const flipped = confident.filter((item) => item.maps[index]!.min < 0.5).length;
    return `${size}×${size} patch: the lowest P(true class) averages ${mean.toFixed(3)} over the ${minima.length} images; some position pushes it below 0.5 in ${flipped} of the ${confident.length} images above 0.5 unoccluded.`;
  });
  sentences.unshift(`The patch value ${result.fill.pixel} is ${result.fill.input.toFixed(3)} in this network's input space.`);
  return {
    title: "Occlusion sensitivity",
    method:
      `A square patch set to ${result.fill.pixel} in display space (0 = black, 1 = white, i.e. before the dataset's normalization; mid grey; each network gets it through its own normalization), ` +
      `is slid over each image with stride ${result.stride} (every position where it fits), all positions of an image in batches; each heatmap cell is the softmax probability of the true class with the patch there, drawn at the patch's centre on the digit's own 28×28 grid (the map is registered to the digit above it; a light grey margin where no patch centre falls). ` +
      `The images are the first ${result.items.length} of the test set, as 002 took the first batch of its test loader with the same value (0.5 on unnormalized inputs) and sizes 1, 3, 5, 7 and 14.`,
    sentences,
    charts: [{ name: `occlusion-${experiment}`, title: `${experiment}: occlusion sensitivity`, scope: "experiment", experiment, spec: occlusionChart(result, experiment) }],
    csv: result.items.flatMap((item) =>
      item.maps.map((map) => ({ test_row: item.row, mnist_index: item.mnistIndex, label: item.label, unoccluded_true_probability: item.trueProbability, patch_size: map.patchSize, positions: map.side * map.side, min_true_probability: map.min })),
    ),
  };
}
