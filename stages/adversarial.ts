import { defineAnalysis } from "./analysis-stage.ts";

/** `adversarial@<id>`: non-targeted and targeted adversarial inputs by gradient ascent on the input (002). */
export const adversarial = defineAnalysis({
  kind: "adversarial",
  module: import.meta.url,
  needs: "model-and-data",
  async compute(inputs, settings, signal) {
    const { requireLoaded } = await import("../ml/analysis/stage-io.ts");
    const { firstImagePerDigit, inputSpaceSettings, targetedAttack, untargetedAttack } = await import("../ml/analysis/adversarial.ts");
    const { predictedImage } = await import("../ml/analysis/predictions.ts");
    const { runInference } = await import("../ml/evaluate.ts");
    const { inputImage, round, toDisplay } = await import("../ml/analysis/pixels.ts");
    const { model, dataset, normalize } = requireLoaded(inputs);
    const rows = firstImagePerDigit(dataset.test);
    const shown = rows.map((row, digit) => ({ digit, input: inputImage(dataset.test.images, row) }));
    const inInputSpace = inputSpaceSettings(settings, normalize);
    const display = <T extends { input: number[] }>(entry: T): T => ({ ...entry, pixels: entry.input.map((value) => round(toDisplay(value, normalize))) });
    const untargeted = (await untargetedAttack(model, inInputSpace, { signal })).map(display);
    const targeted = (await targetedAttack(model, shown, inInputSpace, { signal })).map(display);
    // The shown images' own predictions, for the diagonal of the targeted grid.
    const images = new Float32Array(rows.length * 784);
    rows.forEach((row, index) => images.set(inputImage(dataset.test.images, row), index * 784));
    const { probabilities } = await runInference(model, { count: rows.length, images, labels: Int32Array.from(rows, (row) => dataset.test.labels[row]!) }, { keepProbabilities: true });
    const shownImages = rows.map((row, index) => predictedImage(dataset.test, row, probabilities!.subarray(index * 10, index * 10 + 10), normalize));
    return { kind: "adversarial" as const, settings, untargeted, shownImages, targeted };
  },
  async present(result, experiment) {
    return (await import("../presentation/charts/analysis/adversarial.ts")).presentAdversarial(result, experiment);
  },
});
