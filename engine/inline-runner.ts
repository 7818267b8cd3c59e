import { appendFileSync } from "node:fs";
import { makeStageContext } from "./stage-context.ts";
import { runInWorkspace, type RunnerContext, type StageResult, type StageRunner } from "./stage-runner.ts";
import type { StageJob } from "./stage-job.ts";
import type { Stage } from "./stage.ts";

/** Runs a stage's `run` in this process: for light stages (reports, charts) that need no core of their own. */
export class InlineRunner implements StageRunner {
  constructor(
    private readonly stageNamed: (name: string) => Stage,
    /** Recorded as the run's runner: "inline" locally, the worker's name on a worker. */
    readonly name = "inline",
  ) {}

  run(job: StageJob, context: RunnerContext): Promise<StageResult> {
    const stage = this.stageNamed(job.stage);
    return runInWorkspace(this.name, job, context, async (prepared, sink) => {
      const log = (line: string): void => appendFileSync(prepared.workspace.logPath, line.endsWith("\n") ? line : line + "\n");
      await stage.run(makeStageContext(stage, job, prepared, sink, log, context.signal));
    });
  }
}
