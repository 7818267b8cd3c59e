import { defineAnalysis } from "./analysis-stage.ts";

/** `occlusion@<id>`: P(true class) under a sliding grey patch, per patch size, for the first test images (002). */
export const occlusion = defineAnalysis({
  kind: "occlusion",
  module: import.meta.url,
  needs: "model-and-data",
  async compute(inputs, settings, signal) {
    const { requireLoaded } = await import("../ml/analysis/stage-io.ts");
    const { occlusionSensitivity } = await import("../ml/analysis/occlusion.ts");
    const { model, dataset, normalize } = requireLoaded(inputs);
    if (settings.images > dataset.test.count) {
      throw new Error(`analyses.occlusion.images is ${settings.images}, but the test split has ${dataset.test.count} images`);
    }
    // The first test images, as 002 took the first batch of its (unshuffled) test loader.
    const rows = Array.from({ length: settings.images }, (_, row) => row);
    return occlusionSensitivity(model, dataset.test, normalize, { rows, patchSizes: settings.patchSizes, stride: settings.stride, fillPixel: settings.fillPixel, signal });
  },
  async present(result, experiment) {
    return (await import("../presentation/charts/analysis/occlusion.ts")).presentOcclusion(result, experiment);
  },
});
