import { execFile } from "node:child_process";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { PipelineError } from "./errors.ts";
import { readLock, type LockFile } from "./lock-file.ts";
import type { RemoteCache } from "./remote-cache.ts";
import { forEachConcurrently, pushResult } from "./remote-push.ts";
import { recordProblem } from "./remote-record.ts";
import type { Session } from "./session.ts";

/** `push`, `pull` and `gc --remote`: moving the results a lock names between here and a remote. */

const run = promisify(execFile);

/** The lock's stages, or those matching `only`, with the fingerprints it names. */
function lockedResults<Params>(session: Session<Params>, only: readonly string[]): Array<{ stage: string; fingerprint: string }> {
  const names = only.length > 0 ? session.graph.match(only) : new Set(Object.keys(session.lock.stages));
  return Object.entries(session.lock.stages)
    .filter(([stage]) => names.has(stage))
    .map(([stage, entry]) => ({ stage, fingerprint: entry.fingerprint }));
}

export async function pushCommand<Params>(session: Session<Params>, remote: RemoteCache, only: readonly string[], warn: (message: string) => void): Promise<string> {
  if (!remote.writable) throw new PipelineError("invalid-cli", `${remote.url} is opened read-only (--remote-read-only or no write credentials): nothing can be pushed`);
  const started = performance.now();
  const results = lockedResults(session, only);
  let files = 0;
  let bytes = 0;
  let written = 0;
  const failed: string[] = [];
  // Results one after another, each result's blobs in parallel: a record is written only after its blobs.
  for (const { stage, fingerprint } of results) {
    try {
      const outcome = await pushResult(session.local, remote, stage, fingerprint, { warn });
      files += outcome.uploadedFiles;
      bytes += outcome.uploadedBytes;
      if (outcome.record === "written") written++;
    } catch (error) {
      failed.push(`${stage}: ${(error as Error).message}`);
    }
  }
  for (const failure of failed) warn(`not pushed: ${failure}`);
  const seconds = (performance.now() - started) / 1000;
  return `pushed ${results.length - failed.length} of ${results.length} results to ${remote.url} (${written} new records, ${files} files uploaded, ${(bytes / 2 ** 20).toFixed(1)} MiB) in ${seconds.toFixed(1)}s`;
}

export async function pullCommand<Params>(session: Session<Params>, only: readonly string[], warn: (message: string) => void): Promise<string> {
  const started = performance.now();
  const results = lockedResults(session, only);
  let pulled = 0;
  let bytes = 0;
  const missing: string[] = [];
  await forEachConcurrently(results, 4, async ({ stage, fingerprint }) => {
    const before = await session.local.verify(stage, fingerprint, { deep: false, refresh: false });
    if (before.ok) return;
    try {
      await session.store.materialize(stage, fingerprint);
      const record = await session.local.readRecord(stage, fingerprint);
      pulled++;
      bytes += Object.values(record?.manifest.files ?? {}).reduce((sum, file) => sum + file.size, 0);
    } catch (error) {
      missing.push(`${stage}: ${(error as Error).message}`);
    }
  });
  for (const miss of missing) warn(`not pulled: ${miss}`);
  const seconds = (performance.now() - started) / 1000;
  const here = results.length - pulled - missing.length;
  return `pulled ${pulled} results (${(bytes / 2 ** 20).toFixed(1)} MiB) in ${seconds.toFixed(1)}s; ${here} ${here === 1 ? "was" : "were"} already here${missing.length ? `, ${missing.length} could not be pulled` : ""}`;
}

/**
 * Deletes the remote's records that no lock file references at the given git refs (default: every
 * branch tip) or in this working tree, and that are older than `graceSeconds` (so a teammate's push
 * whose lock is not committed yet survives); then the blobs no remaining record references.
 */
export async function remoteGc<Params>(
  session: Session<Params>,
  remote: RemoteCache,
  options: { refs: readonly string[]; graceSeconds: number; dryRun: boolean },
): Promise<{ lines: string[]; records: number; blobs: number }> {
  if (!options.dryRun && !remote.writable) throw new PipelineError("invalid-cli", `${remote.url} is opened read-only: gc --remote needs write access (or use --dry-run)`);
  const referenced = new Set<string>();
  const keep = (lock: LockFile): void => {
    for (const [stage, entry] of Object.entries(lock.stages)) referenced.add(`${stage}\n${entry.fingerprint}`);
  };
  for (const name of (await readdir(session.workDir)).filter((file) => file.endsWith(".lock.json"))) keep(await readLock(join(session.workDir, name)));
  const refs = options.refs.length > 0 ? options.refs : await branchTips(session.project.root);
  for (const ref of refs) for (const lock of await locksAt(session.project.root, ref)) keep(lock);

  const cutoff = Date.now() - options.graceSeconds * 1000;
  const lines: string[] = [];
  const liveBlobs = new Set<string>();
  let records = 0;
  for await (const entry of remote.listRecords()) {
    if (referenced.has(`${entry.stage}\n${entry.fingerprint}`) || entry.modified.getTime() > cutoff) {
      const raw = await remote.getRecord(entry.stage, entry.fingerprint).catch(() => undefined);
      if (raw !== undefined && recordProblem(raw, entry.stage, entry.fingerprint) === undefined) {
        for (const file of Object.values((raw as { manifest: { files: Record<string, { sha256: string }> } }).manifest.files)) liveBlobs.add(file.sha256);
      }
      continue;
    }
    lines.push(`${options.dryRun ? "would delete" : "deleted"} record ${entry.stage} ${entry.fingerprint.slice(0, 10)}`);
    if (!options.dryRun) await remote.deleteRecord(entry.stage, entry.fingerprint);
    records++;
  }
  let blobs = 0;
  for await (const blob of remote.listBlobs()) {
    if (liveBlobs.has(blob.sha256)) continue;
    lines.push(`${options.dryRun ? "would delete" : "deleted"} blob ${blob.sha256.slice(0, 12)} (${blob.size} bytes)`);
    if (!options.dryRun) await remote.deleteBlob(blob.sha256);
    blobs++;
  }
  lines.push(`${options.dryRun ? "would delete" : "deleted"} ${records} records and ${blobs} blobs; kept what the lock files at ${refs.length} refs and this working tree reference`);
  return { lines, records, blobs };
}

async function branchTips(root: string): Promise<string[]> {
  try {
    const { stdout } = await run("git", ["for-each-ref", "--format=%(refname)", "refs/heads", "refs/remotes"], { cwd: root });
    return stdout.split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

async function locksAt(root: string, ref: string): Promise<LockFile[]> {
  const { stdout } = await run("git", ["ls-tree", "--name-only", ref], { cwd: root }).catch(() => {
    throw new PipelineError("invalid-cli", `"${ref}" is not a git ref of ${root}`);
  });
  const locks: LockFile[] = [];
  for (const name of stdout.split("\n").filter((file) => file.endsWith(".lock.json"))) {
    const { stdout: text } = await run("git", ["show", `${ref}:${name}`], { cwd: root, maxBuffer: 64 * 2 ** 20 });
    try {
      const lock = JSON.parse(text) as LockFile;
      if (typeof lock.stages === "object" && lock.stages !== null) locks.push(lock);
    } catch {
      // A lock file that does not parse at some old ref protects nothing; it never blocks a gc.
    }
  }
  return locks;
}
