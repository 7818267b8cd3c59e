import type { AnalysisPresentation } from "../stage-io.ts";
import type { FilterLayer, FiltersResult } from "../types.ts";
import { schemeImage } from "./colormap.ts";
import { type Label, type Tile, tileChartSpec } from "./tile-chart.ts";

/** Pixels per kernel cell: first-layer kernels drawn ~48 px wide, deeper ones (many more) ~20 px. */
const cellPixels = (kernel: number, target: number): number => Math.max(2, Math.round(target / kernel));

/**
 * One layer's kernels on the layer's shared diverging scale (±max|w|, so kernels are comparable):
 * a first layer (one input channel) as a grid of its output channels, a deeper layer as a matrix
 * with one row per output channel and one column per input channel.
 */
function layerChart(layer: FilterLayer, experiment: string) {
  const single = layer.inChannels === 1;
  const cell = cellPixels(layer.kernelWidth, single ? 48 : 20);
  const width = layer.kernelWidth * cell;
  const height = layer.kernelHeight * cell;
  const gap = single ? 6 : 2;
  const columns = single ? Math.min(layer.outChannels, 16) : layer.inChannels;
  const left = single ? 0 : 30;
  const top = single ? 0 : 16;
  const perKernel = layer.kernelHeight * layer.kernelWidth;
  const tiles: Tile[] = [];
  const labels: Label[] = [];
  for (let out = 0; out < layer.outChannels; out++) {
    for (let input = 0; input < layer.inChannels; input++) {
      const index = single ? out : out * layer.inChannels + input;
      const column = single ? index % columns : input;
      const row = single ? Math.floor(index / columns) : out;
      const offset = (out * layer.inChannels + input) * perKernel;
      tiles.push({
        x: left + column * (width + gap),
        y: top + row * (height + gap),
        width,
        height,
        image: schemeImage(layer.weights.slice(offset, offset + perKernel), layer.kernelWidth, layer.kernelHeight, "redblue", -layer.maxAbs, layer.maxAbs, cell),
      });
    }
    if (!single && (out % 4 === 0 || layer.outChannels <= 16)) labels.push({ x: left - 4, y: top + out * (height + gap) + height / 2 - 6, text: String(out), align: "right", size: 9 });
  }
  if (!single) {
    for (let input = 0; input < layer.inChannels; input += layer.inChannels <= 16 ? 1 : 4) labels.push({ x: left + input * (width + gap) + width / 2, y: 0, text: String(input), size: 9 });
  }
  const rows = single ? Math.ceil(layer.outChannels / columns) : layer.outChannels;
  return {
    name: `filters-${layer.name}-${experiment}`,
    title: `${experiment}: ${layer.name} kernels`,
    scope: "experiment" as const,
    experiment,
    spec: tileChartSpec({
      title: `${experiment}: learned ${layer.name} kernels (${layer.kernelHeight}×${layer.kernelWidth})`,
      subtitle: single
        ? `${layer.outChannels} filters on the input image; one colour scale for the layer`
        : `row = output channel (${layer.outChannels}), column = input channel (${layer.inChannels}); one colour scale for the layer`,
      width: left + columns * (width + gap),
      height: top + rows * (height + gap),
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
      "A first layer is a grid of its filters; a deeper one a matrix, one row per output channel and one column per input channel.",
    sentences,
    charts: result.layers.map((layer) => layerChart(layer, experiment)),
  };
}
