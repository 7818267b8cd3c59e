import { defineAnalysis } from "./analysis-stage.ts";

/** `layer-summary@<id>`: output shape and parameters per layer, conv / fc split (002). Reads model.json only. */
export const layerSummary = defineAnalysis({
  kind: "layer-summary",
  module: import.meta.url,
  needs: "topology",
  async compute(inputs) {
    const { summarizeLayers } = await import("../ml/analysis/layer-summary.ts");
    return summarizeLayers(inputs.topology.config.arch, inputs.topology.config.batchNorm, inputs.topology.layers);
  },
  async present(result, experiment) {
    const { presentLayerSummary } = await import("../presentation/charts/analysis/layer-summary.ts");
    return presentLayerSummary(result, experiment);
  },
});
