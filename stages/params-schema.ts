import { type } from "arktype";
import { PipelineError, formatPath, validateWith } from "../engine/index.ts";
import { DEFAULT_EVALUATION, type DatasetConfig, type EvaluationConfig, type ModelConfig, type OptimizerConfig, type TrainingConfig } from "../ml/config.ts";
import { ANALYSIS_KEYS, ANALYSIS_KINDS, type AnalysesParams, type ProjectParams } from "./analysis-params.ts";
import type { ResolvedExperiment } from "./params.ts";

/**
 * The schema of params.json (arktype), loaded only when a params document must be validated —
 * see ProjectDefinition.paramsModule. What the user edits: Shared settings live once in `defaults`; each experiment
 * overrides only what differs. `parseParams` validates (unknown keys are typos, and rejected),
 * merges the defaults and returns the resolved document that stages declare paths into, e.g.
 * `experiments.simple-adam.training` — so editing one experiment reruns that experiment only.
 */

const architecture = "'cnn9' | 'conv1' | 'simple' | 'lenet' | 'textbook' | 'textbook-plus' | 'textbook-hints'";
const probability = "0 <= number <= 1";

const modelFields = {
  "+": "reject",
  "arch?": architecture,
  "batchNorm?": "boolean",
  "dropout?": probability,
  "convActivation?": "'relu' | 'sigmoid'",
  "init?": "'pytorch' | 'he-normal' | 'xavier-uniform'",
  "loss?": "'cross-entropy' | 'log-softmax-nll'",
} as const;
const optimizerFields = {
  "+": "reject",
  "name?": "'sgd' | 'rmsprop' | 'adam'",
  "lr?": "0 < number <= 10",
  "momentum?": "0 <= number < 1",
  "schedule?": "'constant' | 'cosine'",
} as const;
const MAX_SEED = 4294967295;
/**
 * Replicates: how many seeds (a count: `seed`, `seed + 1`, …) or which (a list; its first is the
 * run the analyses use). Resolved into the experiment's `seeds`, never into `training`, so adding a
 * seed changes no existing run's key.
 */
const seeds = type("1 <= number.integer <= 100").or(type(`(0 <= number.integer <= ${MAX_SEED})[] > 0`));
const trainingFields = {
  "+": "reject",
  "epochs?": "1 <= number.integer <= 1000",
  "batchSize?": "1 <= number.integer <= 65536",
  "seed?": `0 <= number.integer <= ${MAX_SEED}`,
  "seeds?": seeds,
  "augmentShift?": "0 <= number.integer <= 8",
  "selectEpoch?": "'last' | 'best-validation-accuracy'",
} as const;

/** How the experiment is evaluated (ml/config.ts EvaluationConfig); every field optional, DEFAULT_EVALUATION fills the rest. */
const evaluationFields = {
  "+": "reject",
  "batchNorm?": "'running-statistics' | 'batch-statistics'",
  "batchSize?": "2 <= number.integer <= 10000",
  "testEachEpoch?": "boolean",
} as const;

const dataset = type({
  "+": "reject",
  normalize: type({ "+": "reject", mean: "number", std: "number > 0" }).or("null"),
  validation: type({ "+": "reject", size: "1 <= number.integer <= 59999", seed: "0 <= number.integer <= 4294967295" }).or("null"),
  trainSubset: "1 <= number.integer <= 60000 | null",
  testSubset: "1 <= number.integer <= 10000 | null",
});

const experiment = type({
  "+": "reject",
  title: "string",
  study: "'000' | '001' | '002' | '003' | '004' | 'ours'",
  dataset: "string",
  // accuracy: the study's published value (null when it printed none); target: a threshold to reach (004's 99.5%), judged on its own.
  reference: type({ "+": "reject", accuracy: `${probability} | null`, "note?": "string", "target?": probability }),
  "model?": modelFields,
  "optimizer?": optimizerFields,
  "training?": trainingFields,
  "evaluation?": evaluationFields,
});

const seed = "0 <= number.integer <= 4294967295";
const onExperiments = { "+": "reject", "experiments?": "string[]" } as const;
/** Which trained experiments get which analysis, and each analysis' settings (stages/analysis-params.ts). */
const analyses = type({
  "+": "reject",
  "$comment?": "string",
  experiments: "string[]",
  seed,
  layerSummary: onExperiments,
  predictionGrid: { ...onExperiments, count: "1 <= number.integer <= 100" },
  filters: { ...onExperiments, layers: "1 <= number.integer <= 4" },
  activationMaps: { ...onExperiments, testRow: "0 <= number.integer <= 9999" },
  occlusion: {
    ...onExperiments,
    images: "1 <= number.integer <= 100",
    patchSizes: "(1 <= number.integer <= 28)[] > 0",
    stride: "1 <= number.integer <= 28",
    fillPixel: probability,
  },
  adversarial: {
    ...onExperiments,
    noiseMean: "number",
    noiseStd: "number >= 0",
    step: "number > 0",
    iterations: "1 <= number.integer <= 10000",
    clampMin: "number",
    clampMax: "number",
    beta: "number >= 0",
  },
  misclassified: { ...onExperiments, count: "1 <= number.integer <= 100" },
});

const document = type({
  "+": "reject",
  "$comment?": "string",
  data: { "+": "reject", source: type({ "+": "reject", kind: "'package'" }).or({ "+": "reject", kind: "'url'", baseUrl: "string" }) },
  datasets: type({ "[string]": dataset }),
  defaults: { "+": "reject", model: modelFields, optimizer: optimizerFields, training: trainingFields, "evaluation?": evaluationFields },
  evaluate: { "+": "reject", batchSize: "1 <= number.integer <= 10000" },
  "check?": {
    "+": "reject",
    tolerances: type({
      "[string]": { "+": "reject", better: "'higher' | 'lower'", "absolute?": "number >= 0", "relative?": "number >= 0" },
    }),
  },
  experiments: type({ "[string]": experiment }),
  "analyses?": analyses,
  "report?": { "+": "reject", "trainingTimes?": "boolean" },
});

const resolvedModel = type({ arch: architecture, batchNorm: "boolean", dropout: probability, convActivation: "string", init: "string", loss: "string" });
const resolvedOptimizer = type({ name: "string", lr: "number", momentum: "number" });
const resolvedTraining = type({ epochs: "number", batchSize: "number", seed: "number", augmentShift: "number" });

type ParamsDocument = typeof document.infer;

export function parseParams(input: unknown, sourceName: string): ProjectParams {
  const raw = validateWith(document, input, sourceName);
  const experiments: Record<string, ResolvedExperiment> = {};
  const problems: string[] = [];
  for (const [id, entry] of Object.entries(raw.experiments)) {
    const at = (...rest: string[]): string => formatPath(["experiments", id, ...rest]);
    if (!(entry.dataset in raw.datasets)) {
      problems.push(`  ${at("dataset")}: expected one of the datasets (${Object.keys(raw.datasets).join(", ")}), found "${entry.dataset}"`);
    }
    const { seeds: seedsSpec, ...training } = { ...raw.defaults.training, ...entry.training };
    const merged = {
      model: { ...raw.defaults.model, ...entry.model },
      optimizer: { ...raw.defaults.optimizer, ...entry.optimizer },
      training,
    };
    if (merged.training.selectEpoch === "best-validation-accuracy" && raw.datasets[entry.dataset] && raw.datasets[entry.dataset]!.validation === null) {
      problems.push(`  ${at("training", "selectEpoch")}: "best-validation-accuracy" needs a validation split, but dataset "${entry.dataset}" has none (set datasets.${entry.dataset}.validation)`);
    }
    const evaluation = resolveEvaluation({ ...raw.defaults.evaluation, ...entry.evaluation }, at, problems);
    const seedList = resolveSeeds(seedsSpec, merged.training, entry.training ?? {}, at, problems);
    for (const [section, schema] of [["model", resolvedModel], ["optimizer", resolvedOptimizer], ["training", resolvedTraining]] as const) {
      const result = schema(merged[section]);
      if (result instanceof type.errors) {
        for (const error of result) {
          problems.push(`  ${at(section, ...error.path.map(String))}: missing — set it in the experiment or in ${formatPath(["defaults", section])}`);
        }
      }
    }
    experiments[id] = {
      id,
      title: entry.title,
      study: entry.study,
      dataset: entry.dataset,
      reference: entry.reference,
      model: merged.model as ModelConfig,
      optimizer: merged.optimizer as OptimizerConfig,
      training: merged.training as TrainingConfig,
      evaluation,
      seeds: seedList,
    };
  }
  if (Array.isArray(raw.defaults.training.seeds) && raw.defaults.training.seed !== undefined) {
    problems.push("  defaults.training: sets both seed and a list of seeds; give either seed (with a count in seeds) or the list alone");
  }
  if (Object.keys(experiments).length === 0) problems.push("  experiments: expected at least one experiment, found none");
  const resolvedAnalyses = raw.analyses ? resolveAnalyses(raw.analyses, experiments, problems) : null;
  if (problems.length > 0) {
    throw new PipelineError("invalid-params", `${sourceName} is invalid (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems.join("\n")}`);
  }
  return {
    data: raw.data,
    datasets: raw.datasets as Record<string, DatasetConfig>,
    evaluate: raw.evaluate,
    check: raw.check ?? { tolerances: {} },
    experiments,
    analyses: resolvedAnalyses,
    report: { trainingTimes: raw.report?.trainingTimes ?? true },
  };
}

/**
 * An experiment's evaluation with the defaults filled in. A batch size belongs to batch statistics
 * only (there it changes the numbers); in eval mode it would be a setting that does nothing.
 */
function resolveEvaluation(
  given: { batchNorm?: EvaluationConfig["batchNorm"]; batchSize?: number; testEachEpoch?: boolean },
  at: (...rest: string[]) => string,
  problems: string[],
): EvaluationConfig {
  const batchNorm = given.batchNorm ?? DEFAULT_EVALUATION.batchNorm;
  if (batchNorm === "batch-statistics" && given.batchSize === undefined) {
    problems.push(`  ${at("evaluation", "batchSize")}: missing — batch statistics depend on the batch, so give its size (002's loaders: 64)`);
  }
  if (batchNorm === "running-statistics" && given.batchSize !== undefined) {
    problems.push(
      `  ${at("evaluation", "batchSize")}: applies to batchNorm "batch-statistics" only (with running statistics the batch changes speed, not results: that is evaluate.batchSize)`,
    );
  }
  return { batchNorm, batchSize: batchNorm === "batch-statistics" ? (given.batchSize ?? null) : null, testEachEpoch: given.testEachEpoch ?? DEFAULT_EVALUATION.testEachEpoch };
}

/**
 * An experiment's seeds: null when `seeds` is not set (one run at `training.seed`, its stages named
 * without a seed); a count n gives `seed` … `seed + n − 1`; a list is taken as written and its first
 * entry becomes `training.seed`, the run the analyses use. Setting both `seed` and a list where
 * one would override the other is refused rather than guessed.
 */
function resolveSeeds(
  spec: number | number[] | undefined,
  training: { seed?: number },
  own: { seed?: number; seeds?: number | number[] },
  at: (...rest: string[]) => string,
  problems: string[],
): number[] | null {
  if (spec === undefined) return null;
  if (typeof spec === "number") {
    if (training.seed === undefined) return null; // reported as a missing seed
    if (training.seed + spec - 1 > MAX_SEED) problems.push(`  ${at("training", "seeds")}: ${spec} seeds from ${training.seed} run past ${MAX_SEED}`);
    return Array.from({ length: spec }, (_, index) => training.seed! + index);
  }
  const repeated = spec.find((seed, index) => spec.indexOf(seed) !== index);
  if (repeated !== undefined) problems.push(`  ${at("training", "seeds")}: the seed ${repeated} is listed twice`);
  if (own.seed !== undefined && (own.seeds !== undefined || training.seed !== spec[0])) {
    problems.push(
      `  ${at("training")}: sets seed ${own.seed} while ${own.seeds !== undefined ? "it" : "defaults.training"} lists the seeds (${spec.join(", ")}); ` +
        "give either seed (with a count in seeds) or the list alone",
    );
  }
  training.seed = spec[0]!;
  return [...spec];
}

/** Per-analysis experiment lists (defaulting to analyses.experiments) checked against the experiments; the shared seed copied into the settings that use it. */
function resolveAnalyses(raw: typeof analyses.infer, experiments: Record<string, ResolvedExperiment>, problems: string[]): AnalysesParams {
  const known = Object.keys(experiments);
  const check = (ids: readonly string[], path: Array<string | number>): void => {
    ids.forEach((id, index) => {
      if (!(id in experiments)) problems.push(`  ${formatPath([...path, index])}: expected one of the experiments (${known.join(", ")}), found "${id}"`);
      else if (ids.indexOf(id) !== index) problems.push(`  ${formatPath([...path, index])}: "${id}" is listed twice`);
    });
  };
  check(raw.experiments, ["analyses", "experiments"]);
  const entry = <K extends keyof typeof ANALYSIS_KEYS>(kind: K) => {
    const key = ANALYSIS_KEYS[kind] as Exclude<keyof typeof raw, "$comment" | "experiments" | "seed">;
    const { experiments: own, ...settings } = raw[key] as { experiments?: string[] } & Record<string, unknown>;
    if (own) check(own, ["analyses", key, "experiments"]);
    return { experiments: own ?? raw.experiments, settings };
  };
  const resolved = Object.fromEntries(ANALYSIS_KINDS.map((kind) => [kind, entry(kind)])) as unknown as AnalysesParams;
  resolved["prediction-grid"].settings.seed = raw.seed;
  resolved.adversarial.settings.seed = raw.seed;
  raw.occlusion.patchSizes.forEach((size, index) => {
    if (raw.occlusion.patchSizes.indexOf(size) !== index) problems.push(`  ${formatPath(["analyses", "occlusion", "patchSizes", index])}: ${size} is listed twice`);
  });
  if (raw.adversarial.clampMin >= raw.adversarial.clampMax) {
    problems.push(`  analyses.adversarial.clampMax: expected more than clampMin (${raw.adversarial.clampMin}), found ${raw.adversarial.clampMax}`);
  }
  return resolved;
}

