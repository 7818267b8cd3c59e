/**
 * Parser for the IDX format of the MNIST files (http://yann.lecun.com/exdb/mnist/):
 *   bytes 0-1: zero, byte 2: data type (0x08 = unsigned byte), byte 3: number of dimensions,
 *   then one big-endian uint32 per dimension, then the data, row-major.
 * MNIST uses 0x00000801 (labels, 1 dim) and 0x00000803 (images, 3 dims: count, rows, cols).
 *
 * We insist on the exact byte length: a truncated download or a file with trailing junk is
 * rejected rather than silently read short or long.
 */
import { readFile } from "node:fs/promises";

export const IDX_LABELS_MAGIC = 0x00000801;
export const IDX_IMAGES_MAGIC = 0x00000803;

export interface IdxArray {
  /** Dimensions as stored, e.g. [60000, 28, 28] or [60000]. */
  dims: number[];
  /** The payload (a view into the file buffer, no copy). */
  data: Uint8Array;
}

export class IdxFormatError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`IDX file ${file}: ${detail}`);
    this.name = "IdxFormatError";
  }
}

/**
 * Parse IDX bytes. `file` names the source in error messages; `expectedMagic` (optional) rejects
 * e.g. a label file passed where images are expected.
 */
export function parseIdx(bytes: Uint8Array, file: string, expectedMagic?: number): IdxArray {
  if (bytes.length < 4) throw new IdxFormatError(file, `too short for an IDX header (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  const known = magic === IDX_LABELS_MAGIC || magic === IDX_IMAGES_MAGIC;
  if (!known || (expectedMagic !== undefined && magic !== expectedMagic)) {
    const want =
      expectedMagic !== undefined
        ? hex(expectedMagic)
        : `${hex(IDX_LABELS_MAGIC)} (labels) or ${hex(IDX_IMAGES_MAGIC)} (images)`;
    throw new IdxFormatError(file, `wrong magic number ${hex(magic)}, expected ${want} (is this an uncompressed MNIST file?)`);
  }
  const ndims = magic & 0xff;
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new IdxFormatError(file, `truncated header: ${bytes.length} bytes, need ${headerBytes}`);
  }
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const payload = dims.reduce((a, b) => a * b, 1);
  const expected = headerBytes + payload;
  if (bytes.length < expected) {
    throw new IdxFormatError(
      file,
      `truncated: ${bytes.length} bytes, but dims [${dims.join(", ")}] need ${expected} (${expected - bytes.length} missing)`,
    );
  }
  if (bytes.length > expected) {
    throw new IdxFormatError(
      file,
      `oversized: ${bytes.length} bytes, but dims [${dims.join(", ")}] need exactly ${expected} (${bytes.length - expected} extra)`,
    );
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

/** MNIST images: count x 28 x 28 unsigned bytes. */
export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  pixels: Uint8Array;
}

export function parseIdxImages(bytes: Uint8Array, file: string): IdxImages {
  const { dims, data } = parseIdx(bytes, file, IDX_IMAGES_MAGIC);
  const [count, rows, cols] = dims as [number, number, number];
  return { count, rows, cols, pixels: data };
}

export function parseIdxLabels(bytes: Uint8Array, file: string, classes = 10): Uint8Array {
  const { data } = parseIdx(bytes, file, IDX_LABELS_MAGIC);
  for (let i = 0; i < data.length; i++) {
    if ((data[i] as number) >= classes) {
      throw new IdxFormatError(file, `label ${data[i]} at index ${i} is not a class 0..${classes - 1}`);
    }
  }
  return data;
}

export async function readIdxImages(path: string): Promise<IdxImages> {
  return parseIdxImages(await readFile(path), path);
}

export async function readIdxLabels(path: string): Promise<Uint8Array> {
  return parseIdxLabels(await readFile(path), path);
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, "0")}`;
}
