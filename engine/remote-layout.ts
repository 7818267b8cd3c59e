import { RemoteCacheError } from "./remote-cache-error.ts";

/**
 * Where a remote keeps things, the same for a directory and a bucket (keys are "/"-separated paths
 * below the remote's root):
 *
 *   blobs/<first two hex digits>/<sha256>            file contents, named by their SHA-256
 *   records/<encoded stage>/<fingerprint>.json       one record per (stage, fingerprint)
 *
 * The two-digit fan-out keeps directories small on a shared disk. Stage names are encoded
 * reversibly (listing must give back the exact stage name, and `a/b` must not collide with `a_b`):
 * letters, digits and `@ = + _ . -` stay as they are, everything else becomes %XX of its UTF-8
 * bytes, and so does a leading `.`, so no name is `.`, `..` or hidden.
 */

export const BLOBS_DIR = "blobs";
export const RECORDS_DIR = "records";

const SHA256 = /^[0-9a-f]{64}$/;
/** Fingerprints are hex digests; this is looser on purpose, but never lets a path through. */
const FINGERPRINT = /^[A-Za-z0-9_-]{1,128}$/;
const KEPT = /[A-Za-z0-9@=+_.-]/;

export function isSha256(value: string): boolean {
  return SHA256.test(value);
}

export function checkSha256(sha256: string): void {
  if (!isSha256(sha256)) throw new RemoteCacheError("invalid", `"${sha256}" is not a SHA-256 digest (64 lowercase hex digits)`);
}

export function checkFingerprint(fingerprint: string): void {
  if (!FINGERPRINT.test(fingerprint)) {
    throw new RemoteCacheError("invalid", `"${fingerprint}" is not a fingerprint (1-128 letters, digits, "_" or "-")`);
  }
}

export function encodeStageName(stage: string): string {
  if (stage.length === 0) throw new RemoteCacheError("invalid", "a stage name cannot be empty");
  let encoded = "";
  for (const char of stage) {
    const keep = KEPT.test(char) && !(encoded.length === 0 && char === ".");
    encoded += keep ? char : percentEncode(char);
  }
  return encoded;
}

/** The stage name an encoded directory or key segment stands for; undefined if it is not one we wrote. */
export function decodeStageName(encoded: string): string | undefined {
  let stage: string;
  try {
    stage = decodeURIComponent(encoded);
  } catch {
    return undefined;
  }
  return stage.length > 0 && encodeStageName(stage) === encoded ? stage : undefined;
}

function percentEncode(char: string): string {
  return [...Buffer.from(char, "utf8")].map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, "0")}`).join("");
}

export function blobKey(sha256: string): string {
  checkSha256(sha256);
  return `${BLOBS_DIR}/${sha256.slice(0, 2)}/${sha256}`;
}

export function recordKey(stage: string, fingerprint: string): string {
  checkFingerprint(fingerprint);
  return `${RECORDS_DIR}/${encodeStageName(stage)}/${fingerprint}.json`;
}

/** The blob a key below the root names, or undefined for anything else (temp files, strays). */
export function parseBlobKey(key: string): string | undefined {
  const [dir, fanout, name, ...rest] = key.split("/");
  if (dir !== BLOBS_DIR || rest.length > 0 || name === undefined || !isSha256(name)) return undefined;
  return fanout === name.slice(0, 2) ? name : undefined;
}

/** The (stage, fingerprint) a key below the root names, or undefined for anything else. */
export function parseRecordKey(key: string): { stage: string; fingerprint: string } | undefined {
  const [dir, encodedStage, file, ...rest] = key.split("/");
  if (dir !== RECORDS_DIR || rest.length > 0 || encodedStage === undefined || file === undefined) return undefined;
  if (!file.endsWith(".json")) return undefined;
  const fingerprint = file.slice(0, -".json".length);
  const stage = decodeStageName(encodedStage);
  if (stage === undefined || !FINGERPRINT.test(fingerprint)) return undefined;
  return { stage, fingerprint };
}
