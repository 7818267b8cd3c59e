import { defineAnalysis } from "./analysis-stage.ts";

/** `misclassified@<id>`: the test set's most confident mistakes. */
export const misclassified = defineAnalysis({
  kind: "misclassified",
  module: import.meta.url,
  needs: "model-and-data",
  async compute(inputs, settings, signal) {
    const { requireLoaded } = await import("../ml/analysis/stage-io.ts");
    const { misclassified } = await import("../ml/analysis/predictions.ts");
    const { model, dataset, normalize } = requireLoaded(inputs);
    return misclassified(model, dataset.test, normalize, { count: settings.count, signal });
  },
  async present(result, experiment) {
    return (await import("../presentation/charts/analysis/predictions.ts")).presentMisclassified(result, experiment);
  },
});
