import { defineForeach } from "../engine/index.ts";
import type { DatasetConfig } from "../ml/config.ts";
import { datasetsInUse, type Params } from "./params.ts";

/**
 * One compact uint8 store per distinct data preparation (normalization, validation split, subsets):
 * experiments naming the same dataset share it. Normalization is applied when a stage loads it.
 */
export const preprocess = defineForeach<Params>({
  name: "preprocess",
  module: import.meta.url,
  items: datasetsInUse,
  inputs: () => ({ download: "download" }),
  params: (dataset) => [`datasets[${JSON.stringify(dataset)}]`],
  async run(context, dataset) {
    const { prepareDataset } = await import("../ml/dataset.ts");
    context.progress(`preparing ${dataset}`);
    await prepareDataset(context.param<DatasetConfig>(`datasets[${JSON.stringify(dataset)}]`), context.input("download"), context.outDir);
  },
});
