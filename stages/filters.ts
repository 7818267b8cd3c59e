import { defineAnalysis } from "./analysis-stage.ts";

/** `filters@<id>`: the learned kernels of the first and second conv layer as image grids (001, 002, 004). */
export const filters = defineAnalysis({
  kind: "filters",
  module: import.meta.url,
  needs: "model",
  async compute(inputs, settings) {
    const { requireModel } = await import("../ml/analysis/stage-io.ts");
    const { convFilters } = await import("../ml/analysis/filters.ts");
    return convFilters(requireModel(inputs), { layers: settings.layers });
  },
  async present(result, experiment) {
    return (await import("../presentation/charts/analysis/filters.ts")).presentFilters(result, experiment);
  },
});
