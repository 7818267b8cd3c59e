import { createHash, randomBytes } from "node:crypto";
import { constants, createReadStream } from "node:fs";
import { access, chmod, link, mkdir, open, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { pathToFileURL } from "node:url";
import type { RemoteCache, RemoteRecord } from "./remote-cache.ts";
import { RemoteCacheError } from "./remote-cache-error.ts";
import { BLOBS_DIR, blobKey, checkSha256, parseBlobKey, parseRecordKey, RECORDS_DIR, recordKey } from "./remote-layout.ts";

/**
 * A remote cache in a directory, typically a shared disk (`file:///mnt/team-cache`). Nothing is
 * ever visible half-written: blobs are written to `tmp/`, checked against their digest and renamed
 * into place; a record is written to `tmp/` and then hard-linked to its name, which fails if the
 * name exists — so two processes (or machines on one NFS export) racing to write the same record
 * cannot overwrite each other: the first link wins and the other reads the winner's record.
 */
export class FileRemoteCache implements RemoteCache {
  private constructor(
    readonly root: string,
    readonly url: string,
    readonly writable: boolean,
  ) {}

  /**
   * The root must exist: a missing directory usually means a share that is not mounted, and
   * treating it as an empty cache would hide that. Without write permission it opens read-only.
   */
  static async open(root: string, options: { readOnly?: boolean; onWarning?: (message: string) => void } = {}): Promise<FileRemoteCache> {
    const url = pathToFileURL(root).href;
    const info = await stat(root).catch(() => undefined);
    if (!info?.isDirectory()) {
      throw new RemoteCacheError("unreachable", `remote ${url}: ${root} is not a directory; create it (mkdir -p ${root}) or fix --remote / PIPELINE_REMOTE`);
    }
    let writable = options.readOnly !== true;
    if (writable && !(await access(root, constants.W_OK).then(() => true, () => false))) {
      options.onWarning?.(`remote ${url}: no write permission on ${root}, so it is used read-only`);
      writable = false;
    }
    return new FileRemoteCache(root, url, writable);
  }

  async getRecord(stage: string, fingerprint: string): Promise<unknown | undefined> {
    const path = this.pathOf(recordKey(stage, fingerprint));
    const text = await readFile(path, "utf8").catch((error: unknown) => {
      if (isCode(error, "ENOENT")) return undefined;
      throw this.wrap(error, `reading the record of ${stage} ${fingerprint}`);
    });
    return text === undefined ? undefined : this.parseRecord(text, path);
  }

  async putRecordIfAbsent(record: RemoteRecord): Promise<{ status: "written" } | { status: "exists"; existing: unknown }> {
    this.checkWritable(`write the record of ${record.stage}`);
    const target = this.pathOf(recordKey(record.stage, record.fingerprint));
    const action = `writing the record of ${record.stage} ${record.fingerprint}`;
    const temp = await this.writeTemp(JSON.stringify(record, null, 2) + "\n");
    try {
      await mkdir(dirname(target), { recursive: true }).catch((error: unknown) => {
        throw this.wrap(error, action);
      });
      // Twice at most: the record we lost to may be deleted (gc) before we read it.
      for (let attempt = 1; attempt <= 2; attempt++) {
        try {
          await link(temp, target);
          return { status: "written" };
        } catch (error) {
          if (!isCode(error, "EEXIST")) throw this.wrap(error, action);
        }
        const existing = await readFile(target, "utf8").catch((error: unknown) => {
          if (isCode(error, "ENOENT")) return undefined;
          throw this.wrap(error, action);
        });
        if (existing !== undefined) return { status: "exists", existing: this.parseRecord(existing, target) };
      }
      throw new RemoteCacheError("failed", `remote ${this.url}: ${action} failed: the record kept appearing and disappearing (is a gc running?)`);
    } finally {
      await rm(temp, { force: true });
    }
  }

  async hasBlob(sha256: string): Promise<boolean> {
    const info = await stat(this.pathOf(blobKey(sha256))).catch((error: unknown) => {
      if (isCode(error, "ENOENT")) return undefined;
      throw this.wrap(error, `looking for blob ${sha256}`);
    });
    return info?.isFile() === true;
  }

  async getBlob(sha256: string): Promise<Readable> {
    // Opened before returning, so an absent blob rejects here rather than as a stream error later.
    const handle = await open(this.pathOf(blobKey(sha256)), "r").catch((error: unknown) => {
      if (isCode(error, "ENOENT")) throw new RemoteCacheError("absent", `remote ${this.url}: blob ${sha256} is not there`);
      throw this.wrap(error, `opening blob ${sha256}`);
    });
    return handle.createReadStream();
  }

  async putBlob(sha256: string, size: number, path: string): Promise<void> {
    this.checkWritable(`upload blob ${sha256}`);
    checkSha256(sha256);
    const temp = this.tempPath();
    try {
      await mkdir(dirname(temp), { recursive: true });
      const hash = createHash("sha256");
      let written = 0;
      const handle = await open(temp, "wx", 0o644);
      try {
        for await (const chunk of createReadStream(path)) {
          const bytes = chunk as Buffer;
          hash.update(bytes);
          written += bytes.length;
          await handle.write(bytes);
        }
        await handle.sync();
      } finally {
        await handle.close();
      }
      const actual = hash.digest("hex");
      if (actual !== sha256 || written !== size) {
        throw new RemoteCacheError(
          "invalid",
          `${path} is ${written} bytes with SHA-256 ${actual}, not the ${size} bytes with ${sha256} it was uploaded as: it changed after it was hashed; nothing was stored`,
        );
      }
      await chmod(temp, 0o444);
      const target = this.pathOf(blobKey(sha256));
      await mkdir(dirname(target), { recursive: true });
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw error instanceof RemoteCacheError ? error : this.wrap(error, `storing blob ${sha256} from ${path}`);
    }
  }

  async *listRecords(): AsyncIterable<{ stage: string; fingerprint: string; modified: Date }> {
    for (const stageDir of await this.readDirNames(RECORDS_DIR)) {
      for (const file of await this.readDirNames(`${RECORDS_DIR}/${stageDir}`)) {
        const key = `${RECORDS_DIR}/${stageDir}/${file}`;
        const parsed = parseRecordKey(key);
        if (parsed === undefined) continue;
        const info = await stat(this.pathOf(key)).catch(() => undefined); // deleted meanwhile
        if (info?.isFile()) yield { ...parsed, modified: info.mtime };
      }
    }
  }

  async *listBlobs(): AsyncIterable<{ sha256: string; size: number }> {
    for (const fanout of await this.readDirNames(BLOBS_DIR)) {
      for (const file of await this.readDirNames(`${BLOBS_DIR}/${fanout}`)) {
        const key = `${BLOBS_DIR}/${fanout}/${file}`;
        const sha256 = parseBlobKey(key);
        if (sha256 === undefined) continue;
        const info = await stat(this.pathOf(key)).catch(() => undefined);
        if (info?.isFile()) yield { sha256, size: info.size };
      }
    }
  }

  async deleteRecord(stage: string, fingerprint: string): Promise<void> {
    this.checkWritable(`delete the record of ${stage}`);
    await rm(this.pathOf(recordKey(stage, fingerprint)), { force: true }).catch((error: unknown) => {
      throw this.wrap(error, `deleting the record of ${stage} ${fingerprint}`);
    });
  }

  async deleteBlob(sha256: string): Promise<void> {
    this.checkWritable(`delete blob ${sha256}`);
    await rm(this.pathOf(blobKey(sha256)), { force: true }).catch((error: unknown) => {
      throw this.wrap(error, `deleting blob ${sha256}`);
    });
  }

  private pathOf(key: string): string {
    return join(this.root, ...key.split("/"));
  }

  /** Temp files live in `tmp/` below the root (same file system, so rename and link work); a crash leaves them there, never under a real name. */
  private tempPath(): string {
    return join(this.root, "tmp", `${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  }

  private async writeTemp(content: string): Promise<string> {
    const temp = this.tempPath();
    try {
      await mkdir(dirname(temp), { recursive: true });
      const handle = await open(temp, "wx", 0o644);
      try {
        await handle.writeFile(content);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await chmod(temp, 0o444);
      return temp;
    } catch (error) {
      await rm(temp, { force: true });
      throw this.wrap(error, "writing a temporary file");
    }
  }

  private async readDirNames(key: string): Promise<string[]> {
    try {
      return (await readdir(this.pathOf(key))).sort();
    } catch (error) {
      if (isCode(error, "ENOENT") || isCode(error, "ENOTDIR")) return [];
      throw this.wrap(error, `listing ${key}`);
    }
  }

  private parseRecord(text: string, path: string): unknown {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new RemoteCacheError("invalid", `remote ${this.url}: ${path} is not valid JSON (${(error as Error).message}); delete it to let the result be pushed again`);
    }
  }

  private checkWritable(action: string): void {
    if (!this.writable) throw new RemoteCacheError("read-only", `remote ${this.url} is read-only: cannot ${action}`);
  }

  private wrap(error: unknown, action: string): RemoteCacheError {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    const reason = code === "EACCES" || code === "EPERM" || code === "EROFS" ? "denied" : "failed";
    return new RemoteCacheError(reason, `remote ${this.url}: ${action} failed: ${(error as Error).message}`, { cause: error });
  }
}

function isCode(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === code;
}
