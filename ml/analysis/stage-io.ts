/**
 * What every analysis stage does around its core (stages/analysis-stage.ts imports this inside
 * `run`): open the trained model and its dataset, and write the outputs in one layout —
 *   analysis.json   the core's result (types.ts)
 *   <kind>.csv      the same in a table, where one fits
 *   *.vl.json / *.svg / *.png + charts.json   the charts (presentation/charts/render.ts)
 *   findings.json   title, method and the sentences the report prints
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "csv-stringify/sync";
import type { StageContext } from "../../engine/index.ts";
import type { Normalization } from "../config.ts";
import type { LoadedDataset } from "../dataset.ts";
import type { MnistModel } from "../models.ts";
import type { ChartDefinition } from "../../presentation/charts/chart-sets.ts";
import type { ModelTopology } from "../weights.ts";

export const ANALYSIS_DATA = "analysis.json";
export const ANALYSIS_FINDINGS = "findings.json";

export interface AnalysisInputs {
  modelDir: string;
  /** model.json's topology: config, seed and layer summary (readable without tfjs). */
  topology: ModelTopology;
  /** Loaded unless the analysis reads the topology only. */
  model: MnistModel | null;
  /** Loaded only when the stage has a dataset input (analyses of test images). */
  data: { dataset: LoadedDataset; normalize: Normalization | null } | null;
  dispose(): void;
}

export interface AnalysisPresentation {
  title: string;
  /** How the analysis was done, conventions included (one paragraph, same for every experiment). */
  method: string;
  /** What the numbers show for this experiment; generated from them. */
  sentences: string[];
  charts: ChartDefinition[];
  csv?: Array<Record<string, string | number>>;
}

export interface AnalysisFindings {
  kind: string;
  experiment: string;
  title: string;
  method: string;
  sentences: string[];
  files: string[];
}

export async function openAnalysisInputs(
  modelDir: string,
  datasetDir: string | undefined,
  needs: "topology" | "model" | "model-and-data",
  context: Pick<StageContext, "recordEnvironment">,
): Promise<AnalysisInputs> {
  const modelJson = join(modelDir, "model.json");
  const topology = (JSON.parse(await readFile(modelJson, "utf8")) as { modelTopology?: ModelTopology }).modelTopology;
  if (!topology?.config || !Array.isArray(topology.layers)) throw new Error(`${modelJson}: no modelTopology with config and layers`);
  if (needs === "topology") return { modelDir, topology, model: null, data: null, dispose: () => {} };
  if (needs === "model-and-data" && datasetDir === undefined) throw new Error(`analysis of ${modelDir} needs its dataset, but no preprocess input was given`);
  const { activateBackend } = await import("../backend-from-env.ts");
  await activateBackend(context);
  const { loadModel } = await import("../weights.ts");
  const model = await loadModel(modelDir);
  try {
    const dataset = datasetDir === undefined ? null : await (await import("../dataset.ts")).loadDataset(datasetDir);
    return { modelDir, topology, model, data: dataset ? { dataset, normalize: dataset.header.normalize } : null, dispose: () => model.dispose() };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/** The trained model of an analysis that declared needs "model" or "model-and-data". */
export function requireModel(inputs: AnalysisInputs): MnistModel {
  if (!inputs.model) throw new Error(`analysis of ${inputs.modelDir} needs the model, but was declared to read its topology only`);
  return inputs.model;
}

/** The model and test data of an analysis that declared needs "model-and-data". */
export function requireLoaded(inputs: AnalysisInputs): { model: MnistModel; dataset: LoadedDataset; normalize: Normalization | null } {
  if (!inputs.data) throw new Error(`analysis of ${inputs.modelDir} needs the model and its dataset, but no dataset input was given`);
  return { model: requireModel(inputs), ...inputs.data };
}

export async function writeAnalysisOutputs(outDir: string, kind: string, experiment: string, result: unknown, presentation: AnalysisPresentation): Promise<void> {
  const files = [ANALYSIS_DATA];
  await writeFile(join(outDir, ANALYSIS_DATA), JSON.stringify(result) + "\n");
  if (presentation.csv && presentation.csv.length > 0) {
    const name = `${kind}.csv`;
    await writeFile(join(outDir, name), stringify(presentation.csv, { header: true, cast: { number: (value) => String(value) } }));
    files.push(name);
  }
  const { writeCharts } = await import("../../presentation/charts/render.ts");
  await writeCharts(outDir, presentation.charts);
  const findings: AnalysisFindings = { kind, experiment, title: presentation.title, method: presentation.method, sentences: presentation.sentences, files };
  await writeFile(join(outDir, ANALYSIS_FINDINGS), JSON.stringify(findings, null, 2) + "\n");
}
