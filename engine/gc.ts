import { readdir, rm, rmdir, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import type { Session } from "./session.ts";
import { readLock } from "./lock-file.ts";
import { directorySize } from "./file-hash.ts";
import { toPath } from "./stage.ts";

export interface GcResult {
  removed: string[];
  kept: number;
  freedBytes: number;
  /** Code-fingerprint cache entries for file contents this checkout no longer has (counted, not listed). */
  codeCacheEntries: number;
}

/**
 * Deletes cached results that no lock file (one per params file) names, workspaces of runs that
 * died, logs of failed attempts whose stage has since succeeded under a lock, and code-fingerprint
 * cache entries of file contents the checkout no longer has (a later run recompiles what it needs).
 */
export async function collectGarbage<Params>(session: Session<Params>, options: { dryRun?: boolean } = {}): Promise<GcResult> {
  const referenced = new Set<string>();
  for (const name of await readdir(session.workDir)) {
    if (!name.endsWith(".lock.json")) continue;
    const lock = await readLock(join(session.workDir, name));
    for (const entry of Object.values(lock.stages)) referenced.add(entry.artifact);
  }
  const removed: string[] = [];
  let freedBytes = 0;
  let kept = 0;
  const doomed: string[] = [];
  for (const result of await session.local.list()) {
    const path = relative(session.workDir, result.location).split("\\").join("/");
    if (referenced.has(path)) kept++;
    else doomed.push(result.location);
  }
  doomed.push(...(await session.local.abandonedWorkspaces()));
  doomed.push(...(await supersededFailureLogs(session, referenced)));
  for (const path of doomed) {
    freedBytes += await directorySize(path);
    removed.push(relative(session.workDir, path));
    if (!options.dryRun) await rm(path, { recursive: true, force: true });
  }
  if (!options.dryRun) {
    for (const parent of [session.local.stagesDir, session.local.failedLogsDir]) {
      for (const stageDir of await readdir(parent).catch(() => [] as string[])) {
        await rmdir(join(parent, stageDir)).catch(() => {}); // only succeeds when empty
      }
    }
  }
  const codeCacheEntries = await sweepCodeCache(session, options.dryRun ?? false);
  freedBytes += codeCacheEntries.bytes;
  return { removed, kept, freedBytes, codeCacheEntries: codeCacheEntries.count };
}

/**
 * A failed attempt's log is what `logs STAGE` shows until the stage succeeds with that key (the
 * commit deletes it then). A log older than a result of the same stage that a lock names was
 * followed by a success (under another key: code or params changed since): it explains nothing
 * any more. The log of a failure nothing has fixed yet is kept.
 */
async function supersededFailureLogs<Params>(session: Session<Params>, referenced: ReadonlySet<string>): Promise<string[]> {
  const newestResult = new Map<string, number>();
  for (const artifact of referenced) {
    const stageDir = artifact.split("/").at(-2)!;
    const created = (await stat(join(session.workDir, artifact, "run.json")).catch(() => undefined))?.mtimeMs ?? 0;
    newestResult.set(stageDir, Math.max(created, newestResult.get(stageDir) ?? 0));
  }
  const logs: string[] = [];
  for (const stageDir of await readdir(session.local.failedLogsDir).catch(() => [] as string[])) {
    const succeeded = newestResult.get(stageDir);
    if (succeeded === undefined) continue;
    for (const log of await readdir(join(session.local.failedLogsDir, stageDir)).catch(() => [] as string[])) {
      const path = join(session.local.failedLogsDir, stageDir, log);
      if (((await stat(path).catch(() => undefined))?.mtimeMs ?? Infinity) < succeeded) logs.push(path);
    }
  }
  return logs;
}

async function sweepCodeCache<Params>(session: Session<Params>, dryRun: boolean): Promise<{ count: number; bytes: number }> {
  const cacheDir = join(session.workDir, "artifacts", ".code-cache");
  const inUse = session.code.cacheEntriesInUse(session.project.declarations.map((declaration) => toPath(declaration.module)));
  let count = 0;
  let bytes = 0;
  for (const entry of await readdir(cacheDir).catch(() => [] as string[])) {
    if (inUse.has(entry)) continue;
    const path = join(cacheDir, entry);
    bytes += (await stat(path).catch(() => undefined))?.size ?? 0;
    count++;
    if (!dryRun) await rm(path, { force: true });
  }
  return { count, bytes };
}
