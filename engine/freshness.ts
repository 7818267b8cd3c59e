import { canonicalJson } from "./canonical-json.ts";
import { fingerprintFor, type FingerprintInputs } from "./fingerprint.ts";
import type { LockedStage } from "./lock-file.ts";
import type { Manifest, ResultStore } from "./result-store.ts";
import { diffAgainstLock, type StaleReason } from "./why.ts";

/** The one rule deciding whether a stage runs, shared by `run`, `status` and `--dry-run`. */
export type Freshness =
  | { fresh: true; fingerprint: string; manifest: Manifest; /** undefined: only a remote holds it */ outDir: string | undefined; /** a cached result other than the lock's */ restored: boolean }
  | { fresh: false; fingerprint: string; reasons: StaleReason[] };

export async function checkFreshness(
  store: ResultStore,
  inputs: FingerprintInputs,
  locked: LockedStage | undefined,
  options: { forced: boolean; deepVerify: boolean; /** renew stat snapshots after a matching rehash (not in read-only commands) */ refresh?: boolean },
): Promise<Freshness> {
  const fingerprint = fingerprintFor(inputs);
  if (options.forced) return { fresh: false, fingerprint, reasons: [{ kind: "forced" }] };
  const verification = await store.verify(inputs.stage, fingerprint, { deep: options.deepVerify, refresh: options.refresh ?? false });
  if (verification.ok) {
    if (options.deepVerify) {
      // A result whose record does not show its inputs verified with the hashes its key names may
      // have been computed from corrupt files that were later rebuilt: `--verify` reruns it.
      const unverified = await unverifiedInputs(store, inputs, fingerprint);
      if (unverified) return { fresh: false, fingerprint, reasons: [{ kind: "inputs-unverified", detail: unverified }] };
    }
    return {
      fresh: true,
      fingerprint,
      manifest: verification.manifest,
      outDir: verification.outDir,
      restored: locked?.fingerprint !== fingerprint,
    };
  }
  if (verification.reason === "missing-file") {
    return { fresh: false, fingerprint, reasons: [{ kind: "output-missing", file: verification.file }] };
  }
  if (verification.reason === "corrupted-file") {
    return { fresh: false, fingerprint, reasons: [{ kind: "output-corrupted", file: verification.file }] };
  }
  if (locked?.fingerprint === fingerprint) {
    return { fresh: false, fingerprint, reasons: [{ kind: "output-missing" }] };
  }
  const reasons = diffAgainstLock(inputs, locked);
  if (reasons.length === 0) {
    reasons.push({ kind: "unexplained", detail: "no cached result for this fingerprint (cache cleared or format changed)" });
  }
  return { fresh: false, fingerprint, reasons };
}

async function unverifiedInputs(store: ResultStore, inputs: FingerprintInputs, fingerprint: string): Promise<string | undefined> {
  if (Object.keys(inputs.inputs).length === 0) return undefined;
  const record = (await store.readRecord(inputs.stage, fingerprint))?.run;
  if (!record?.verifiedInputs) return "its run record has no verified input hashes";
  if (canonicalJson(record.verifiedInputs) !== canonicalJson(inputs.inputs)) return "the input hashes it verified differ from those in its key";
  return undefined;
}
