import { defineAnalysis } from "./analysis-stage.ts";

/** `prediction-grid@<id>`: random test images (seeded) with true and predicted labels (002). */
export const predictionGrid = defineAnalysis({
  kind: "prediction-grid",
  module: import.meta.url,
  needs: "model-and-data",
  async compute(inputs, settings, signal) {
    const { requireLoaded } = await import("../ml/analysis/stage-io.ts");
    const { predictionGrid } = await import("../ml/analysis/predictions.ts");
    const { model, dataset, normalize } = requireLoaded(inputs);
    return predictionGrid(model, dataset.test, normalize, { count: settings.count, seed: settings.seed, signal });
  },
  async present(result, experiment) {
    return (await import("../presentation/charts/analysis/predictions.ts")).presentPredictionGrid(result, experiment);
  },
});
