import { join } from "node:path";
import type { LocalResultStore } from "./local-result-store.ts";
import type { RemoteCache } from "./remote-cache.ts";
import { REMOTE_RECORD_SCHEMA, recordProblem } from "./remote-record.ts";

export interface PushOutcome {
  stage: string;
  record: "written" | "already-there";
  uploadedFiles: number;
  uploadedBytes: number;
  skippedFiles: number;
}

/** Transfers at once per result: enough to hide latency, few enough for a small server. */
const DEFAULT_CONCURRENCY = 8;

/**
 * Pushes one local result: rehash it (a corrupt local file is never uploaded), upload the blobs the
 * remote lacks, then write the record — last, and only if none exists. When another writer got
 * there first with different outputs, its record is kept and the stage is reported as
 * nondeterministic (two runs of the same key made different files).
 */
export async function pushResult(
  local: LocalResultStore,
  remote: RemoteCache,
  stage: string,
  fingerprint: string,
  options: { warn(message: string): void; concurrency?: number },
): Promise<PushOutcome> {
  if (!remote.writable) throw new Error(`${remote.url} is read-only here`);
  const verified = await local.verify(stage, fingerprint, { deep: true, refresh: true });
  if (!verified.ok || verified.outDir === undefined) throw new Error(`the local result of ${stage} is not intact (${verified.ok ? "not local" : verified.reason})`);
  const stored = await local.readRecord(stage, fingerprint);
  if (!stored?.run) throw new Error(`the local result of ${stage} has no run record`);
  const { manifest } = verified;
  const outDir = verified.outDir;
  let uploadedFiles = 0;
  let uploadedBytes = 0;
  let skippedFiles = 0;
  const files = Object.entries(manifest.files);
  // Identical files (the same blob under two names) are uploaded once.
  const unique = [...new Map(files.map(([file, entry]) => [entry.sha256, { file, entry }])).values()];
  await forEachConcurrently(unique, options.concurrency ?? DEFAULT_CONCURRENCY, async ({ file, entry }) => {
    if (await remote.hasBlob(entry.sha256)) {
      skippedFiles++;
      return;
    }
    await remote.putBlob(entry.sha256, entry.size, join(outDir, file));
    uploadedFiles++;
    uploadedBytes += entry.size;
  });
  const written = await remote.putRecordIfAbsent({ schema: REMOTE_RECORD_SCHEMA, stage, fingerprint, manifest, run: stored.run });
  if (written.status === "exists") {
    const problem = recordProblem(written.existing, stage, fingerprint);
    const theirs = (written.existing as { manifest?: { outputHash?: string } }).manifest?.outputHash;
    if (problem === undefined && theirs !== manifest.outputHash) {
      options.warn(`${stage} is nondeterministic: the remote already holds a different result for its key (${theirs?.slice(0, 10)} there, ${manifest.outputHash.slice(0, 10)} here); keeping the remote's`);
    }
  }
  return { stage, record: written.status === "written" ? "written" : "already-there", uploadedFiles, uploadedBytes, skippedFiles };
}

export async function forEachConcurrently<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(workers);
}
