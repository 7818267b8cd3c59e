/**
 * Save and load trained models in the TensorFlow.js artifact format (model.json + weights.bin),
 * without tfjs-node (whose file:// handler is the usual way, but is native and often absent).
 *
 * model.json holds tfjs's standard `weightsManifest` (so tf.io.decodeWeights / any tfjs weights
 * loader can read weights.bin) plus our own `modelTopology`: the ModelConfig, the init seed and
 * the layer summary, enough to rebuild the network with buildModel and fill in the weights.
 * Weight names are the stable layer names ("conv1/kernel", "bn1/running_mean", ...); kernels are
 * in tfjs layout (conv [kh, kw, in, out], dense [in, out]).
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { ModelConfig } from "./config.ts";
import { type LayerSummary, type MnistModel, buildModel } from "./models.ts";

export const MODEL_JSON = "model.json";
export const WEIGHTS_BIN = "weights.bin";
export const MODEL_FORMAT = "mnist-repro-functional/1";

export interface ModelTopology {
  config: ModelConfig;
  seed: number;
  inputShape: number[];
  layers: LayerSummary[];
}

/** A tf.io.IOHandler whose save and load are both present. */
export interface FileHandler extends tf.io.IOHandler {
  save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult>;
  load(): Promise<tf.io.ModelArtifacts>;
}

/** JSON-serialisable metadata stored in model.json (e.g. the experiment id and test accuracy). */
export type ModelMetadata = NonNullable<tf.io.ModelArtifacts["userDefinedMetadata"]>;

/**
 * A tf.io.IOHandler reading / writing `dir`/model.json and `dir`/weights.bin: usable with any
 * tfjs save / load (e.g. layersModel.save(fileHandler(dir))) as well as by saveModel / loadModel.
 */
export function fileHandler(dir: string): FileHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      await mkdir(dir, { recursive: true });
      const weights = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const json = {
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
      };
      // Weights first: a model.json on disk always has its weights beside it.
      await writeFile(join(dir, WEIGHTS_BIN), new Uint8Array(weights));
      await writeFile(join(dir, MODEL_JSON), `${JSON.stringify(json, null, 1)}\n`);
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const path = join(dir, MODEL_JSON);
      let json: tf.io.ModelJSON;
      try {
        json = JSON.parse(await readFile(path, "utf8")) as tf.io.ModelJSON;
      } catch (error) {
        throw new Error(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
      }
      const manifest = json.weightsManifest ?? [];
      const specs = manifest.flatMap((group) => group.weights);
      const buffers: Uint8Array[] = [];
      for (const group of manifest) for (const p of group.paths) buffers.push(await readFile(join(dir, p)));
      const weightData = tf.io.concatenateArrayBuffers(buffers.map((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer));
      const expected = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * bytesPer(s.dtype, path), 0);
      if (weightData.byteLength !== expected) {
        throw new Error(`${path}: the weight files hold ${weightData.byteLength} bytes, the manifest describes ${expected}`);
      }
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        weightSpecs: specs,
        weightData,
        userDefinedMetadata: json.userDefinedMetadata,
      };
    },
  };
}

/** Write `model` (weights and BatchNorm running statistics) to dir/model.json + dir/weights.bin. */
export async function saveModel(model: MnistModel, dir: string, metadata?: ModelMetadata): Promise<{ modelJson: string; weightsBin: string }> {
  const named: tf.NamedTensorMap = {};
  for (const v of model.allVariables) named[v.name] = v.variable;
  const { data, specs } = await tf.io.encodeWeights(named);
  const topology: ModelTopology = {
    config: model.config,
    seed: model.seed,
    inputShape: [28, 28, 1],
    layers: model.summary().layers,
  };
  await fileHandler(dir).save({
    format: MODEL_FORMAT,
    generatedBy: `TensorFlow.js tfjs-core v${tf.version_core}`,
    convertedBy: null,
    modelTopology: topology as unknown as object,
    weightSpecs: specs,
    weightData: data,
    ...(metadata ? { userDefinedMetadata: metadata } : {}),
  });
  return { modelJson: join(dir, MODEL_JSON), weightsBin: join(dir, WEIGHTS_BIN) };
}

/** Rebuild the network saved in dir and fill in its weights. */
export async function loadModel(dir: string): Promise<MnistModel> {
  const artifacts = await fileHandler(dir).load();
  const where = join(dir, MODEL_JSON);
  if (artifacts.format !== MODEL_FORMAT) {
    throw new Error(`${where}: format "${String(artifacts.format)}" is not a saved MNIST study model ("${MODEL_FORMAT}")`);
  }
  const topology = artifacts.modelTopology as unknown as ModelTopology | undefined;
  if (!topology?.config || typeof topology.seed !== "number") throw new Error(`${where}: modelTopology lacks config / seed`);
  if (!artifacts.weightSpecs || !artifacts.weightData) throw new Error(`${where}: no weights`);
  const weights = tf.io.decodeWeights(artifacts.weightData, artifacts.weightSpecs);
  const model = buildModel(topology.config, topology.seed);
  try {
    const expected = new Set(model.allVariables.map((v) => v.name));
    const extra = Object.keys(weights).filter((name) => !expected.has(name));
    const missing = [...expected].filter((name) => !(name in weights));
    if (extra.length > 0 || missing.length > 0) {
      throw new Error(`${where}: weights do not fit arch ${topology.config.arch} (missing: ${missing.join(", ") || "none"}; unexpected: ${extra.join(", ") || "none"})`);
    }
    for (const v of model.allVariables) {
      const w = weights[v.name] as tf.Tensor;
      if (!tf.util.arraysEqual(w.shape, v.variable.shape)) {
        throw new Error(`${where}: weight ${v.name} has shape [${w.shape.join(", ")}], arch ${topology.config.arch} needs [${v.variable.shape.join(", ")}]`);
      }
      v.variable.assign(w);
    }
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    tf.dispose(Object.values(weights));
  }
  return model;
}

function bytesPer(dtype: string, path: string): number {
  switch (dtype) {
    case "float32":
    case "int32":
      return 4;
    case "bool":
      return 1;
    default:
      throw new Error(`${path}: unsupported weight dtype ${dtype}`);
  }
}
