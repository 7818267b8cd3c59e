import { formatPath } from "../engine/index.ts";
import type { AdversarialSettings } from "../ml/analysis/types.ts";
import type { Params } from "./params.ts";

/**
 * The analyses section of params.json, resolved (stage files import this, so no schema library:
 * validation is in params-schema.ts). Its own file, not params.ts, because params.ts is in every
 * training stage's code fingerprint and an analysis setting has nothing to do with training.
 *
 * Each analysis runs on its `experiments` (default: analyses.experiments) with its `settings`;
 * a stage declares only `analyses.<key>.settings`, so adding an experiment to the list runs that
 * experiment's stage and reruns none of the others.
 */

export type AnalysisKind = "layer-summary" | "prediction-grid" | "filters" | "activation-maps" | "occlusion" | "adversarial" | "misclassified";

export interface AnalysisSettingsByKind {
  "layer-summary": Record<string, never>;
  "prediction-grid": { count: number; seed: number };
  filters: { layers: number };
  "activation-maps": { testRow: number };
  occlusion: { images: number; patchSizes: number[]; stride: number; fillPixel: number };
  adversarial: AdversarialSettings;
  misclassified: { count: number };
}

export type AnalysesParams = { [K in AnalysisKind]: { experiments: string[]; settings: AnalysisSettingsByKind[K] } };

export interface ProjectParams extends Params {
  /** null when the params file has no analyses section (e.g. the CI profile). */
  analyses: AnalysesParams | null;
  report: ReportOptions;
}

/** How the report presents the results (the params file's "report" section; every field has a default). */
export interface ReportOptions {
  /**
   * Print training times and throughput, read from the trainings' run records (default true). They
   * are measurements, not content: two runs of the same key print different times. A profile whose
   * report must come out byte for byte the same on every checkout (CI's, whose lock is committed)
   * turns them off.
   */
  trainingTimes: boolean;
}

/** The param path the report and comparison-charts stages declare for ReportOptions.trainingTimes. */
export const TRAINING_TIMES_PARAM = "report.trainingTimes";

/** kind → its key in params.json (camelCase, like every other key there). */
export const ANALYSIS_KEYS: Record<AnalysisKind, string> = {
  "layer-summary": "layerSummary",
  "prediction-grid": "predictionGrid",
  filters: "filters",
  "activation-maps": "activationMaps",
  occlusion: "occlusion",
  adversarial: "adversarial",
  misclassified: "misclassified",
};

export const ANALYSIS_KINDS = Object.keys(ANALYSIS_KEYS) as AnalysisKind[];

export function analysisExperiments(params: ProjectParams, kind: AnalysisKind): string[] {
  return params.analyses?.[kind].experiments ?? [];
}

/** The resolved document keys analyses by kind (params.json by camelCase key): analyses["layer-summary"].settings. */
export function analysisSettingsPath(kind: AnalysisKind): string {
  return formatPath(["analyses", kind, "settings"]);
}

/** Every analysis stage name, e.g. "occlusion@simple-adam" (the report depends on all of them). */
export function analysisStageNames(params: ProjectParams): string[] {
  return ANALYSIS_KINDS.flatMap((kind) => analysisExperiments(params, kind).map((id) => `${kind}@${id}`));
}
