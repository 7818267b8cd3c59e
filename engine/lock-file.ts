import { readFile } from "node:fs/promises";
import { canonicalJson } from "./canonical-json.ts";
import { writeFileAtomic } from "./atomic-write.ts";
import type { CodeFingerprint } from "./code-fingerprint.ts";
import type { OutputFile } from "./result-store.ts";
import { PipelineError } from "./errors.ts";
import type { Measurement } from "./run-record.ts";

/**
 * `pipeline.lock.json`: what each stage last produced and from what — the record `status` diffs
 * against to say WHY a stage will run, and what `gc` keeps. Sorted, schema-versioned, written
 * atomically after every stage so a crash mid-run loses nothing already finished.
 */

export const LOCK_SCHEMA = 1;

export interface LockedStage {
  fingerprint: string;
  code: CodeFingerprint;
  params: Record<string, unknown>;
  /** Upstream stage → its outputHash when this stage's result was made. */
  inputs: Record<string, string>;
  /** Execution options in the key (see ExecutionOption), when the stage declares any. */
  execution?: Record<string, string>;
  outputs: { files: Record<string, OutputFile>; outputHash: string };
  /** Project-relative folder of the cached result. */
  artifact: string;
  startedAt: string;
  durationSeconds: number;
  environment: Record<string, string>;
  /** What the stage measured about its run (seconds, images/s), from its run record. */
  measurements?: Record<string, Measurement>;
  /** The stage's declared metrics (see MetricsDeclaration), so `diff` works from lock files alone. */
  metrics?: Record<string, number>;
}

export interface LockFile {
  schema: typeof LOCK_SCHEMA;
  stages: Record<string, LockedStage>;
}

export function emptyLock(): LockFile {
  return { schema: LOCK_SCHEMA, stages: {} };
}

export async function readLock(path: string): Promise<LockFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return emptyLock();
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new PipelineError(
      "corrupt-lock-file",
      `${path} is not valid JSON (${(error as Error).message}). Delete it to rebuild the record; cached results are kept.`,
    );
  }
  const lock = parsed as Partial<LockFile>;
  if (lock.schema !== LOCK_SCHEMA || typeof lock.stages !== "object" || lock.stages === null) {
    throw new PipelineError(
      "corrupt-lock-file",
      `${path} has schema ${JSON.stringify(lock.schema)}, expected ${LOCK_SCHEMA} with a "stages" object. Delete it to rebuild the record.`,
    );
  }
  return lock as LockFile;
}

export async function writeLock(path: string, lock: LockFile): Promise<void> {
  await writeFileAtomic(path, canonicalJson(lock, 2) + "\n");
}
