import { readdir, rm, rmdir } from "node:fs/promises";
import { join, relative } from "node:path";
import type { Session } from "./session.ts";
import { readLock } from "./lock-file.ts";
import { directorySize } from "./file-hash.ts";

export interface GcResult {
  removed: string[];
  kept: number;
  freedBytes: number;
}

/** Deletes cached results that no lock file (one per params file) names, and workspaces of runs that died. */
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
  for (const path of doomed) {
    freedBytes += await directorySize(path);
    removed.push(relative(session.workDir, path));
    if (!options.dryRun) await rm(path, { recursive: true, force: true });
  }
  if (!options.dryRun) {
    for (const stageDir of await readdir(session.local.stagesDir).catch(() => [] as string[])) {
      await rmdir(join(session.local.stagesDir, stageDir)).catch(() => {}); // only succeeds when empty
    }
  }
  return { removed, kept, freedBytes };
}
