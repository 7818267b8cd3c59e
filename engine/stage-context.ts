import { readDeclaredParam } from "./fingerprint.ts";
import type { PreparedRun, RunSink } from "./stage-runner.ts";
import type { StageJob } from "./stage-job.ts";
import type { Stage, StageContext } from "./stage.ts";

/** The context a stage's `run` receives, built the same way inline and in a stage process. */
export function makeStageContext(
  stage: Stage,
  job: StageJob,
  prepared: PreparedRun,
  sink: RunSink,
  log: (line: string) => void,
  signal: AbortSignal,
): StageContext {
  const declaredRole = (role: string): void => {
    if (!(role in prepared.inputDirs)) {
      throw new Error(`stage "${stage.name}" read the input "${role}" without declaring it; declared: ${Object.keys(prepared.inputDirs).join(", ") || "none"}`);
    }
  };
  return {
    name: stage.name,
    outDir: prepared.workspace.outDir,
    inputs: prepared.inputDirs,
    input(role) {
      declaredRole(role);
      return prepared.inputDirs[role]!;
    },
    inputRecord(role) {
      declaredRole(role);
      return prepared.inputRecords[role];
    },
    params: job.declaredParams,
    param: <T>(path: string) => readDeclaredParam<T>(stage.name, job.declaredParams, path),
    execution: job.execution,
    progress: (update) => sink.progress(typeof update === "string" ? { text: update } : update),
    recordEnvironment: (facts) => sink.environment(facts),
    recordMeasurements: (values) => sink.measurements(values),
    log,
    signal,
  };
}
