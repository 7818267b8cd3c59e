import { existsSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { BackendName, BackendPreference } from "./backend.ts";

/**
 * Which backend `auto` will give on this machine, decided without loading TensorFlow.js (a no-op
 * run must stay cheap): a native package counts only when its compiled binding is present, since
 * its install step downloads libtensorflow and leaves the package without one when that fails.
 * The backend is part of a trained result's cache key (backends round differently), so the
 * resolved name, never "auto", is what keys and records carry.
 */
export const BACKEND_PREFERENCES: readonly BackendPreference[] = ["auto", "tensorflow-gpu", "tensorflow", "wasm", "cpu"];

const NATIVE: ReadonlyArray<[BackendName, string]> = [
  ["tensorflow-gpu", "@tensorflow/tfjs-node-gpu"],
  ["tensorflow", "@tensorflow/tfjs-node"],
];

export function resolveBackendPreference(value: string): BackendName {
  if (!BACKEND_PREFERENCES.includes(value as BackendPreference)) {
    throw new Error(`not a backend; use one of ${BACKEND_PREFERENCES.join(", ")}`);
  }
  if (value !== "auto") return value as BackendName;
  for (const [name, pkg] of NATIVE) if (hasNativeBinding(pkg)) return name;
  return "wasm";
}

function hasNativeBinding(pkg: string): boolean {
  let root: string;
  try {
    root = dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`));
  } catch {
    return false;
  }
  const lib = join(root, "lib");
  if (!existsSync(lib)) return false;
  return readdirSync(lib).some((entry) => entry.startsWith("napi-v") && existsSync(join(lib, entry, "tfjs_binding.node")));
}
