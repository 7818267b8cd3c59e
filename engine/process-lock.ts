import { hostname } from "node:os";
import { mkdir, open, readFile, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { isProcessAlive } from "./process-alive.ts";
import { PipelineError } from "./errors.ts";

/**
 * One pipeline run per project at a time. The lock is a file created with O_EXCL holding the owner's
 * pid; a lock whose owner died (kill -9, power loss) is stale and taken over, so a crash never
 * blocks the next run. A second run waits up to `waitSeconds`, then exits with a clear message.
 */
export interface ProcessLock {
  release(): Promise<void>;
}

interface Owner {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
}

export async function acquireProcessLock(path: string, waitSeconds: number, command: string): Promise<ProcessLock> {
  await mkdir(dirname(path), { recursive: true });
  const deadline = Date.now() + waitSeconds * 1000;
  for (;;) {
    const owner: Owner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command };
    try {
      const handle = await open(path, "wx");
      await handle.writeFile(JSON.stringify(owner));
      await handle.close();
      return { release: () => rm(path, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = await readOwner(path);
    const halfWritten = holder === undefined && (await ageMs(path)) > 5000;
    if (halfWritten || (holder !== undefined && holder.host === hostname() && !isProcessAlive(holder.pid))) {
      // Stale: its process is gone. Remove and retry; O_EXCL settles a race between two takers.
      await rm(path, { force: true });
      continue;
    }
    if (holder === undefined) {
      await sleep(100); // its owner is between creating and writing it
      continue;
    }
    if (Date.now() >= deadline) {
      throw new PipelineError(
        "project-locked",
        `another pipeline run holds ${path} (pid ${holder.pid} on ${holder.host}, \`${holder.command}\`, since ${holder.startedAt}). ` +
          `Wait for it to finish, or pass --wait SECONDS to queue behind it.`,
      );
    }
    await sleep(200);
  }
}

async function readOwner(path: string): Promise<Owner | undefined> {
  try {
    const owner = JSON.parse(await readFile(path, "utf8")) as Partial<Owner>;
    return typeof owner.pid === "number" ? (owner as Owner) : undefined;
  } catch {
    // Being written right now, or left half-written by a process killed in between (see ageMs).
    return undefined;
  }
}

async function ageMs(path: string): Promise<number> {
  const info = await stat(path).catch(() => undefined);
  return info ? Date.now() - info.mtimeMs : 0;
}
