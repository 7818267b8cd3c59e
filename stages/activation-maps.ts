import { defineAnalysis } from "./analysis-stage.ts";

/** `activation-maps@<id>`: every conv layer's output for one test image, one small image per channel (002, 004). */
export const activationMaps = defineAnalysis({
  kind: "activation-maps",
  module: import.meta.url,
  needs: "model-and-data",
  async compute(inputs, settings) {
    const { requireLoaded } = await import("../ml/analysis/stage-io.ts");
    const { activationMaps } = await import("../ml/analysis/activations.ts");
    const { model, dataset, normalize } = requireLoaded(inputs);
    return activationMaps(model, dataset.test, normalize, { row: settings.testRow });
  },
  async present(result, experiment) {
    return (await import("../presentation/charts/analysis/activations.ts")).presentActivationMaps(result, experiment);
  },
});
