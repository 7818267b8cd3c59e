/**
 * The engine's public entry for projects: what a stage file or a project definition imports. The
 * scheduler, stores, runners and CLI stay internal (pipeline.ts reaches the CLI through engine/cli.ts).
 */
export { defineForeach, defineStage } from "./stage.ts";
export { defineSweep, sweepPoints, sweepStageName, type SweepAxis, type SweepPoint, type SweepValue } from "./sweep.ts";
export type { Isolation, MetricsDeclaration, ProjectDefinition, Stage, StageContext, StageDeclaration, StageProgress } from "./stage.ts";
export type { ExecutionOption, MachineShape } from "./execution.ts";
export type { Measurement, RunRecord } from "./run-record.ts";
export type { Tolerance } from "./regression-check.ts";
export { PipelineError, type PipelineErrorReason } from "./errors.ts";
export { validateWith } from "./params-loader.ts";
export { formatPath, parsePath, type PathSegment } from "./param-path.ts";
