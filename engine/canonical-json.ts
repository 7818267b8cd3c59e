import { createHash } from "node:crypto";

/**
 * JSON with object keys sorted at every depth, so two equal values always serialize to the same
 * bytes — the basis of every fingerprint (as in google/wireit). `undefined` members are dropped,
 * like JSON.stringify does; non-finite numbers are refused because JSON cannot carry them.
 */
export function canonicalJson(value: unknown, indent?: number): string {
  return JSON.stringify(sortDeep(value), null, indent);
}

function sortDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortDeep);
  if (typeof value === "number" && !Number.isFinite(value)) {
    throw new TypeError(`cannot fingerprint the non-finite number ${value}`);
  }
  if (value === null || typeof value !== "object") return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const member = (value as Record<string, unknown>)[key];
    if (member !== undefined) sorted[key] = sortDeep(member);
  }
  return sorted;
}

export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export function fingerprintOf(value: unknown): string {
  return sha256(canonicalJson(value));
}
