import type { AnalysisPresentation } from "../../../ml/analysis/stage-io.ts";
import type { FilterLayer, FiltersResult } from "../../../ml/analysis/types.ts";
import { schemeImage } from "./colormap.ts";
import { type Label, type Tile, tileChartSpec } from "./tile-chart.ts";

/** Pixels per kernel cell: first-layer kernels drawn ~48 px wide, deeper ones (many more) ~20 px. */
const cellPixels = (kernel: number, target: number): number => Math.max(2, Math.round(target / kernel));

/** 002 plotted its filters 8 to a row. */
const STUDY_COLUMNS = 8;
/** How many kernels 002's plot of its second conv layer showed: one per output channel, its first input channel, 32. */
const STUDY_KERNELS = 32;

const kernelOffset = (layer: FilterLayer, out: number, input: number): number => (out * layer.inChannels + input) * layer.kernelHeight * layer.kernelWidth;

function kernelImage(layer: FilterLayer, out: number, input: number, cell: number): string {
  const offset = kernelOffset(layer, out, input);
  const perKernel = layer.kernelHeight * layer.kernelWidth;
  return schemeImage(layer.weights.slice(offset, offset + perKernel), layer.kernelWidth, layer.kernelHeight, "redblue", -layer.maxAbs, layer.maxAbs, cell);
}

/**
 * The kernels as 002 showed them (`plot_filters`: `filters[i, 0]`, 8 to a row): for each of the
 * first 32 output channels, its kernel on input channel 0 — for a first layer that is every filter,
 * for a deeper one a slice of each. On the layer's shared diverging scale, with the channel number
 * under each kernel.
 */
function studyGridChart(layer: FilterLayer, experiment: string) {
  const single = layer.inChannels === 1;
  const count = Math.min(layer.outChannels, single ? layer.outChannels : STUDY_KERNELS);
  const cell = cellPixels(layer.kernelWidth, 48);
  const width = layer.kernelWidth * cell;
  const height = layer.kernelHeight * cell;
  const gap = 6;
  const label = 12;
  const columns = Math.min(count, STUDY_COLUMNS);
  const tiles: Tile[] = [];
  const labels: Label[] = [];
  for (let out = 0; out < count; out++) {
    const x = (out % columns) * (width + gap);
    const y = Math.floor(out / columns) * (height + gap + label);
    tiles.push({ x, y, width, height, image: kernelImage(layer, out, 0, cell) });
    labels.push({ x: x + width / 2, y: y + height + 1, text: String(out), size: 9, color: "#555" });
  }
  const rows = Math.ceil(count / columns);
  return {
    name: `filters-${layer.name}-${experiment}`,
    title: `${experiment}: ${layer.name} kernels${single ? "" : `, the first ${count} on input channel 0`}`,
    scope: "experiment" as const,
    experiment,
    spec: tileChartSpec({
      title: `${experiment}: learned ${layer.name} kernels (${layer.kernelHeight}×${layer.kernelWidth})`,
      subtitle: single
        ? `${layer.outChannels} filters on the input image, ${STUDY_COLUMNS} to a row as 002 plotted them; one colour scale for the layer`
        : `output channels 0–${count - 1}, each on input channel 0 of ${layer.inChannels}, as 002 plotted them (filters[i, 0]); one colour scale for the layer`,
      width: columns * (width + gap),
      height: rows * (height + gap + label),
      tiles,
      labels,
      legend: { title: "weight", scheme: "redblue", domain: [-layer.maxAbs, layer.maxAbs] },
    }),
  };
}

/**
 * A deeper layer's every kernel: a matrix with one row per output channel and one column per input
 * channel (32 × 32 = 1,024 tiles for 002's conv2), linked from the report rather than shown inline.
 */
function fullMatrixChart(layer: FilterLayer, experiment: string) {
  const cell = cellPixels(layer.kernelWidth, 20);
  const width = layer.kernelWidth * cell;
  const height = layer.kernelHeight * cell;
  const gap = 2;
  const left = 30;
  const top = 16;
  const tiles: Tile[] = [];
  const labels: Label[] = [];
  for (let out = 0; out < layer.outChannels; out++) {
    for (let input = 0; input < layer.inChannels; input++) {
      tiles.push({ x: left + input * (width + gap), y: top + out * (height + gap), width, height, image: kernelImage(layer, out, input, cell) });
    }
    if (out % 4 === 0 || layer.outChannels <= 16) labels.push({ x: left - 4, y: top + out * (height + gap) + height / 2 - 6, text: String(out), align: "right", size: 9 });
  }
  for (let input = 0; input < layer.inChannels; input += layer.inChannels <= 16 ? 1 : 4) labels.push({ x: left + input * (width + gap) + width / 2, y: 0, text: String(input), size: 9 });
  return {
    name: `filters-${layer.name}-all-${experiment}`,
    title: `${experiment}: every ${layer.name} kernel (${layer.outChannels} × ${layer.inChannels})`,
    scope: "experiment" as const,
    experiment,
    display: "link" as const,
    spec: tileChartSpec({
      title: `${experiment}: every learned ${layer.name} kernel (${layer.kernelHeight}×${layer.kernelWidth})`,
      subtitle: `row = output channel (${layer.outChannels}), column = input channel (${layer.inChannels}); one colour scale for the layer`,
      width: left + layer.inChannels * (width + gap),
      height: top + layer.outChannels * (height + gap),
      tiles,
      labels,
      legend: { title: "weight", scheme: "redblue", domain: [-layer.maxAbs, layer.maxAbs] },
    }),
  };
}

export function presentFilters(result: FiltersResult, experiment: string): AnalysisPresentation {
  const sentences = result.layers.map((layer) => {
    const perKernel = layer.kernelHeight * layer.kernelWidth;
    const kernels = layer.outChannels * layer.inChannels;
    let weak = 0;
    for (let k = 0; k < kernels; k++) {
      const peak = Math.max(...layer.weights.slice(k * perKernel, (k + 1) * perKernel).map(Math.abs));
      if (peak < 0.1 * layer.maxAbs) weak++;
    }
    return (
      `${layer.name}: ${kernels} kernels of ${layer.kernelHeight}×${layer.kernelWidth} (${layer.outChannels} out × ${layer.inChannels} in), weights within ±${layer.maxAbs.toFixed(3)}; ` +
      `${weak} kernel${weak === 1 ? " stays" : "s stay"} below 10% of that peak.`
    );
  });
  return {
    title: "Learned filters",
    method:
      "The kernels of the first conv layers (as many as analyses.filters.layers asks, fewer when the network has fewer), drawn on one diverging colour scale per layer: red negative, blue positive, white zero. " +
      "Shown as 002 plotted them, 8 to a row: a first layer's filters, and of a deeper layer the first 32 output channels' kernels on input channel 0 (002's `filters[i, 0]`); " +
      "a deeper layer's every kernel, a matrix with one row per output channel and one column per input channel, is linked below its grid rather than shown.",
    sentences,
    charts: result.layers.flatMap((layer) => (layer.inChannels === 1 ? [studyGridChart(layer, experiment)] : [studyGridChart(layer, experiment), fullMatrixChart(layer, experiment)])),
  };
}
