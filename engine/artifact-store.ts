import { randomBytes } from "node:crypto";
import { chmod, mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { canonicalJson, fingerprintOf } from "./canonical-json.ts";
import { hashFile, listFiles } from "./file-hash.ts";
import { writeFileAtomic } from "./atomic-write.ts";

/**
 * The cache. Each stage result lives at `artifacts/stages/<stage>/<fingerprint>/` as `out/` (the
 * files the stage wrote) plus `manifest.json` (each file's size and SHA-256). A result is addressed
 * by its fingerprint, so switching params back and forth reuses earlier results instead of retraining.
 *
 * Crash safety: a stage writes into `artifacts/tmp/<id>/out`; only after it succeeds is the manifest
 * written and the whole folder renamed into place. A folder under `stages/` without a manifest, or
 * anything under `tmp/`, is never trusted.
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

export type Verification =
  | { ok: true; manifest: Manifest; outDir: string }
  | { ok: false; reason: "absent" }
  | { ok: false; reason: "missing-file" | "corrupted-file"; file: string }
  | { ok: false; reason: "bad-manifest"; detail: string };

interface StatSnapshot {
  size: number;
  mtimeMs: number;
  ino: number;
}

export class ArtifactStore {
  readonly stagesDir: string;
  readonly tmpDir: string;

  constructor(readonly root: string) {
    this.stagesDir = join(root, "stages");
    this.tmpDir = join(root, "tmp");
  }

  resultDir(stage: string, fingerprint: string): string {
    return join(this.stagesDir, safeName(stage), fingerprint);
  }

  /** A fresh, empty folder for a stage run; `out` inside it is what the stage writes to. */
  async createWorkspace(stage: string): Promise<string> {
    const workspace = join(this.tmpDir, `${safeName(stage)}.${process.pid}.${randomBytes(4).toString("hex")}`);
    await mkdir(join(workspace, "out"), { recursive: true });
    return workspace;
  }

  /** Hashes what the stage wrote, seals it read-only and renames it into the cache. */
  async commit(workspace: string, stage: string, fingerprint: string): Promise<Manifest> {
    const outDir = join(workspace, "out");
    const files: Record<string, OutputFile> = {};
    const snapshots: Record<string, StatSnapshot> = {};
    for (const file of await listFiles(outDir)) {
      const path = join(outDir, file);
      const info = await stat(path);
      files[file] = { size: info.size, sha256: await hashFile(path) };
      // Read-only outputs make an accidental edit by a user or a later stage fail loudly.
      await chmod(path, 0o444);
      snapshots[file] = snapshotOf(await stat(path));
    }
    const manifest: Manifest = {
      schema: MANIFEST_SCHEMA,
      stage,
      fingerprint,
      files,
      outputHash: fingerprintOf(files),
    };
    await writeFileAtomic(join(workspace, "manifest.json"), canonicalJson(manifest, 2) + "\n");
    await writeFileAtomic(join(workspace, "stat-cache.json"), JSON.stringify(snapshots));
    const destination = this.resultDir(stage, fingerprint);
    await mkdir(join(destination, ".."), { recursive: true });
    // A folder already there failed verification (or we would not have run): replace it.
    await rm(destination, { recursive: true, force: true });
    await rename(workspace, destination);
    return manifest;
  }

  async discardWorkspace(workspace: string): Promise<void> {
    await rm(workspace, { recursive: true, force: true });
  }

  /**
   * Checks a cached result. Files whose size, mtime and inode match the snapshot taken when they were
   * written are trusted without rehashing (as git's index does); `deep` rehashes everything.
   */
  async verify(stage: string, fingerprint: string, deep = false): Promise<Verification> {
    const dir = this.resultDir(stage, fingerprint);
    let manifest: Manifest;
    try {
      manifest = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as Manifest;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { ok: false, reason: "absent" };
      return { ok: false, reason: "bad-manifest", detail: String(error) };
    }
    if (manifest.schema !== MANIFEST_SCHEMA || manifest.fingerprint !== fingerprint || !manifest.files) {
      return { ok: false, reason: "bad-manifest", detail: "schema or fingerprint mismatch" };
    }
    let snapshots: Record<string, StatSnapshot> = {};
    try {
      snapshots = JSON.parse(await readFile(join(dir, "stat-cache.json"), "utf8")) as Record<string, StatSnapshot>;
    } catch {
      deep = true;
    }
    const outDir = join(dir, "out");
    for (const [file, expected] of Object.entries(manifest.files)) {
      const path = join(outDir, file);
      const info = await stat(path).catch(() => undefined);
      if (!info?.isFile()) return { ok: false, reason: "missing-file", file };
      if (info.size !== expected.size) return { ok: false, reason: "corrupted-file", file };
      const snapshot = snapshots[file];
      const unchanged =
        !deep && snapshot !== undefined && snapshot.mtimeMs === info.mtimeMs && snapshot.ino === info.ino;
      if (!unchanged && (await hashFile(path)) !== expected.sha256) {
        return { ok: false, reason: "corrupted-file", file };
      }
    }
    return { ok: true, manifest, outDir };
  }

  /** Every cached result folder as [stage folder name, fingerprint]. */
  async listResults(): Promise<Array<{ stageDir: string; fingerprint: string; path: string }>> {
    const results: Array<{ stageDir: string; fingerprint: string; path: string }> = [];
    for (const stageDir of await readdir(this.stagesDir).catch(() => [] as string[])) {
      for (const fingerprint of await readdir(join(this.stagesDir, stageDir)).catch(() => [] as string[])) {
        results.push({ stageDir, fingerprint, path: join(this.stagesDir, stageDir, fingerprint) });
      }
    }
    return results;
  }

  /** Workspaces left by runs that died (their pid no longer exists). */
  async abandonedWorkspaces(): Promise<string[]> {
    const names = await readdir(this.tmpDir).catch(() => [] as string[]);
    return names
      .filter((name) => {
        const pid = Number(name.split(".").at(-2));
        return !Number.isInteger(pid) || !isProcessAlive(pid);
      })
      .map((name) => join(this.tmpDir, name));
  }
}

export function safeName(stage: string): string {
  return stage.replace(/[^\w.@=+-]/g, "_");
}

function snapshotOf(info: { size: number; mtimeMs: number; ino: number }): StatSnapshot {
  return { size: info.size, mtimeMs: info.mtimeMs, ino: info.ino };
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
