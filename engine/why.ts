import { canonicalJson } from "./canonical-json.ts";
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
    else if (canonicalJson(locked.params[path]) !== canonicalJson(to)) {
      reasons.push({ kind: "param-changed", path, from: locked.params[path], to });
    }
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
  const upstream = new Set([...Object.keys(now.inputs), ...Object.keys(locked.inputs)]);
  for (const stage of [...upstream].sort()) {
    if (now.inputs[stage] !== locked.inputs[stage]) reasons.push({ kind: "input-changed", stage });
  }
  return reasons;
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
  return json === undefined ? "undefined" : json.length > 80 ? `${json.slice(0, 77)}...` : json;
}
