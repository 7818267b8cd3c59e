import { isAbsolute } from "node:path";
import { fileURLToPath } from "node:url";
import { PipelineError } from "./errors.ts";
import { FileRemoteCache } from "./file-remote-cache.ts";
import type { RemoteCache } from "./remote-cache.ts";
import type { ChecksumMode } from "./s3-remote-cache.ts";

export interface RemoteOptions {
  /** Never write (`--remote-read-only`); a remote without write permission or credentials opens read-only anyway. */
  readOnly?: boolean;
  /** Per HTTP request (connect, first response byte, and any silence mid-transfer); S3 only. */
  requestTimeoutMs?: number;
  /** S3 only: the SDK's request checksum calculation and response validation; see S3RemoteOptions.checksums. */
  checksums?: ChecksumMode;
  /** S3 only: `http://host/bucket/key` addressing, which most self-hosted S3-compatible servers need. */
  forcePathStyle?: boolean;
  /** S3 only: attempts per request, the first included. */
  maxAttempts?: number;
  /** S3 only: overrides the endpoint from the SDK chain (`AWS_ENDPOINT_URL_S3`). */
  endpoint?: string;
  /** Conditions worth telling the user once (read-only fallback, racy record writes). */
  onWarning?: (message: string) => void;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_ATTEMPTS = 3;
export const DEFAULT_CHECKSUMS: ChecksumMode = "WHEN_REQUIRED";

const USAGE = "use s3://bucket/prefix or file:///absolute/path";

/**
 * Opens the remote a URL names: `file:///path` (a directory, e.g. a shared disk) or
 * `s3://bucket/prefix` (S3 or an S3-compatible server). A URL that is neither is a PipelineError
 * (exit 2); a remote that cannot be reached rejects with a RemoteCacheError. The AWS SDK is loaded
 * only for s3:// URLs.
 */
export async function openRemote(url: string, options: RemoteOptions = {}): Promise<RemoteCache> {
  const parsed = parseRemoteUrl(url);
  if (parsed.kind === "file") {
    return FileRemoteCache.open(parsed.root, { readOnly: options.readOnly, onWarning: options.onWarning });
  }
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  if (!Number.isFinite(requestTimeoutMs) || requestTimeoutMs <= 0) {
    throw new PipelineError("invalid-cli", `the remote request timeout must be a positive number of milliseconds, not ${requestTimeoutMs}`);
  }
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new PipelineError("invalid-cli", `the remote's attempts per request must be a whole number of at least 1, not ${maxAttempts}`);
  }
  const { openS3RemoteCache } = await import("./s3-remote-cache.ts");
  return openS3RemoteCache({
    bucket: parsed.bucket,
    prefix: parsed.prefix,
    readOnly: options.readOnly ?? false,
    requestTimeoutMs,
    maxAttempts,
    checksums: options.checksums ?? DEFAULT_CHECKSUMS,
    forcePathStyle: options.forcePathStyle ?? false,
    endpoint: options.endpoint,
    onWarning: options.onWarning,
  });
}

export type RemoteUrl = { kind: "file"; root: string } | { kind: "s3"; bucket: string; prefix: string };

export function parseRemoteUrl(url: string): RemoteUrl {
  const bad = (why: string) => new PipelineError("invalid-cli", `remote "${url}" ${why}: ${USAGE} (--remote or PIPELINE_REMOTE)`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw bad("is not a URL");
  }
  if (parsed.search !== "" || parsed.hash !== "") throw bad("has a query or fragment, which remotes do not take");
  if (parsed.protocol === "file:") {
    if (parsed.host !== "") throw bad(`names the host "${parsed.host}"; mount the share and give its local path`);
    const root = fileURLToPath(parsed);
    if (!isAbsolute(root) || root === "/") throw bad("needs an absolute directory other than /");
    return { kind: "file", root: root.replace(/\/+$/, "") };
  }
  if (parsed.protocol === "s3:") {
    if (parsed.username !== "" || parsed.password !== "") {
      throw bad("carries credentials; give them as AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, never in the URL");
    }
    const bucket = parsed.hostname;
    if (parsed.port !== "" || !/^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$/.test(bucket)) {
      throw bad(`has no valid bucket name (got "${parsed.host}"); the endpoint comes from AWS_ENDPOINT_URL_S3, not the URL`);
    }
    let path: string;
    try {
      path = decodeURIComponent(parsed.pathname);
    } catch {
      throw bad("has a malformed %-escape in its prefix");
    }
    // The URL parser has already resolved any "." and ".." segments.
    return { kind: "s3", bucket, prefix: path.split("/").filter((segment) => segment !== "").join("/") };
  }
  throw bad(`has the unsupported scheme "${parsed.protocol}"`);
}
