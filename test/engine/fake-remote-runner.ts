import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { CodeFingerprinter } from "../../engine/code-fingerprint.ts";
import { StageFailureError } from "../../engine/failure.ts";
import { LocalResultStore } from "../../engine/local-result-store.ts";
import { copyResult } from "../../engine/result-transfer.ts";
import { makeStageContext } from "../../engine/stage-context.ts";
import { codeDifferences, projectAbsolute, type StageJob } from "../../engine/stage-job.ts";
import { runInWorkspace, type RunnerContext, type StageResult, type StageRunner } from "../../engine/stage-runner.ts";
import type { ProjectDefinition } from "../../engine/stage.ts";

/**
 * A stand-in for a worker on another machine, in this process: it sees a job only after a JSON round
 * trip, has its own checkout (`checkout`) and its own result store, fetches inputs by reference from
 * the coordinator's store (hash-checked), refuses a job its checkout would key differently, and
 * hands the result back only through the store. What a queue-backed runner will do over the network.
 */
export class FakeRemoteRunner implements StageRunner {
  readonly name = "fake-remote";
  readonly store: LocalResultStore;
  /** Each job as the worker received it. */
  readonly received: StageJob[] = [];

  constructor(private readonly checkout: string) {
    this.store = new LocalResultStore(join(checkout, "worker-artifacts"));
  }

  async run(sent: StageJob, context: RunnerContext): Promise<StageResult> {
    const job = JSON.parse(JSON.stringify(sent)) as StageJob;
    this.received.push(job);
    const project = ((await import(pathToFileURL(projectAbsolute(this.checkout, job.projectModule)).href)) as { project: ProjectDefinition<unknown> }).project;
    const stage = project.declarations.flatMap((declaration) => declaration.expand(job.params)).find((candidate) => candidate.name === job.stage);
    if (!stage) throw new StageFailureError({ reason: "code-mismatch", files: [`${job.projectModule} declares no stage ${job.stage}`] });
    const differing = codeDifferences(job, new CodeFingerprinter(this.checkout), stage.module);
    if (differing.length > 0) throw new StageFailureError({ reason: "code-mismatch", files: differing });
    for (const ref of Object.values(job.inputs)) {
      const held = await this.store.verify(ref.stage, ref.fingerprint, { deep: true, refresh: false });
      if (!held.ok || held.manifest.outputHash !== ref.outputHash) await copyResult(context.store, this.store, ref);
    }
    const result = await runInWorkspace(this.name, job, { ...context, store: this.store }, async (prepared, sink) => {
      const log = (line: string): void => appendFileSync(prepared.workspace.logPath, line + "\n");
      await stage.run(makeStageContext(stage, job, prepared, sink, log, context.signal));
    });
    await copyResult(this.store, context.store, { stage: job.stage, fingerprint: job.fingerprint, outputHash: result.manifest.outputHash });
    return JSON.parse(JSON.stringify(result)) as StageResult;
  }
}
