import type { AnalysisPresentation } from "../../../ml/analysis/stage-io.ts";
import type { ActivationLayer, ActivationMapsResult } from "../../../ml/analysis/types.ts";
import { schemeImage } from "./colormap.ts";
import { confidenceText } from "./digits.ts";
import { type Label, type Tile, tileChartSpec } from "./tile-chart.ts";

const TILE = 56;

function layerChart(layer: ActivationLayer, result: ActivationMapsResult, experiment: string) {
  const columns = layer.channels > 32 ? 16 : 8;
  const gap = 6;
  const cellHeight = TILE + 16;
  const tiles: Tile[] = [];
  const labels: Label[] = [];
  const perChannel = layer.height * layer.width;
  for (let channel = 0; channel < layer.channels; channel++) {
    const x = (channel % columns) * (TILE + gap);
    const y = Math.floor(channel / columns) * cellHeight;
    const values = layer.values.slice(channel * perChannel, (channel + 1) * perChannel);
    tiles.push({ x, y, width: TILE, height: TILE, image: schemeImage(values, layer.width, layer.height, "viridis", layer.min, layer.max, Math.ceil(TILE / layer.width)) });
    labels.push({ x: x + TILE / 2, y: y + TILE + 2, text: String(channel), size: 9, color: "#555" });
  }
  const image = result.image;
  return {
    name: `activation-maps-${layer.conv}-${experiment}`,
    title: `${experiment}: ${layer.conv} feature maps`,
    scope: "experiment" as const,
    experiment,
    spec: tileChartSpec({
      title: `${experiment}: ${layer.conv} feature maps (output of ${layer.shownAfter})`,
      subtitle: `${layer.channels} channels of ${layer.height}×${layer.width} for test image #${image.row} (a ${image.label}, predicted ${image.predicted} at ${confidenceText(image.confidence)}); one colour scale for the layer`,
      width: columns * (TILE + gap),
      height: Math.ceil(layer.channels / columns) * cellHeight,
      tiles,
      labels,
      legend: { title: "activation", scheme: "viridis", domain: [layer.min, layer.max] },
    }),
  };
}

/** Channels that are (numerically) zero over the whole map: after a ReLU, units this image does not excite. */
function silentChannels(layer: ActivationLayer): number {
  const perChannel = layer.height * layer.width;
  let silent = 0;
  for (let channel = 0; channel < layer.channels; channel++) {
    const values = layer.values.slice(channel * perChannel, (channel + 1) * perChannel);
    if (Math.max(...values.map(Math.abs)) < 1e-6) silent++;
  }
  return silent;
}

export function presentActivationMaps(result: ActivationMapsResult, experiment: string): AnalysisPresentation {
  return {
    title: "Activation maps",
    method:
      "One test image (params: analyses.activationMaps.testRow) through the network in evaluation mode; for each conv layer, the output of the activation that follows it (after BatchNorm where there is one), one small image per channel on a shared colour scale per layer.",
    sentences: result.layers.map((layer) => {
      const silent = silentChannels(layer);
      return `${layer.conv} (after ${layer.shownAfter}): ${layer.channels} channels of ${layer.height}×${layer.width}, values ${layer.min.toFixed(2)} to ${layer.max.toFixed(2)}; ${silent} channel${silent === 1 ? " is" : "s are"} zero everywhere for this image.`;
    }),
    charts: result.layers.map((layer) => layerChart(layer, result, experiment)),
  };
}
