import { copyResult } from "./result-transfer.ts";
import type { LocalResultStore } from "./local-result-store.ts";
import type { RemoteCache } from "./remote-cache.ts";
import { RemoteCacheError, type RemoteCacheErrorReason } from "./remote-cache-error.ts";
import { recordProblem, type RemoteRecord } from "./remote-record.ts";
import { pushResult } from "./remote-push.ts";
import type { Manifest, ResultStore, StoredResult, Verification, Workspace } from "./result-store.ts";
import { normalizeRunRecord, type RunRecord } from "./run-record.ts";
import type { Readable } from "node:stream";

/**
 * The local store in front of a remote cache. A result whose record is in the remote counts as
 * present for planning; its files are fetched only when something reads them (`materialize`), and
 * every fetched file is hashed as it streams and committed through the local store's atomic path.
 * Whatever goes wrong with the remote — a network error, a record failing its schema, a missing,
 * truncated or corrupt blob, an unsafe file name — is a miss with a warning: the stage runs locally
 * and nothing unverified is trusted. With `push`, every result committed here is also pushed.
 */
export class RemoteBackedStore implements ResultStore {
  readonly #records = new Map<string, Promise<RemoteRecord | undefined>>();
  readonly #warned = new Set<string>();
  /**
   * Set by the first timeout or connection failure: from then on, this run treats every lookup as a
   * miss instead of waiting out each request's retries again (a dead cache must not stall a build).
   */
  #down = false;

  constructor(
    readonly local: LocalResultStore,
    readonly remote: RemoteCache,
    private readonly options: { push: boolean; warn(message: string): void },
  ) {}

  async verify(stage: string, fingerprint: string, options: { deep: boolean; refresh: boolean }): Promise<Verification> {
    const local = await this.local.verify(stage, fingerprint, options);
    if (local.ok) return local;
    const record = await this.remoteRecord(stage, fingerprint);
    return record ? { ok: true, manifest: record.manifest, outDir: undefined } : local;
  }

  async materialize(stage: string, fingerprint: string): Promise<string> {
    const held = await this.local.verify(stage, fingerprint, { deep: false, refresh: false });
    if (held.ok && held.outDir !== undefined) return held.outDir;
    const record = await this.remoteRecord(stage, fingerprint);
    if (!record) return this.local.materialize(stage, fingerprint); // rejects with the local reason
    try {
      await copyResult(this.#source(record), this.local, { stage, fingerprint, outputHash: record.manifest.outputHash });
    } catch (error) {
      this.#noteOutage(error);
      this.#records.set(key(stage, fingerprint), Promise.resolve(undefined)); // a miss from now on, this run
      this.#warn(stage, `cannot use the remote's result of ${stage} (${fingerprint.slice(0, 10)}): ${(error as Error).message}; it runs here instead`);
      throw error;
    }
    return this.local.materialize(stage, fingerprint);
  }

  async readRecord(stage: string, fingerprint: string): Promise<{ manifest: Manifest; run: RunRecord | undefined } | undefined> {
    const local = await this.local.readRecord(stage, fingerprint);
    if (local) return local;
    const record = await this.remoteRecord(stage, fingerprint);
    return record ? { manifest: record.manifest, run: record.run } : undefined;
  }

  createWorkspace(stage: string): Promise<Workspace> {
    return this.local.createWorkspace(stage);
  }

  async commit(workspace: Workspace, stage: string, fingerprint: string, run: RunRecord): Promise<Manifest> {
    const manifest = await this.local.commit(workspace, stage, fingerprint, run);
    if (this.options.push && !this.#down) {
      // A failed push never fails the stage: the result is safe here, and `pipeline push` retries.
      await pushResult(this.local, this.remote, stage, fingerprint, { warn: this.options.warn }).catch((error: Error) => {
        this.#noteOutage(error);
        this.options.warn(`could not push ${stage} to ${this.remote.url}: ${error.message}${this.#down ? "; no more pushes this run (pipeline push retries)" : ""}`);
      });
    }
    return manifest;
  }

  discard(workspace: Workspace, stage: string, fingerprint: string): Promise<void> {
    return this.local.discard(workspace, stage, fingerprint);
  }

  async openFile(stage: string, fingerprint: string, file: string): Promise<Readable> {
    await this.materialize(stage, fingerprint);
    return this.local.openFile(stage, fingerprint, file);
  }

  readLog(stage: string, fingerprint: string): Promise<{ kind: "result" | "failure"; text: string } | undefined> {
    return this.local.readLog(stage, fingerprint);
  }

  list(): Promise<StoredResult[]> {
    return this.local.list();
  }

  delete(stage: string, fingerprint: string): Promise<void> {
    return this.local.delete(stage, fingerprint);
  }

  /** The remote's record for a result, validated; undefined (with a warning when it was unusable) otherwise. Asked once per run. */
  remoteRecord(stage: string, fingerprint: string): Promise<RemoteRecord | undefined> {
    if (this.#down) return Promise.resolve(undefined);
    let pending = this.#records.get(key(stage, fingerprint));
    if (!pending) {
      pending = this.remote.getRecord(stage, fingerprint).then(
        (raw) => {
          if (raw === undefined) return undefined;
          const problem = recordProblem(raw, stage, fingerprint);
          if (problem === undefined) return { ...(raw as RemoteRecord), run: normalizeRunRecord((raw as RemoteRecord).run)! };
          this.#warn(stage, `ignoring the remote's record of ${stage} (${fingerprint.slice(0, 10)}): ${problem}`);
          return undefined;
        },
        (error: Error) => {
          this.#noteOutage(error);
          this.#warn("remote", `the remote ${this.remote.url} failed (${error.message}); stages it would have provided run here`);
          return undefined;
        },
      );
      this.#records.set(key(stage, fingerprint), pending);
    }
    return pending;
  }

  #source(record: RemoteRecord): Pick<ResultStore, "readRecord" | "openFile"> {
    return {
      readRecord: async () => ({ manifest: record.manifest, run: record.run }),
      openFile: async (_stage, _fingerprint, file) => this.remote.getBlob(record.manifest.files[file]!.sha256),
    };
  }

  #noteOutage(error: unknown): void {
    if (error instanceof RemoteCacheError && OUTAGES.has(error.reason)) this.#down = true;
  }

  #warn(topic: string, message: string): void {
    if (this.#warned.has(topic)) return;
    this.#warned.add(topic);
    this.options.warn(message);
  }
}

/** Failures that say the remote itself is unavailable, not that one object is bad. */
const OUTAGES: ReadonlySet<RemoteCacheErrorReason> = new Set(["timeout", "unreachable", "server-error", "denied"]);

function key(stage: string, fingerprint: string): string {
  return `${stage}\n${fingerprint}`;
}
