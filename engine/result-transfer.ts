import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, isAbsolute, join, normalize } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fingerprintOf } from "./canonical-json.ts";
import type { Manifest, ResultRef, ResultStore } from "./result-store.ts";
import { RUN_RECORD_SCHEMA, type RunRecord } from "./run-record.ts";

/**
 * Copies one result between stores, trusting nothing it reads: the manifest must hash to the
 * reference's output hash, every file name must stay inside the result, and every file is hashed
 * while it streams into a fresh workspace of the target store, which commits it only when all
 * match (Bazel's rule: never trust a blob without its digest). What workers and remote caches use.
 */
export async function copyResult(from: Pick<ResultStore, "readRecord" | "openFile">, to: ResultStore, ref: ResultRef): Promise<Manifest> {
  const stored = await from.readRecord(ref.stage, ref.fingerprint);
  if (!stored) throw new TransferError(ref, "it is not in the source store");
  const { manifest } = stored;
  if (manifest.outputHash !== ref.outputHash || fingerprintOf(manifest.files) !== ref.outputHash) {
    throw new TransferError(ref, "its manifest does not hash to the expected output hash");
  }
  const workspace = await to.createWorkspace(ref.stage);
  try {
    for (const [file, expected] of Object.entries(manifest.files)) {
      if (!isSafeRelativePath(file)) throw new TransferError(ref, `unsafe file name ${JSON.stringify(file)}`);
      const target = join(workspace.outDir, file);
      await mkdir(dirname(target), { recursive: true });
      const hash = createHash("sha256");
      let size = 0;
      const hashing = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          size += chunk.length;
          callback(null, chunk);
        },
      });
      await pipeline(await from.openFile(ref.stage, ref.fingerprint, file), hashing, createWriteStream(target));
      if (size !== expected.size || hash.digest("hex") !== expected.sha256) throw new TransferError(ref, `${file} does not match its SHA-256`);
    }
    return await to.commit(workspace, ref.stage, ref.fingerprint, stored.run ?? unknownRun());
  } catch (error) {
    await to.discard(workspace, ref.stage, ref.fingerprint);
    throw error;
  }
}

export class TransferError extends Error {
  constructor(ref: ResultRef, detail: string) {
    super(`cannot copy the result of ${ref.stage} (${ref.fingerprint.slice(0, 10)}): ${detail}`);
    this.name = "TransferError";
  }
}

export function isSafeRelativePath(file: string): boolean {
  if (file === "" || isAbsolute(file) || file.includes("\\") || file.includes("\0")) return false;
  const normalized = normalize(file);
  return normalized === file && !normalized.split("/").includes("..");
}

function unknownRun(): RunRecord {
  return {
    schema: RUN_RECORD_SCHEMA,
    startedAt: "unknown",
    durationSeconds: 0,
    environment: {},
    execution: {},
    load: { concurrentStages: 0, loadAverage: 0 },
    measurements: {},
  };
}
