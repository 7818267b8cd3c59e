import { defineForeach, type StageDeclaration } from "../engine/index.ts";
import { ML_EXECUTION } from "./execution.ts";
import type { AnalysisInputs, AnalysisPresentation } from "../ml/analysis/stage-io.ts";
import { firstRun } from "./replicates.ts";
import { type AnalysisKind, type AnalysisSettingsByKind, type ProjectParams, analysisExperiments, analysisSettingsPath } from "./analysis-params.ts";

/**
 * The shape every analysis stage shares (one stage file per analysis, each a call of this):
 * `<kind>@<experiment>` reads the experiment's trained model (and its prepared dataset when the
 * analysis looks at test images) plus `analyses.<key>.settings`, computes its data (a pure core in
 * ml/analysis/), and writes `analysis.json`, an optional CSV, its charts and `findings.json` (the
 * report's sentences). tfjs work runs in a process of its own, like training.
 */
export interface AnalysisDeclaration<K extends AnalysisKind, Result> {
  kind: K;
  module: string;
  /** "topology": model.json only (no tfjs); "model": the trained weights; "model-and-data": also the test set. */
  needs: "topology" | "model" | "model-and-data";
  compute(inputs: AnalysisInputs, settings: AnalysisSettingsByKind[K], signal: AbortSignal): Promise<Result>;
  present(result: Result, experiment: string): Promise<AnalysisPresentation>;
}

export function defineAnalysis<K extends AnalysisKind, Result>(declaration: AnalysisDeclaration<K, Result>): StageDeclaration<ProjectParams> {
  const settingsPath = analysisSettingsPath(declaration.kind);
  return defineForeach<ProjectParams>({
    name: declaration.kind,
    module: declaration.module,
    isolation: declaration.needs === "topology" ? "inline" : "process",
    items: (params) => analysisExperiments(params, declaration.kind),
    // Only what the analysis reads is an input: a dataset change reruns the analyses of test images only.
    // The first seed's network when the experiment is replicated (stages/replicates.ts).
    inputs: (id, params) => ({ model: firstRun(params, id).train, ...(declaration.needs === "model-and-data" ? { dataset: `preprocess@${params.experiments[id]!.dataset}` } : {}) }),
    execution: declaration.needs === "topology" ? [] : ML_EXECUTION,
    params: () => [settingsPath],
    async run(context, id) {
      const io = await import("../ml/analysis/stage-io.ts");
      const modelDir = context.input("model");
      const datasetDir = declaration.needs === "model-and-data" ? context.input("dataset") : undefined;
      const inputs = await io.openAnalysisInputs(modelDir, datasetDir, declaration.needs, context);
      try {
        const settings = context.param<AnalysisSettingsByKind[K]>(settingsPath);
        const result = await declaration.compute(inputs, settings, context.signal);
        await io.writeAnalysisOutputs(context.outDir, declaration.kind, id, result, await declaration.present(result, id));
      } finally {
        inputs.dispose();
      }
    },
  });
}
