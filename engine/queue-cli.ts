import { PipelineError } from "./errors.ts";
import { planStages } from "./planner.ts";
import type { RemoteCache } from "./remote-cache.ts";
import { basename } from "node:path";
import type { Session } from "./session.ts";
import { parseQueueUrl } from "./stage-queue.ts";
import type { ProjectDefinition } from "./stage.ts";
import { expectedDuration } from "./scheduling.ts";
import { renderWorkPlan } from "./work-plan.ts";

/** The command-line side of distributed runs: `worker`, `run --queue`, `status --queue`, `plan --workers`. */

export const QUEUE_FLAGS = {
  queue: { type: "string" },
  concurrency: { type: "string" },
  "drain-timeout": { type: "string" },
  "stall-timeout": { type: "string" },
  workers: { type: "string" },
} as const;

export const QUEUE_USAGE = `Running on many machines (see README, "Running on many machines"):
  --queue URL          redis://HOST:PORT[/DB] (rediss:// for TLS; a password in the URL or REDIS_PASSWORD).
                       run: stages to run become jobs for workers, results come back through --remote;
                       status: also list queued and running jobs; worker: where to take jobs from
  --concurrency N      worker: stages run at once (default 1)
  --drain-timeout S    worker: on SIGTERM, seconds running stages get to finish before they go back
                       to the queue (default 5; a second SIGTERM hands them back at once)
  --stall-timeout S    worker: a worker that dies loses its jobs to others after S to 2×S seconds (default 30)
  --workers N          plan/status: estimate the wall time on N workers (plan default 2)`;

export interface QueueFlags {
  queue?: string;
  concurrency?: string;
  "drain-timeout"?: string;
  "stall-timeout"?: string;
  workers?: string;
}

/** `pipeline worker`: runs until SIGTERM/SIGINT; returns the exit code. */
export async function workerCommand(
  project: ProjectDefinition<unknown>,
  flags: QueueFlags,
  remote: RemoteCache | undefined,
  execution: Readonly<Record<string, string | undefined>>,
  log: (line: string) => void,
): Promise<number> {
  if (flags.queue === undefined) throw new PipelineError("invalid-cli", "worker needs --queue redis://HOST:PORT: the Redis the coordinator (pipeline run --queue) uses");
  if (!remote) throw new PipelineError("invalid-cli", "worker needs --remote URL (or PIPELINE_REMOTE): the shared cache its inputs come from and its results go to");
  const address = parseQueueUrl(flags.queue);
  const { StageWorker } = await import("./worker.ts");
  const worker = await StageWorker.start({
    project,
    workDir: project.root,
    address,
    remote,
    concurrency: count("--concurrency", flags.concurrency, 1),
    drainTimeoutSeconds: seconds("--drain-timeout", flags["drain-timeout"], 5),
    stallTimeoutSeconds: seconds("--stall-timeout", flags["stall-timeout"], 30, 1),
    execution,
    log,
  });
  const outcome = await new Promise<"stopped" | "gave up">((resolve) => {
    const onSignal = (): void => void worker.stop().then(resolve);
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
  // Redis clients that could not close keep reconnecting: nothing is left to do here, so leave.
  if (outcome === "gave up") process.exit(1);
  return 0;
}

/** The coordinator's runner for `run --queue`: every stage that must run becomes a job. */
export async function connectCoordinator(flags: QueueFlags, session: Session<unknown>, remote: RemoteCache | undefined, warn: (message: string) => void) {
  const address = parseQueueUrl(flags.queue!);
  if (!remote) throw new PipelineError("invalid-cli", "--queue needs --remote URL (or PIPELINE_REMOTE): workers hand results back only through the shared cache");
  const { QueueRunner } = await import("./queue-runner.ts");
  const runner = await QueueRunner.connect({ address, local: session.local, remote });
  if ((await runner.workerCount()) === 0) {
    warn(`no worker is connected to ${address.url} yet: stages wait in the queue until one starts (pipeline worker --queue ${address.url} --remote ${remote.url})`);
  }
  return runner;
}

/** `status --queue`: the jobs waiting and running, one line each. */
export async function queueStatusLines(flags: QueueFlags): Promise<string[]> {
  const address = parseQueueUrl(flags.queue!);
  const { queuedJobs } = await import("./queue-runner.ts");
  const jobs = await queuedJobs(address);
  if (jobs.length === 0) return [`Queue ${address.url}: no jobs waiting or running.`];
  const width = Math.max(...jobs.map((job) => job.stage.length));
  return [
    `Queue ${address.url}: ${jobs.filter((job) => job.state === "running").length} running, ${jobs.filter((job) => job.state !== "running").length} waiting`,
    ...jobs.map(
      (job) =>
        `  ${job.stage.padEnd(width)}  ${job.state}${job.worker ? ` on ${job.worker}` : ""} ${job.fingerprint.slice(0, 10)}${job.progress ? ` · ${job.progress}` : ""}`,
    ),
  ];
}

/** `plan --workers N` (and `status --workers N`): the pending run's wall time on N workers. */
export async function workPlan(session: Session<unknown>, selection: { only: readonly string[]; downstream: boolean; force: readonly string[] }, flags: QueueFlags): Promise<string> {
  const workers = count("--workers", flags.workers, 2);
  const plans = await planStages(session, selection);
  const pending = plans.filter((plan) => plan.state === "will-run").map((plan) => plan.stage);
  const selected = plans.map((plan) => plan.stage);
  // What the scheduler expects: a new seed takes as long as its siblings, a new experiment as its family's mean.
  const expected = (name: string): number | undefined => session.lock.stages[name]?.durationSeconds ?? (expectedDuration(session.lock.stages, name) || undefined);
  return renderWorkPlan(session.graph, pending, selected, expected, workers, basename(session.lockPath));
}

function count(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new PipelineError("invalid-cli", `${flag} expects a positive whole number, got "${text}"`);
  return value;
}

function seconds(flag: string, text: string | undefined, fallback: number, minimum = 0): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < minimum) throw new PipelineError("invalid-cli", `${flag} expects seconds (${minimum} or more), got "${text}"`);
  return value;
}
