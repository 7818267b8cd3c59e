import type { ConnectionOptions, JobsOptions } from "bullmq";
import { PipelineError } from "./errors.ts";
import { describeFailure, type StageFailure } from "./failure.ts";
import type { ResultRef } from "./result-store.ts";
import type { RunRecord } from "./run-record.ts";

/**
 * What the coordinator (engine/queue-runner.ts) and the workers (engine/worker.ts) agree on: the
 * BullMQ queue a run's stage jobs go through, how a job is named, and what travels back. Only
 * references and run records go through Redis; results travel through the remote cache.
 */

export const QUEUE_NAME = "pipeline-stages";

/** What a worker returns for a job: where its result is, how it was made, and the costs around the run. */
export interface QueueResult {
  schema: 1;
  ref: ResultRef;
  record: RunRecord;
  worker: string;
  /** True when the remote already held the result, so the worker ran nothing. */
  reused: boolean;
  /** Seconds the worker spent pulling inputs from, and pushing the result to, the remote. */
  pullSeconds: number;
  pushSeconds: number;
}

/** A job's progress as the worker reports it (BullMQ's job.updateProgress takes any JSON). */
export interface QueueProgress {
  worker: string;
  text: string;
  fraction?: number;
}

/**
 * Retries are for infrastructure failures only (a stage process killed, a failed push): a stage
 * that throws fails with BullMQ's UnrecoverableError and is not retried. A worker that dies is
 * BullMQ's "stalled" case: its lock expires and another worker takes the job, without an attempt.
 * Finished jobs are kept a while so a second coordinator asking for the same key sees the answer.
 */
export const JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: "exponential", delay: 5_000 },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
};

/**
 * One job per (stage, fingerprint), so two coordinators asking for the same result share one job
 * (BullMQ ignores an add whose id exists). BullMQ keys are `prefix:queue:id`, so an id must not
 * contain ":"; "%" is escaped too, keeping the mapping one-to-one. Fingerprints are hex.
 */
export function jobIdFor(stage: string, fingerprint: string): string {
  return `${stage.replace(/[%:]/g, (char) => encodeURIComponent(char))}~${fingerprint}`;
}

/** The line a job's failure carries before its data, so dashboards show something readable. */
const FAILURE_MARKER = "pipeline-failure:";

export function encodeFailure(failure: StageFailure): string {
  return `${describeFailure(failure)}\n${FAILURE_MARKER}${JSON.stringify(failure)}`;
}

/** A failed job's reason as a StageFailure; BullMQ's own reasons (a job stalled too often) mean a lost worker. */
export function decodeFailure(failedReason: string | undefined): StageFailure {
  const line = failedReason?.split("\n").find((candidate) => candidate.startsWith(FAILURE_MARKER));
  if (line !== undefined) {
    try {
      const failure = JSON.parse(line.slice(FAILURE_MARKER.length)) as StageFailure;
      if (typeof failure?.reason === "string") return failure;
    } catch {
      // Fall through: an unreadable reason is reported as it is.
    }
  }
  return { reason: "lost-worker", detail: failedReason?.trim() || "the job failed without a reason" };
}

export interface QueueAddress {
  /** For messages: the URL without its password. */
  url: string;
  connection: ConnectionOptions;
}

/**
 * `redis://[[user]:password@]host[:port][/db]`, or `rediss://` for TLS. Credentials may come from
 * the URL or REDIS_PASSWORD (kept out of shell history and process lists).
 */
export function parseQueueUrl(text: string, env: NodeJS.ProcessEnv = process.env): QueueAddress {
  const bad = (why: string): PipelineError =>
    new PipelineError("invalid-cli", `--queue "${text}" ${why}: expected redis://HOST:PORT (or rediss:// for TLS, /N for a database)`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw bad("is not a URL");
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") throw bad(`has the scheme "${url.protocol}"`);
  if (url.hostname === "") throw bad("names no host");
  const port = url.port === "" ? 6379 : Number(url.port);
  const dbText = url.pathname.replace(/^\/+/, "");
  if (dbText !== "" && !/^\d+$/.test(dbText)) throw bad(`has "${url.pathname}" where a database number belongs`);
  if (url.search !== "" || url.hash !== "") throw bad("has a query or fragment");
  const password = url.password !== "" ? decodeURIComponent(url.password) : env.REDIS_PASSWORD || undefined;
  const username = url.username !== "" ? decodeURIComponent(url.username) : undefined;
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const shown = new URL(text);
  if (shown.password !== "") shown.password = "***";
  return {
    url: shown.href.replace(/\/$/, ""),
    connection: {
      host,
      port,
      ...(username ? { username } : {}),
      ...(password ? { password } : {}),
      ...(dbText !== "" ? { db: Number(dbText) } : {}),
      ...(url.protocol === "rediss:" ? { tls: { servername: host } } : {}),
      // BullMQ's workers block on Redis and need commands to wait across reconnections.
      maxRetriesPerRequest: null,
    },
  };
}

/** Resolves with the promise, or rejects after `ms` with `message`; the timer never keeps the process alive. */
export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
      timer.unref();
    }),
  ]);
}
