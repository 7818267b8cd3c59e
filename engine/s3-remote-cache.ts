import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { PassThrough, Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  paginateListObjectsV2,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type { RemoteCache, RemoteRecord } from "./remote-cache.ts";
import { RemoteCacheError } from "./remote-cache-error.ts";
import { blobKey, checkSha256, parseBlobKey, parseRecordKey, recordKey } from "./remote-layout.ts";

/**
 * A remote cache in an S3 bucket or any S3-compatible server (MinIO, Ceph RGW, R2, …), on the AWS
 * SDK v3. Credentials, region and endpoint come from the SDK's standard chain: `AWS_*` variables,
 * `AWS_PROFILE` and the shared config files, `AWS_ENDPOINT_URL_S3` for S3-compatible servers. This
 * module is only imported when an `s3://` remote is used (engine/open-remote.ts), so runs without
 * one never load the SDK.
 */

export type ChecksumMode = "WHEN_REQUIRED" | "WHEN_SUPPORTED";

export interface S3RemoteOptions {
  bucket: string;
  /** Key prefix without leading or trailing "/"; "" for the bucket's root. */
  prefix: string;
  readOnly: boolean;
  /**
   * Each HTTP request must connect, and get its response headers, within this many ms, and no
   * connection may sit silent longer (a body that stalls midway fails too). The SDK retries a
   * timed-out request, so a dead server fails an operation after about maxAttempts × this.
   */
  requestTimeoutMs: number;
  /** Attempts per request, the first included (the SDK's retry with backoff, for 5xx, throttling, timeouts). */
  maxAttempts: number;
  /**
   * The SDK's `requestChecksumCalculation` and `responseChecksumValidation`. Since v3.729 the SDK
   * sends CRC32 checksums on every upload by default, which many S3-compatible servers reject
   * (aws-sdk-js-v3 #6810); WHEN_REQUIRED sends them only where the API demands one. Content is
   * checked by its SHA-256 on both sides anyway.
   */
  checksums: ChecksumMode;
  /** `http://host/bucket/key` instead of `http://bucket.host/key`; most self-hosted servers need it. */
  forcePathStyle: boolean;
  /** Overrides the SDK chain's endpoint (`AWS_ENDPOINT_URL_S3`, profile `endpoint_url`). */
  endpoint?: string;
  /** Blobs larger than this are uploaded in parts of this size (S3's minimum part is 5 MiB). */
  partSizeBytes?: number;
  /** Keys per listing request (S3's maximum and default is 1000). */
  listPageSize?: number;
  onWarning?: (message: string) => void;
}

export const DEFAULT_PART_SIZE_BYTES = 8 * 1024 * 1024;
const MIN_PART_SIZE_BYTES = 5 * 1024 * 1024;
/** S3-compatible servers rarely care about the region, but the SDK needs one to sign. */
const FALLBACK_REGION = "us-east-1";

/** Whether the server honours `If-None-Match: *` on PUT; found by a probe the first time a record is written. */
type ConditionalWrites = "enforced" | "ignored";

export async function openS3RemoteCache(options: S3RemoteOptions): Promise<S3RemoteCache> {
  // The SDK warns on every run under Node < 22 that future versions will need 22; the project pins
  // its Node version itself, and users can do nothing about the warning, so it is silenced unless
  // they set the variable themselves.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const url = `s3://${options.bucket}${options.prefix === "" ? "" : `/${options.prefix}`}`;
  const config: S3ClientConfig = {
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle,
    followRegionRedirects: true,
    maxAttempts: options.maxAttempts,
    requestChecksumCalculation: options.checksums,
    responseChecksumValidation: options.checksums,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: options.requestTimeoutMs,
      requestTimeout: options.requestTimeoutMs,
      throwOnRequestTimeout: true,
      socketTimeout: options.requestTimeoutMs,
    }),
  };
  let client = new S3Client(config);
  const region = await client.config.region().then(
    () => undefined,
    () => FALLBACK_REGION,
  );
  const credentialsError = await client.config.credentials().then(
    () => undefined,
    (error: unknown) => error as Error,
  );
  if (region !== undefined || credentialsError !== undefined) {
    // The first client sent nothing, so it holds no connection; the new one shares its handler.
    client = new S3Client({
      ...config,
      ...(region === undefined ? {} : { region }),
      ...(credentialsError === undefined ? {} : { credentials: { accessKeyId: "", secretAccessKey: "" } }),
    });
  }
  let writable = !options.readOnly;
  if (credentialsError !== undefined) {
    // Unsigned requests, as `aws s3 --no-sign-request` makes: a public bucket can still be read.
    client.middlewareStack.remove("httpSigningMiddleware");
    if (writable) {
      options.onWarning?.(`remote ${url}: no AWS credentials (${credentialsError.message}); reading it anonymously, read-only`);
    }
    writable = false;
  }
  return new S3RemoteCache(client, url, writable, options);
}

export class S3RemoteCache implements RemoteCache {
  private conditionalWrites: Promise<ConditionalWrites> | undefined;
  private readonly partSize: number;

  constructor(
    private readonly client: S3Client,
    readonly url: string,
    readonly writable: boolean,
    private readonly options: S3RemoteOptions,
  ) {
    this.partSize = Math.max(MIN_PART_SIZE_BYTES, options.partSizeBytes ?? DEFAULT_PART_SIZE_BYTES);
  }

  /** Closes the client's idle connections. */
  close(): void {
    this.client.destroy();
  }

  async getRecord(stage: string, fingerprint: string): Promise<unknown | undefined> {
    const text = await this.getText(this.key(recordKey(stage, fingerprint)), `reading the record of ${stage} ${fingerprint}`);
    return text === undefined ? undefined : this.parseRecord(text, stage, fingerprint);
  }

  async putRecordIfAbsent(record: RemoteRecord): Promise<{ status: "written" } | { status: "exists"; existing: unknown }> {
    this.checkWritable(`write the record of ${record.stage}`);
    const key = this.key(recordKey(record.stage, record.fingerprint));
    const body = JSON.stringify(record, null, 2) + "\n";
    const action = `writing the record of ${record.stage} ${record.fingerprint}`;
    if ((await this.conditionalWriteSupport()) === "ignored") return this.putRecordCheckingFirst(key, body, record, action);
    for (let attempt = 1; attempt <= 4; attempt++) {
      try {
        await this.client.send(new PutObjectCommand({ Bucket: this.options.bucket, Key: key, Body: body, ContentType: "application/json", IfNoneMatch: "*" }));
        return { status: "written" };
      } catch (error) {
        const status = httpStatus(error);
        if (status === 412) {
          const existing = await this.getRecord(record.stage, record.fingerprint);
          if (existing !== undefined) return { status: "exists", existing };
          continue; // deleted in between (gc): try again
        }
        // 409: another conditional write to this key is in flight (S3 says so rather than queueing it).
        if (status === 409) {
          await sleep(100 * attempt);
          continue;
        }
        throw this.toError(error, action);
      }
    }
    throw new RemoteCacheError("failed", `remote ${this.url}: ${action} failed: the record kept appearing and disappearing (is a gc running?)`);
  }

  /**
   * Whether the server honours `If-None-Match: *` on PUT (AWS S3 since 2024, MinIO, recent Ceph;
   * some servers, like s3rver, ignore it and overwrite). Found once per process by writing a probe
   * key twice under the condition.
   */
  conditionalWriteSupport(): Promise<ConditionalWrites> {
    this.conditionalWrites ??= this.probeConditionalWrites().catch((error: unknown) => {
      this.conditionalWrites = undefined; // a network error now says nothing about the server: probe again next time
      throw error;
    });
    return this.conditionalWrites;
  }

  async hasBlob(sha256: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.key(blobKey(sha256)) }));
      return true;
    } catch (error) {
      if (httpStatus(error) === 404) return false;
      throw this.toError(error, `looking for blob ${sha256}`);
    }
  }

  async getBlob(sha256: string): Promise<Readable> {
    const action = `reading blob ${sha256}`;
    let body: unknown;
    try {
      body = (await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: this.key(blobKey(sha256)) }))).Body;
    } catch (error) {
      if (httpStatus(error) === 404) throw new RemoteCacheError("absent", `remote ${this.url}: blob ${sha256} is not there`);
      throw this.toError(error, action);
    }
    if (!(body instanceof Readable)) throw new RemoteCacheError("failed", `remote ${this.url}: ${action}: the SDK returned no stream`);
    // Errors while the body streams (a stall past the timeout, a connection cut) arrive as
    // RemoteCacheErrors too; a consumer that stops early releases the connection.
    const out = new PassThrough();
    body.on("error", (error) => out.destroy(this.toError(error, action)));
    out.on("close", () => {
      if (!body.readableEnded) body.destroy();
    });
    return body.pipe(out);
  }

  async putBlob(sha256: string, size: number, path: string): Promise<void> {
    this.checkWritable(`upload blob ${sha256}`);
    checkSha256(sha256);
    const key = this.key(blobKey(sha256));
    const action = `uploading blob ${sha256} from ${path}`;
    const mismatch = (bytes: number, actual: string) =>
      new RemoteCacheError("invalid", `${path} is ${bytes} bytes with SHA-256 ${actual}, not the ${size} bytes with ${sha256} it was uploaded as: it changed after it was hashed; nothing was stored`);
    if (size <= this.partSize) {
      // Small enough to hold: checked before anything is sent, and a buffer (unlike a stream) lets the SDK retry.
      const bytes = await readFile(path).catch((error: unknown) => {
        throw new RemoteCacheError("failed", `${action} failed: ${(error as Error).message}`, { cause: error });
      });
      const actual = createHash("sha256").update(bytes).digest("hex");
      if (actual !== sha256 || bytes.length !== size) throw mismatch(bytes.length, actual);
      try {
        await this.client.send(new PutObjectCommand({ Bucket: this.options.bucket, Key: key, Body: bytes, ContentLength: bytes.length, ContentType: "application/octet-stream" }));
      } catch (error) {
        throw this.toError(error, action);
      }
      return;
    }
    // In parts (each buffered, so each can be retried), hashed as it streams; a mismatch found at
    // the end deletes what was stored (readers hash every blob anyway, so it is never trusted).
    const hash = createHash("sha256");
    let bytes = 0;
    async function* hashed(): AsyncGenerator<Buffer> {
      for await (const chunk of createReadStream(path)) {
        hash.update(chunk as Buffer);
        bytes += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
    }
    try {
      await new Upload({
        client: this.client,
        params: { Bucket: this.options.bucket, Key: key, Body: Readable.from(hashed()), ContentType: "application/octet-stream" },
        partSize: this.partSize,
        queueSize: 4,
        leavePartsOnError: false,
      }).done();
    } catch (error) {
      throw this.toError(error, action);
    }
    const actual = hash.digest("hex");
    if (actual !== sha256 || bytes !== size) {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: key })).catch(() => undefined);
      throw mismatch(bytes, actual);
    }
  }

  async *listRecords(): AsyncIterable<{ stage: string; fingerprint: string; modified: Date }> {
    for await (const object of this.list("records/")) {
      const parsed = parseRecordKey(object.key);
      if (parsed !== undefined) yield { ...parsed, modified: object.modified };
    }
  }

  async *listBlobs(): AsyncIterable<{ sha256: string; size: number }> {
    for await (const object of this.list("blobs/")) {
      const sha256 = parseBlobKey(object.key);
      if (sha256 !== undefined) yield { sha256, size: object.size };
    }
  }

  async deleteRecord(stage: string, fingerprint: string): Promise<void> {
    this.checkWritable(`delete the record of ${stage}`);
    await this.deleteKey(this.key(recordKey(stage, fingerprint)), `deleting the record of ${stage} ${fingerprint}`);
  }

  async deleteBlob(sha256: string): Promise<void> {
    this.checkWritable(`delete blob ${sha256}`);
    await this.deleteKey(this.key(blobKey(sha256)), `deleting blob ${sha256}`);
  }

  private key(relative: string): string {
    return this.options.prefix === "" ? relative : `${this.options.prefix}/${relative}`;
  }

  /** Objects below `relativePrefix`, with keys relative to the remote's root. */
  private async *list(relativePrefix: string): AsyncIterable<{ key: string; size: number; modified: Date }> {
    const rootLength = this.key("").length;
    const pages = paginateListObjectsV2(
      { client: this.client, pageSize: this.options.listPageSize ?? 1000 },
      { Bucket: this.options.bucket, Prefix: this.key(relativePrefix) },
    );
    try {
      for await (const page of pages) {
        for (const object of page.Contents ?? []) {
          if (object.Key === undefined) continue;
          yield { key: object.Key.slice(rootLength), size: object.Size ?? 0, modified: object.LastModified ?? new Date(0) };
        }
      }
    } catch (error) {
      throw this.toError(error, `listing ${relativePrefix}`);
    }
  }

  private async getText(key: string, action: string): Promise<string | undefined> {
    try {
      const output = await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: key }));
      return output.Body === undefined ? "" : await output.Body.transformToString("utf8");
    } catch (error) {
      if (httpStatus(error) === 404 && !isNoSuchBucket(error)) return undefined;
      throw this.toError(error, action);
    }
  }

  private async putText(key: string, body: string, action: string, condition?: "if-none-match"): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({ Bucket: this.options.bucket, Key: key, Body: body, ContentType: "application/json", ...(condition ? { IfNoneMatch: "*" } : {}) }),
      );
    } catch (error) {
      throw this.toError(error, action);
    }
  }

  private async deleteKey(key: string, action: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: key }));
    } catch (error) {
      if (httpStatus(error) === 404 && !isNoSuchBucket(error)) return;
      throw this.toError(error, action);
    }
  }

  /**
   * For servers that ignore `If-None-Match`: look, write, read back. Two writers at the same moment
   * can still race (the later PUT wins, and both may report "written"); reading back makes the
   * writer that lost a race it can see report "exists" with the winner's record.
   */
  private async putRecordCheckingFirst(key: string, body: string, record: RemoteRecord, action: string): Promise<{ status: "written" } | { status: "exists"; existing: unknown }> {
    const before = await this.getText(key, action);
    if (before !== undefined) return { status: "exists", existing: this.parseRecord(before, record.stage, record.fingerprint) };
    await this.putText(key, body, action);
    const after = await this.getText(key, action);
    if (after !== undefined && after !== body) return { status: "exists", existing: this.parseRecord(after, record.stage, record.fingerprint) };
    return { status: "written" };
  }

  private async probeConditionalWrites(): Promise<ConditionalWrites> {
    const key = this.key(`probes/if-none-match.${process.pid}.${randomBytes(6).toString("hex")}`);
    const action = "probing whether the server honours If-None-Match";
    try {
      try {
        await this.putText(key, "1", action, "if-none-match");
      } catch (error) {
        // Some servers refuse the header outright rather than ignoring it.
        const status = httpStatus((error as Error).cause);
        if (status === 400 || status === 501) return this.ignored();
        throw error;
      }
      try {
        await this.putText(key, "2", action, "if-none-match");
      } catch (error) {
        if (httpStatus((error as Error).cause) === 412) return "enforced";
        throw error;
      }
      return this.ignored();
    } finally {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: key })).catch(() => undefined);
    }
  }

  private ignored(): ConditionalWrites {
    this.options.onWarning?.(
      `remote ${this.url}: the server ignores If-None-Match on PUT, so records are written by checking first; two machines writing the same record at the same moment can race (the later write wins)`,
    );
    return "ignored";
  }

  private parseRecord(text: string, stage: string, fingerprint: string): unknown {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new RemoteCacheError("invalid", `remote ${this.url}: the record of ${stage} ${fingerprint} is not valid JSON (${(error as Error).message}); delete it to let the result be pushed again`);
    }
  }

  private checkWritable(action: string): void {
    if (!this.writable) throw new RemoteCacheError("read-only", `remote ${this.url} is read-only: cannot ${action}`);
  }

  /** An SDK or network error as a RemoteCacheError whose message says what to check. */
  private toError(error: unknown, action: string): RemoteCacheError {
    if (error instanceof RemoteCacheError) return error;
    const err = error as (Error & { code?: string; Code?: string }) | undefined;
    const name = err?.name ?? "";
    const code = err?.code ?? "";
    const status = httpStatus(error);
    const where = `remote ${this.url}: ${action}`;
    const detail = err?.message ?? String(error);
    const fail = (reason: RemoteCacheError["reason"], message: string) => new RemoteCacheError(reason, message, { cause: error });
    if (name === "TimeoutError" || code === "ETIMEDOUT" || name === "RequestTimeout") {
      return fail("timeout", `${where}: no answer within ${this.options.requestTimeoutMs} ms (the request timeout; raise it with --remote-timeout, or check AWS_ENDPOINT_URL_S3)`);
    }
    if (name === "CredentialsProviderError") return fail("denied", `${where}: no AWS credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE (${detail})`);
    if (isNoSuchBucket(error)) return fail("failed", `${where}: bucket "${this.options.bucket}" does not exist (check the remote URL and AWS_ENDPOINT_URL_S3)`);
    if (status === 403 || status === 401) return fail("denied", `${where}: access denied (${name}): check the credentials and that they may do this`);
    if (status !== undefined && status >= 500) return fail("server-error", `${where}: the server answered ${status} (${name}: ${detail})`);
    if (["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"].includes(code)) {
      return fail("unreachable", `${where}: cannot connect (${code}): is the server up, and AWS_ENDPOINT_URL_S3 right?`);
    }
    if (["ECONNRESET", "EPIPE"].includes(code) || detail === "aborted") {
      return fail("unreachable", `${where}: the connection was cut before the transfer finished (${code || detail})`);
    }
    return fail("failed", `${where}: ${status === undefined ? "" : `HTTP ${status} `}${name}: ${detail}`);
  }
}

function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

function isNoSuchBucket(error: unknown): boolean {
  return (error as Error | undefined)?.name === "NoSuchBucket";
}
