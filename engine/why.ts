import { canonicalJson } from "./canonical-json.ts";
import { formatPath, parsePath } from "./param-path.ts";
import type { FingerprintInputs } from "./fingerprint.ts";
import type { LockedStage } from "./lock-file.ts";

/** Why a stage must run. Structured for `status --json`; `describeReason` words it for people. */
export type StaleReason =
  | { kind: "never-run" }
  | { kind: "forced" }
  | { kind: "param-changed"; path: string; from: unknown; to: unknown }
  | { kind: "param-added"; path: string; to: unknown }
  | { kind: "param-removed"; path: string; from: unknown }
  | { kind: "code-changed"; file: string; change: "modified" | "added" | "removed" }
  | { kind: "package-changed"; name: string; from: string; to: string }
  | { kind: "execution-changed"; option: string; from: string | undefined; to: string | undefined }
  | { kind: "inputs-unverified"; detail: string }
  | { kind: "input-changed"; stage: string }
  | { kind: "upstream-will-run"; stage: string }
  | { kind: "output-missing"; file?: string }
  | { kind: "output-corrupted"; file: string }
  | { kind: "unexplained"; detail: string };

/** Compares what a stage depends on now with what the lock file recorded for its last result. */
export function diffAgainstLock(now: FingerprintInputs, locked: LockedStage | undefined): StaleReason[] {
  if (!locked) return [{ kind: "never-run" }];
  const reasons: StaleReason[] = [];
  for (const [path, to] of Object.entries(now.params)) {
    if (!(path in locked.params)) reasons.push({ kind: "param-added", path, to });
    else reasons.push(...changedLeaves(path, locked.params[path], to));
  }
  for (const [path, from] of Object.entries(locked.params)) {
    if (!(path in now.params)) reasons.push({ kind: "param-removed", path, from });
  }
  for (const [file, hash] of Object.entries(now.code.files)) {
    const before = locked.code.files[file];
    if (before === undefined) reasons.push({ kind: "code-changed", file, change: "added" });
    else if (before !== hash) reasons.push({ kind: "code-changed", file, change: "modified" });
  }
  for (const file of Object.keys(locked.code.files)) {
    if (!(file in now.code.files)) reasons.push({ kind: "code-changed", file, change: "removed" });
  }
  for (const [name, version] of Object.entries(now.code.packages)) {
    const before = locked.code.packages[name] ?? "absent";
    if (before !== version) reasons.push({ kind: "package-changed", name, from: before, to: version });
  }
  for (const option of [...new Set([...Object.keys(now.execution ?? {}), ...Object.keys(locked.execution ?? {})])].sort()) {
    const [from, to] = [locked.execution?.[option], now.execution?.[option]];
    if (from !== to) reasons.push({ kind: "execution-changed", option, from, to });
  }
  const upstream = new Set([...Object.keys(now.inputs), ...Object.keys(locked.inputs)]);
  for (const stage of [...upstream].sort()) {
    if (now.inputs[stage] !== locked.inputs[stage]) reasons.push({ kind: "input-changed", stage });
  }
  return reasons;
}

/**
 * A declared param that is an object (say `model`) names the keys that changed, each with its old and
 * new value, instead of two whole objects the reader has to compare by eye.
 */
function changedLeaves(path: string, from: unknown, to: unknown): StaleReason[] {
  if (canonicalJson(from ?? null) === canonicalJson(to ?? null) && (from === undefined) === (to === undefined)) return [];
  if (!isPlainObject(from) || !isPlainObject(to)) return [{ kind: "param-changed", path, from, to }];
  let base: ReturnType<typeof parsePath>;
  try {
    base = parsePath(path);
  } catch {
    return [{ kind: "param-changed", path, from, to }]; // a declared path this grammar cannot split: report it whole
  }
  const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort();
  return keys.flatMap((key) => changedLeaves(formatPath([...base, key]), from[key], to[key]));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function describeReason(reason: StaleReason): string {
  switch (reason.kind) {
    case "never-run":
      return "never run with these settings";
    case "forced":
      return "forced (--force)";
    case "param-changed":
      return `param ${reason.path} changed from ${show(reason.from)} to ${show(reason.to)}`;
    case "param-added":
      return `now reads param ${reason.path} = ${show(reason.to)}`;
    case "param-removed":
      return `no longer reads param ${reason.path} (was ${show(reason.from)})`;
    case "code-changed":
      return `code ${reason.change}: ${reason.file}`;
    case "package-changed":
      return `package ${reason.name} changed from ${reason.from} to ${reason.to}`;
    case "execution-changed":
      return `--${reason.option} changed from ${reason.from ?? "(not in the key)"} to ${reason.to ?? "(not in the key)"}`;
    case "inputs-unverified":
      return `its inputs were not verified when it ran (${reason.detail}); rerunning (--verify)`;
    case "input-changed":
      return `input from ${reason.stage} changed`;
    case "upstream-will-run":
      return `upstream ${reason.stage} will run first`;
    case "output-missing":
      return reason.file ? `output missing: ${reason.file}` : "cached output missing";
    case "output-corrupted":
      return `output corrupted: ${reason.file} (its SHA-256 no longer matches)`;
    case "unexplained":
      return reason.detail;
  }
}

function show(value: unknown): string {
  const json = JSON.stringify(value);
  return json === undefined ? "(absent)" : json.length > 80 ? `${json.slice(0, 77)}...` : json;
}
