import type { Readable } from "node:stream";
import type { RunRecord } from "./run-record.ts";

/**
 * Where stage results live — Bazel's action cache and content store in one interface: a result is
 * addressed by (stage, fingerprint), holds files listed with their SHA-256 in a manifest, and keeps
 * its run record and log beside them. The executor only talks to this interface, so a local folder,
 * a remote bucket or a local store in front of a remote one are interchangeable.
 */

export const MANIFEST_SCHEMA = 1;

export interface OutputFile {
  size: number;
  sha256: string;
}

export interface Manifest {
  schema: typeof MANIFEST_SCHEMA;
  stage: string;
  fingerprint: string;
  files: Record<string, OutputFile>;
  /** Content hash of all outputs (names + hashes): what downstream fingerprints depend on. */
  outputHash: string;
}

/** A result as the input of a stage job: enough to find it anywhere and to check what is found. */
export interface ResultRef {
  stage: string;
  fingerprint: string;
  outputHash: string;
}

export type Verification =
  /** `outDir` is the local folder of its files; undefined when only a remote holds them (see `materialize`). */
  | { ok: true; manifest: Manifest; outDir: string | undefined }
  | { ok: false; reason: "absent" }
  | { ok: false; reason: "missing-file" | "corrupted-file"; file: string }
  | { ok: false; reason: "bad-manifest"; detail: string };

export interface Workspace {
  /** Empty folder the stage writes its outputs into. */
  readonly outDir: string;
  /** The stage's whole stdout/stderr goes here; it is kept with the result (or the failure). */
  readonly logPath: string;
}

export interface StoredResult {
  stage: string;
  fingerprint: string;
  /** A path or URL for people (gc output). */
  location: string;
}

export interface ResultStore {
  /**
   * Is the result here and intact? `deep` rehashes every file; otherwise files whose stat snapshot
   * is unchanged are trusted. With `refresh`, a full rehash that matches renews the snapshot, so a
   * restored cache (new inodes) is rehashed once rather than on every run.
   */
  verify(stage: string, fingerprint: string, options: { deep: boolean; refresh: boolean }): Promise<Verification>;
  /**
   * A local folder holding the result's files, verified: fetched (and hashed while it streams) when
   * only a remote holds it. Rejects when it cannot be had intact.
   */
  materialize(stage: string, fingerprint: string): Promise<string>;
  /** The manifest and run record without reading the files; undefined when absent or unreadable. */
  readRecord(stage: string, fingerprint: string): Promise<{ manifest: Manifest; run: RunRecord | undefined } | undefined>;
  createWorkspace(stage: string): Promise<Workspace>;
  /** Hashes the workspace's outputs, seals them, and makes the result visible — atomically, last. */
  commit(workspace: Workspace, stage: string, fingerprint: string, run: RunRecord): Promise<Manifest>;
  /** Drops a workspace; its log is kept as the stage's last failure log. */
  discard(workspace: Workspace, stage: string, fingerprint: string): Promise<void>;
  /** A result's file as a stream, for copying it into another store (which rehashes it). */
  openFile(stage: string, fingerprint: string, file: string): Promise<Readable>;
  /** The log kept with a result, or with the last failed attempt at it. */
  readLog(stage: string, fingerprint: string): Promise<{ kind: "result" | "failure"; text: string } | undefined>;
  list(): Promise<StoredResult[]>;
  delete(stage: string, fingerprint: string): Promise<void>;
}
