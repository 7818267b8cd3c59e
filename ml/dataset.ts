/**
 * The prepared-dataset store: one directory per distinct DatasetConfig.
 *
 *   dataset.json              header: format, counts, class counts, normalization, the config
 *   <split>-images.u8         count x 28 x 28 raw pixels (uint8, row-major, = NHWC with C = 1)
 *   <split>-labels.u8         count labels (uint8)
 *   <split>-indices.u32le     which original MNIST image each row is (provenance; little-endian uint32)
 * with split in train / validation (only when configured) / test.
 *
 * Pixels stay uint8 on disk (4x smaller than float32, and the normalization is a pure function of
 * the header); loadDataset turns them into normalized Float32Arrays with a 256-entry lookup table,
 * which takes well under a second for all 70k images.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { DatasetConfig, Normalization } from "./config.ts";
import { readIdxImages, readIdxLabels } from "./idx.ts";
import { MNIST_CLASSES, MNIST_IMAGE_HEIGHT, MNIST_IMAGE_WIDTH, MNIST_PIXELS, mnistFile } from "./mnist-files.ts";
import { computeSplitIndices } from "./split.ts";

export const DATASET_FORMAT = "mnist-u8/1";
export const DATASET_HEADER_FILE = "dataset.json";

export type SplitName = "train" | "validation" | "test";

export interface SplitHeader {
  count: number;
  /** Which original file the rows come from. */
  source: "train" | "test";
  images: string;
  labels: string;
  indices: string;
  /** Images per class 0..9. */
  classCounts: number[];
}

export interface DatasetHeader {
  format: typeof DATASET_FORMAT;
  image: { height: number; width: number; channels: number };
  classes: number;
  /** null = pixels / 255 only; otherwise (pixels / 255 - mean) / std. */
  normalize: Normalization | null;
  config: DatasetConfig;
  splits: { train: SplitHeader; validation?: SplitHeader; test: SplitHeader };
}

export interface PreparedDataset {
  dir: string;
  header: DatasetHeader;
  /** Every file written, header first (absolute or as joined with dir). */
  files: string[];
}

/**
 * Build the store for `config` from the four verified IDX files in rawDir, writing into outDir.
 */
export async function prepareDataset(config: DatasetConfig, rawDir: string, outDir: string): Promise<PreparedDataset> {
  if (config.normalize && !(config.normalize.std > 0)) {
    throw new Error(`dataset normalize.std must be > 0, got ${config.normalize.std}`);
  }
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all([
    readIdxImages(join(rawDir, mnistFile("trainImages").name)),
    readIdxLabels(join(rawDir, mnistFile("trainLabels").name)),
    readIdxImages(join(rawDir, mnistFile("testImages").name)),
    readIdxLabels(join(rawDir, mnistFile("testLabels").name)),
  ]);
  for (const [images, labels, what] of [
    [trainImages, trainLabels, "train"],
    [testImages, testLabels, "test"],
  ] as const) {
    if (images.rows !== MNIST_IMAGE_HEIGHT || images.cols !== MNIST_IMAGE_WIDTH) {
      throw new Error(`MNIST ${what} images in ${rawDir} are ${images.rows}x${images.cols}, expected 28x28`);
    }
    if (images.count !== labels.length) {
      throw new Error(`MNIST ${what} files in ${rawDir} disagree: ${images.count} images but ${labels.length} labels`);
    }
  }

  const split = computeSplitIndices(config, trainImages.count, testImages.count);
  await mkdir(outDir, { recursive: true });
  const files: string[] = [join(outDir, DATASET_HEADER_FILE)];
  const write = async (name: SplitName, source: "train" | "test", indices: Uint32Array): Promise<SplitHeader> => {
    const src = source === "train" ? trainImages.pixels : testImages.pixels;
    const srcLabels = source === "train" ? trainLabels : testLabels;
    const images = new Uint8Array(indices.length * MNIST_PIXELS);
    const labels = new Uint8Array(indices.length);
    const classCounts = new Array<number>(MNIST_CLASSES).fill(0);
    for (let i = 0; i < indices.length; i++) {
      const k = indices[i] as number;
      images.set(src.subarray(k * MNIST_PIXELS, (k + 1) * MNIST_PIXELS), i * MNIST_PIXELS);
      const label = srcLabels[k] as number;
      labels[i] = label;
      classCounts[label] = (classCounts[label] as number) + 1;
    }
    const header: SplitHeader = {
      count: indices.length,
      source,
      images: `${name}-images.u8`,
      labels: `${name}-labels.u8`,
      indices: `${name}-indices.u32le`,
      classCounts,
    };
    await writeFile(join(outDir, header.images), images);
    await writeFile(join(outDir, header.labels), labels);
    await writeFile(join(outDir, header.indices), uint32le(indices));
    files.push(join(outDir, header.images), join(outDir, header.labels), join(outDir, header.indices));
    return header;
  };

  const train = await write("train", "train", split.train);
  const validation = split.validation ? await write("validation", "train", split.validation) : undefined;
  const test = await write("test", "test", split.test);
  const header: DatasetHeader = {
    format: DATASET_FORMAT,
    image: { height: MNIST_IMAGE_HEIGHT, width: MNIST_IMAGE_WIDTH, channels: 1 },
    classes: MNIST_CLASSES,
    normalize: config.normalize,
    config,
    splits: validation ? { train, validation, test } : { train, test },
  };
  await writeFile(join(outDir, DATASET_HEADER_FILE), `${JSON.stringify(header, null, 2)}\n`);
  return { dir: outDir, header, files };
}

export interface DatasetSplit {
  count: number;
  /** count x 28 x 28 x 1 (NHWC), normalized. */
  images: Float32Array;
  labels: Int32Array;
  /** Original MNIST index of each row (in its source file). */
  indices: Uint32Array;
}

export interface LoadedDataset {
  header: DatasetHeader;
  train: DatasetSplit;
  validation: DatasetSplit | null;
  test: DatasetSplit;
  /** The normalized value of a black (0) pixel: the fill value for shifted-in borders. */
  background: number;
}

/** Load a store written by prepareDataset, normalized as its header says. */
export async function loadDataset(dir: string): Promise<LoadedDataset> {
  const headerPath = join(dir, DATASET_HEADER_FILE);
  let header: DatasetHeader;
  try {
    header = JSON.parse(await readFile(headerPath, "utf8")) as DatasetHeader;
  } catch (error) {
    throw new Error(`cannot read dataset header ${headerPath}: ${(error as Error).message}`, { cause: error });
  }
  if (header.format !== DATASET_FORMAT) {
    throw new Error(`dataset header ${headerPath}: format "${String(header.format)}", expected "${DATASET_FORMAT}"`);
  }
  const lut = normalizationTable(header.normalize);
  const load = async (split: SplitHeader | undefined, name: SplitName): Promise<DatasetSplit | null> => {
    if (!split) return null;
    const [raw, labels8, idx] = await Promise.all([
      readFile(join(dir, split.images)),
      readFile(join(dir, split.labels)),
      readFile(join(dir, split.indices)),
    ]);
    const expect = (what: string, got: number, want: number): void => {
      if (got !== want) throw new Error(`dataset ${dir}: ${name} ${what} has ${got} bytes, header says ${want}`);
    };
    expect(split.images, raw.length, split.count * MNIST_PIXELS);
    expect(split.labels, labels8.length, split.count);
    expect(split.indices, idx.length, split.count * 4);
    const images = new Float32Array(raw.length);
    for (let i = 0; i < raw.length; i++) images[i] = lut[raw[i] as number] as number;
    const labels = Int32Array.from(labels8);
    const indices = new Uint32Array(split.count);
    const view = new DataView(idx.buffer, idx.byteOffset, idx.byteLength);
    for (let i = 0; i < split.count; i++) indices[i] = view.getUint32(4 * i, true);
    return { count: split.count, images, labels, indices };
  };
  const [train, validation, test] = await Promise.all([
    load(header.splits.train, "train"),
    load(header.splits.validation, "validation"),
    load(header.splits.test, "test"),
  ]);
  if (!train || !test) throw new Error(`dataset header ${headerPath}: missing train or test split`);
  return { header, train, validation, test, background: lut[0] as number };
}

/** pixel byte -> normalized float, exactly as torchvision's ToTensor + Normalize compute it. */
export function normalizationTable(normalize: Normalization | null): Float32Array {
  const lut = new Float32Array(256);
  for (let v = 0; v < 256; v++) {
    const x = v / 255;
    lut[v] = normalize ? (x - normalize.mean) / normalize.std : x;
  }
  return lut;
}

function uint32le(values: Uint32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setUint32(4 * i, values[i] as number, true);
  return out;
}
