import { randomBytes } from "node:crypto";
import { createReadStream, readFileSync, statSync } from "node:fs";
import { chmod, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import type { Readable } from "node:stream";
import { canonicalJson, fingerprintOf } from "./canonical-json.ts";
import { hashFile, listFiles } from "./file-hash.ts";
import { writeFileAtomic } from "./atomic-write.ts";
import { isProcessAlive } from "./process-alive.ts";
import { normalizeRunRecord, type RunRecord } from "./run-record.ts";
import {
  MANIFEST_SCHEMA,
  type Manifest,
  type OutputFile,
  type ResultStore,
  type StoredResult,
  type Verification,
  type Workspace,
} from "./result-store.ts";

/**
 * The local cache. Each result lives at `artifacts/stages/<stage>/<fingerprint>/` as `out/` (the
 * files the stage wrote), `manifest.json` (each file's size and SHA-256), `run.json` (its run
 * record), `log.txt` (its whole stdout/stderr) and `stat-cache.json` (the files' stat snapshots).
 *
 * Crash safety: a stage writes into `artifacts/tmp/<id>/out`; only after it succeeds is the manifest
 * written and the whole folder renamed into place. A folder under `stages/` without a manifest, or
 * anything under `tmp/`, is never trusted.
 */
export class LocalResultStore implements ResultStore {
  readonly stagesDir: string;
  readonly tmpDir: string;
  readonly failedLogsDir: string;

  constructor(readonly root: string) {
    this.stagesDir = join(root, "stages");
    this.tmpDir = join(root, "tmp");
    this.failedLogsDir = join(root, "failed-logs");
  }

  resultDir(stage: string, fingerprint: string): string {
    return join(this.stagesDir, safeName(stage), fingerprint);
  }

  async createWorkspace(stage: string): Promise<Workspace> {
    const dir = join(this.tmpDir, `${safeName(stage)}.${process.pid}.${randomBytes(4).toString("hex")}`);
    await mkdir(join(dir, "out"), { recursive: true });
    // Every result keeps a log, empty when its stage wrote nothing (inline stages write only through context.log).
    await writeFile(join(dir, "log.txt"), "");
    return { outDir: join(dir, "out"), logPath: join(dir, "log.txt") };
  }

  async commit(workspace: Workspace, stage: string, fingerprint: string, run: RunRecord): Promise<Manifest> {
    const dir = join(workspace.outDir, "..");
    const files: Record<string, OutputFile> = {};
    const snapshots: Record<string, StatSnapshot> = {};
    for (const file of await listFiles(workspace.outDir)) {
      const path = join(workspace.outDir, file);
      files[file] = { size: (await stat(path)).size, sha256: await hashFile(path) };
      // Read-only outputs make an accidental edit by a user or a later stage fail loudly.
      await chmod(path, 0o444);
      snapshots[file] = snapshotOf(await stat(path));
    }
    const manifest: Manifest = { schema: MANIFEST_SCHEMA, stage, fingerprint, files, outputHash: fingerprintOf(files) };
    await writeFileAtomic(join(dir, "run.json"), JSON.stringify(run, null, 2) + "\n");
    await writeFileAtomic(join(dir, "manifest.json"), canonicalJson(manifest, 2) + "\n");
    await writeFileAtomic(join(dir, "stat-cache.json"), JSON.stringify(snapshots));
    const destination = this.resultDir(stage, fingerprint);
    await mkdir(join(destination, ".."), { recursive: true });
    // A folder already there failed verification (or we would not have run): replace it.
    await rm(destination, { recursive: true, force: true });
    await rename(dir, destination);
    return manifest;
  }

  async discard(workspace: Workspace, stage: string, fingerprint: string): Promise<void> {
    const log = await stat(workspace.logPath).catch(() => undefined);
    if (log?.isFile()) {
      await mkdir(join(this.failedLogsDir, safeName(stage)), { recursive: true });
      await rename(workspace.logPath, this.failedLogPath(stage, fingerprint)).catch(() => {});
    }
    await rm(join(workspace.outDir, ".."), { recursive: true, force: true });
  }

  async verify(stage: string, fingerprint: string, options: { deep: boolean; refresh: boolean }): Promise<Verification> {
    const dir = this.resultDir(stage, fingerprint);
    const loaded = await this.#readManifest(stage, fingerprint);
    if (!loaded.ok) return loaded;
    const { manifest } = loaded;
    let deep = options.deep;
    let snapshots: Record<string, StatSnapshot> = {};
    // Small reads and stats are synchronous: a no-op checks every result (the full grid's report
    // alone has 358 files), and a thread-pool round trip per stat cost more than the stat.
    try {
      snapshots = JSON.parse(readFileSync(join(dir, "stat-cache.json"), "utf8")) as Record<string, StatSnapshot>;
    } catch {
      deep = true;
    }
    const outDir = join(dir, "out");
    const renewed: Record<string, StatSnapshot> = {};
    let rehashed = false;
    for (const [file, expected] of Object.entries(manifest.files)) {
      const path = join(outDir, file);
      const info = statSync(path, { throwIfNoEntry: false });
      if (!info?.isFile()) return { ok: false, reason: "missing-file", file };
      if (info.size !== expected.size) return { ok: false, reason: "corrupted-file", file };
      // ctime is part of the snapshot because `touch -r` can restore an mtime but never a ctime.
      const snapshot = snapshots[file];
      const unchanged = !deep && snapshot !== undefined && sameSnapshot(snapshot, info);
      if (!unchanged) {
        if ((await hashFile(path)) !== expected.sha256) return { ok: false, reason: "corrupted-file", file };
        rehashed = true;
      }
      renewed[file] = snapshotOf(info);
    }
    if (rehashed && options.refresh) {
      // Best effort: a read-only cache still verifies, it just rehashes again next time.
      await writeFileAtomic(join(dir, "stat-cache.json"), JSON.stringify(renewed)).catch(() => {});
    }
    return { ok: true, manifest, outDir };
  }

  async materialize(stage: string, fingerprint: string): Promise<string> {
    const found = await this.verify(stage, fingerprint, { deep: false, refresh: false });
    if (!found.ok || found.outDir === undefined) {
      throw new Error(`the result of ${stage} (${fingerprint.slice(0, 10)}) is ${found.ok ? "not local" : found.reason.replace("-", " ")}${!found.ok && "file" in found ? `: ${found.file}` : ""}`);
    }
    return found.outDir;
  }

  async readRecord(stage: string, fingerprint: string): Promise<{ manifest: Manifest; run: RunRecord | undefined } | undefined> {
    const loaded = await this.#readManifest(stage, fingerprint);
    if (!loaded.ok) return undefined;
    const run = await readFile(join(this.resultDir(stage, fingerprint), "run.json"), "utf8")
      .then((text) => normalizeRunRecord(JSON.parse(text)))
      .catch(() => undefined);
    return { manifest: loaded.manifest, run };
  }

  async openFile(stage: string, fingerprint: string, file: string): Promise<Readable> {
    const path = join(this.resultDir(stage, fingerprint), "out", file);
    if (relative(join(this.resultDir(stage, fingerprint), "out"), path).startsWith("..")) {
      throw new Error(`${file} is outside the result of ${stage}`);
    }
    await stat(path); // fail here, as a rejected promise, rather than as a stream error later
    return createReadStream(path);
  }

  async readLog(stage: string, fingerprint: string): Promise<{ kind: "result" | "failure"; text: string } | undefined> {
    const result = await readFile(join(this.resultDir(stage, fingerprint), "log.txt"), "utf8").catch(() => undefined);
    if (result !== undefined) return { kind: "result", text: result };
    const failure = await readFile(this.failedLogPath(stage, fingerprint), "utf8").catch(() => undefined);
    return failure === undefined ? undefined : { kind: "failure", text: failure };
  }

  async list(): Promise<StoredResult[]> {
    const results: StoredResult[] = [];
    for (const stage of await readdir(this.stagesDir).catch(() => [] as string[])) {
      for (const fingerprint of await readdir(join(this.stagesDir, stage)).catch(() => [] as string[])) {
        results.push({ stage, fingerprint, location: join(this.stagesDir, stage, fingerprint) });
      }
    }
    return results;
  }

  async delete(stage: string, fingerprint: string): Promise<void> {
    await rm(this.resultDir(stage, fingerprint), { recursive: true, force: true });
    await rm(this.failedLogPath(stage, fingerprint), { force: true });
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

  failedLogPath(stage: string, fingerprint: string): string {
    return join(this.failedLogsDir, safeName(stage), `${fingerprint}.log`);
  }

  async #readManifest(stage: string, fingerprint: string): Promise<{ ok: true; manifest: Manifest } | Exclude<Verification, { ok: true }>> {
    let manifest: Manifest;
    try {
      manifest = JSON.parse(readFileSync(join(this.resultDir(stage, fingerprint), "manifest.json"), "utf8")) as Manifest;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { ok: false, reason: "absent" };
      return { ok: false, reason: "bad-manifest", detail: String(error) };
    }
    if (manifest.schema !== MANIFEST_SCHEMA || manifest.fingerprint !== fingerprint || !manifest.files) {
      return { ok: false, reason: "bad-manifest", detail: "schema or fingerprint mismatch" };
    }
    return { ok: true, manifest };
  }
}

interface StatSnapshot {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

export function safeName(stage: string): string {
  return stage.replace(/[^\w.@=+-]/g, "_");
}

function snapshotOf(info: StatSnapshot): StatSnapshot {
  return { size: info.size, mtimeMs: info.mtimeMs, ctimeMs: info.ctimeMs, ino: info.ino };
}

/** A snapshot from before ctime was recorded never matches, so such results are rehashed once. */
function sameSnapshot(snapshot: Partial<StatSnapshot>, info: StatSnapshot): boolean {
  return snapshot.mtimeMs === info.mtimeMs && snapshot.ctimeMs === info.ctimeMs && snapshot.ino === info.ino && snapshot.size === info.size;
}
