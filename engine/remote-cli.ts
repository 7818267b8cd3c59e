import { PipelineError } from "./errors.ts";
import type { RemoteCache } from "./remote-cache.ts";

/** The command-line side of the remote cache: which flags open which remote, with what limits. */

export const REMOTE_FLAGS = {
  remote: { type: "string" },
  "remote-read-only": { type: "boolean" },
  push: { type: "boolean" },
  "remote-timeout": { type: "string" },
  "remote-path-style": { type: "boolean" },
  "remote-checksums": { type: "string" },
  grace: { type: "string" },
  ref: { type: "string", multiple: true },
} as const;

export const REMOTE_USAGE = `Remote cache (see README, "Sharing results"):
  --remote URL         s3://bucket/prefix or file:///path (default: PIPELINE_REMOTE); results there count as
                       cached, their files are pulled (and hashed) only when read
  --remote-read-only   never write to the remote (pull requests, developers)
  --push               run: push each result as it completes (push: see the command)
  --remote-timeout S   seconds per remote request (default 30); a slow remote is a miss, not a failure
  --remote-path-style  S3: path-style addressing (most self-hosted S3-compatible servers)
  --remote-checksums M S3: WHEN_REQUIRED (default; servers that reject CRC32) or WHEN_SUPPORTED
  --grace S            gc --remote: keep records younger than this (default 86400, a day)
  --ref REF            gc --remote: keep what the lock files at REF use (repeatable; default: every branch tip)`;

interface RemoteFlags {
  remote?: string;
  "remote-read-only"?: boolean;
  "remote-timeout"?: string;
  "remote-path-style"?: boolean;
  "remote-checksums"?: string;
}

/** The remote the flags (or PIPELINE_REMOTE) name, opened; undefined when none is configured. */
export async function openConfiguredRemote(flags: RemoteFlags, env: NodeJS.ProcessEnv, warn: (message: string) => void): Promise<RemoteCache | undefined> {
  const url = flags.remote ?? (env.PIPELINE_REMOTE || undefined);
  if (url === undefined) return undefined;
  const timeout = flags["remote-timeout"] === undefined ? undefined : Number(flags["remote-timeout"]);
  if (timeout !== undefined && !(timeout > 0)) throw new PipelineError("invalid-cli", `--remote-timeout expects a positive number of seconds, got "${flags["remote-timeout"]}"`);
  const checksums = flags["remote-checksums"];
  if (checksums !== undefined && checksums !== "WHEN_REQUIRED" && checksums !== "WHEN_SUPPORTED") {
    throw new PipelineError("invalid-cli", `--remote-checksums expects WHEN_REQUIRED or WHEN_SUPPORTED, got "${checksums}"`);
  }
  const { openRemote } = await import("./open-remote.ts");
  try {
    return await openRemote(url, {
      readOnly: flags["remote-read-only"] ?? false,
      ...(timeout === undefined ? {} : { requestTimeoutMs: timeout * 1000 }),
      ...(checksums === undefined ? {} : { checksums }),
      forcePathStyle: flags["remote-path-style"] ?? false,
      onWarning: warn,
    });
  } catch (error) {
    if (error instanceof PipelineError) throw error;
    // An unreachable remote never stops a run: it only cannot help.
    warn(`${(error as Error).message}; running without the remote`);
    return undefined;
  }
}

export function graceSeconds(text: string | undefined): number {
  if (text === undefined) return 86_400;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new PipelineError("invalid-cli", `--grace expects seconds (0 or more), got "${text}"`);
  return value;
}
