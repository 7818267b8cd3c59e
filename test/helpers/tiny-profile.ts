import { mkdir, mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The shared part of the tiny real-MNIST profiles the project tests run through the engine: a
 * normalized dataset with a validation split and a raw one, each a small subset. Tests add their
 * own experiments.
 */
export function tinyProfileBase(size: { train: number; test: number; validation: number; epochs: number }): Record<string, unknown> {
  const dataset = { normalize: { mean: 0.1307, std: 0.3081 }, validation: { size: size.validation, seed: 7 }, trainSubset: size.train, testSubset: size.test };
  return {
    data: { source: { kind: "package" } },
    datasets: { tiny: dataset, "tiny-raw": { ...dataset, normalize: null, validation: null } },
    defaults: {
      model: { batchNorm: false, dropout: 0, convActivation: "relu", init: "pytorch", loss: "cross-entropy" },
      optimizer: { momentum: 0 },
      training: { seed: 3, augmentShift: 0, epochs: size.epochs, batchSize: 32 },
    },
    evaluate: { batchSize: 200 },
  };
}

/** A fresh work dir inside the repository (so child processes resolve tsx from its node_modules). */
export async function tinyWorkDir(prefix: string): Promise<string> {
  const rigs = fileURLToPath(new URL("../../.tmp/rigs/", import.meta.url));
  await mkdir(rigs, { recursive: true });
  return mkdtemp(join(rigs, prefix));
}
