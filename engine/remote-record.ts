import { fingerprintOf } from "./canonical-json.ts";
import { MANIFEST_SCHEMA, type Manifest } from "./result-store.ts";
import { isSafeRelativePath } from "./result-transfer.ts";
import { normalizeRunRecord, type RunRecord } from "./run-record.ts";

export const REMOTE_RECORD_SCHEMA = 1;

/** What a remote holds for one result. Blobs are named by `manifest.files[*].sha256`. */
export interface RemoteRecord {
  schema: typeof REMOTE_RECORD_SCHEMA;
  stage: string;
  fingerprint: string;
  manifest: Manifest;
  run: RunRecord;
}

/** Why a record read from a remote cannot be trusted, or undefined when it can be (its files are still hashed on the way in). */
export function recordProblem(raw: unknown, stage: string, fingerprint: string): string | undefined {
  if (typeof raw !== "object" || raw === null) return "not a JSON object";
  const record = raw as Partial<RemoteRecord>;
  if (record.schema !== REMOTE_RECORD_SCHEMA) return `schema ${JSON.stringify(record.schema)}, expected ${REMOTE_RECORD_SCHEMA}`;
  if (record.stage !== stage || record.fingerprint !== fingerprint) return "it names another stage or fingerprint";
  const manifest = record.manifest as Partial<Manifest> | undefined;
  if (!manifest || manifest.schema !== MANIFEST_SCHEMA || manifest.stage !== stage || manifest.fingerprint !== fingerprint || typeof manifest.files !== "object" || manifest.files === null) {
    return "its manifest is malformed";
  }
  for (const [file, entry] of Object.entries(manifest.files)) {
    if (!isSafeRelativePath(file)) return `unsafe file name ${JSON.stringify(file)}`;
    if (typeof entry?.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(entry.sha256) || !Number.isInteger(entry.size) || entry.size < 0) return `bad entry for ${file}`;
  }
  if (fingerprintOf(manifest.files) !== manifest.outputHash) return "its output hash does not match its files";
  if (!normalizeRunRecord(record.run)) return "its run record is malformed";
  return undefined;
}
