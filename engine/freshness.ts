import type { ArtifactStore, Manifest } from "./artifact-store.ts";
import { fingerprintFor, type FingerprintInputs } from "./fingerprint.ts";
import type { LockedStage } from "./lock-file.ts";
import { diffAgainstLock, type StaleReason } from "./why.ts";

/** The one rule deciding whether a stage runs, shared by `run`, `status` and `--dry-run`. */
export type Freshness =
  | { fresh: true; fingerprint: string; manifest: Manifest; outDir: string; /** a cached result other than the lock's */ restored: boolean }
  | { fresh: false; fingerprint: string; reasons: StaleReason[] };

export async function checkFreshness(
  store: ArtifactStore,
  inputs: FingerprintInputs,
  locked: LockedStage | undefined,
  options: { forced: boolean; deepVerify: boolean },
): Promise<Freshness> {
  const fingerprint = fingerprintFor(inputs);
  if (options.forced) return { fresh: false, fingerprint, reasons: [{ kind: "forced" }] };
  const verification = await store.verify(inputs.stage, fingerprint, options.deepVerify);
  if (verification.ok) {
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
