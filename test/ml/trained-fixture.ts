/**
 * A small, really trained model for the analysis tests: `simple` (or another architecture) trained
 * for one epoch on 2,000 real MNIST images, with its test split of 500 images.
 */
import type { Architecture, DatasetConfig, ModelConfig } from "../../ml/config.ts";
import type { LoadedDataset } from "../../ml/dataset.ts";
import type { MnistModel } from "../../ml/models.ts";
import { trainExperiment } from "../../ml/train.ts";
import { smallDataset, tempDir, useTestBackend } from "./helpers.ts";

export interface TrainedFixture {
  model: MnistModel;
  dataset: LoadedDataset;
  cleanup: () => Promise<void>;
}

export async function trainedFixture(arch: Architecture = "simple", extra: Partial<ModelConfig> = {}, data: Partial<DatasetConfig> = {}, epochs = 1): Promise<TrainedFixture> {
  await useTestBackend();
  const tmp = await tempDir(`analysis-${arch}`);
  const dataset = await smallDataset(tmp.dir, { trainSubset: 2000, testSubset: 500, ...data });
  const model: ModelConfig = { arch, batchNorm: false, dropout: 0, convActivation: "relu", init: "pytorch", loss: "cross-entropy", ...extra };
  const result = await trainExperiment(
    { model, optimizer: { name: "adam", lr: 1e-3, momentum: 0 }, training: { epochs, batchSize: 32, seed: 5, augmentShift: 0 } },
    { train: dataset.train, background: dataset.background },
  );
  return {
    model: result.model,
    dataset,
    cleanup: async () => {
      result.model.dispose();
      await tmp.cleanup();
    },
  };
}
