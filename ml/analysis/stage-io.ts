/**
 * What every analysis stage does around its core (stages/analysis-stage.ts imports this inside
 * `run`): open the trained model and its dataset, and write the outputs in one layout —
 *   analysis.json   the core's result (types.ts)
 *   <kind>.csv      the same in a table, where one fits
 *   *.vl.json / *.svg / *.png + charts.json   the charts (ml/report/render.ts)
 *   findings.json   title, method and the sentences the report prints
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "csv-stringify/sync";
import type { StageContext } from "../../engine/stage.ts";
import type { Normalization } from "../config.ts";
import type { LoadedDataset } from "../dataset.ts";
import type { MnistModel } from "../models.ts";
import type { ChartDefinition } from "../report/chart-sets.ts";
import type { ModelTopology } from "../weights.ts";

export const ANALYSIS_DATA = "analysis.json";
export const ANALYSIS_FINDINGS = "findings.json";

export interface AnalysisInputs {
  modelDir: string;
  /** model.json's topology: config, seed and layer summary (readable without tfjs). */
  topology: ModelTopology;
  /** Loaded only when the stage has a dataset input (analyses of test images). */
  loaded: { model: MnistModel; dataset: LoadedDataset; normalize: Normalization | null } | null;
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
  context: Pick<StageContext, "recordEnvironment">,
): Promise<AnalysisInputs> {
  const modelJson = join(modelDir, "model.json");
  const topology = (JSON.parse(await readFile(modelJson, "utf8")) as { modelTopology?: ModelTopology }).modelTopology;
  if (!topology?.config || !Array.isArray(topology.layers)) throw new Error(`${modelJson}: no modelTopology with config and layers`);
  if (datasetDir === undefined) return { modelDir, topology, loaded: null, dispose: () => {} };
  const { activateBackend } = await import("../backend-from-env.ts");
  await activateBackend(context);
  const [{ loadDataset }, { loadModel }] = await Promise.all([import("../dataset.ts"), import("../weights.ts")]);
  const [dataset, model] = await Promise.all([loadDataset(datasetDir), loadModel(modelDir)]);
  return { modelDir, topology, loaded: { model, dataset, normalize: dataset.header.normalize }, dispose: () => model.dispose() };
}

/** The model and dataset of an analysis that declared needs "model-and-data". */
export function requireLoaded(inputs: AnalysisInputs): NonNullable<AnalysisInputs["loaded"]> {
  if (!inputs.loaded) throw new Error(`analysis of ${inputs.modelDir} needs the model and its dataset, but no dataset input was given`);
  return inputs.loaded;
}

export async function writeAnalysisOutputs(outDir: string, kind: string, experiment: string, result: unknown, presentation: AnalysisPresentation): Promise<void> {
  const files = [ANALYSIS_DATA];
  await writeFile(join(outDir, ANALYSIS_DATA), JSON.stringify(result) + "\n");
  if (presentation.csv && presentation.csv.length > 0) {
    const name = `${kind}.csv`;
    await writeFile(join(outDir, name), stringify(presentation.csv, { header: true, cast: { number: (value) => String(value) } }));
    files.push(name);
  }
  const { writeCharts } = await import("../report/render.ts");
  await writeCharts(outDir, presentation.charts);
  const findings: AnalysisFindings = { kind, experiment, title: presentation.title, method: presentation.method, sentences: presentation.sentences, files };
  await writeFile(join(outDir, ANALYSIS_FINDINGS), JSON.stringify(findings, null, 2) + "\n");
}
