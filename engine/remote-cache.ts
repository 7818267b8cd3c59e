import type { Readable } from "node:stream";
import type { RemoteRecord } from "./remote-record.ts";

export { REMOTE_RECORD_SCHEMA, type RemoteRecord } from "./remote-record.ts";

/**
 * A shared cache on another machine, in Bazel's two parts: a content store of blobs addressed by
 * their SHA-256 (identical files are stored once), and one record per (stage, fingerprint) holding
 * the manifest and the run record, written last so a crash mid-push leaves orphan blobs, never a
 * visible half-result. Implementations: a directory (`file:///path`) and S3-compatible storage
 * (`s3://bucket/prefix`).
 *
 * Nothing read from a remote is trusted: callers check every record against its schema and key and
 * hash every blob as it streams (engine/remote-store.ts). Implementations report failures by
 * throwing; callers turn them into a miss with a warning, never a failed run.
 */
export interface RemoteCache {
  /** For messages: the URL it was opened from, without credentials. */
  readonly url: string;
  /** False when opened read-only (`--remote-read-only`, or no write credentials). */
  readonly writable: boolean;
  /** The record of (stage, fingerprint), parsed as JSON but not validated; undefined when absent. */
  getRecord(stage: string, fingerprint: string): Promise<unknown | undefined>;
  /**
   * Writes the record only if none exists (put-if-absent, `If-None-Match: *` on S3). Returns
   * "written", or the record already there, so the caller can compare output hashes.
   */
  putRecordIfAbsent(record: RemoteRecord): Promise<{ status: "written" } | { status: "exists"; existing: unknown }>;
  hasBlob(sha256: string): Promise<boolean>;
  /** The blob's bytes; the caller hashes them. Rejects when absent. */
  getBlob(sha256: string): Promise<Readable>;
  /** Uploads a local file as the blob `sha256` (large files in parts). */
  putBlob(sha256: string, size: number, path: string): Promise<void>;
  listRecords(): AsyncIterable<{ stage: string; fingerprint: string; modified: Date }>;
  listBlobs(): AsyncIterable<{ sha256: string; size: number }>;
  deleteRecord(stage: string, fingerprint: string): Promise<void>;
  deleteBlob(sha256: string): Promise<void>;
}
