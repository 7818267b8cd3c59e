import type { StageContext } from "../engine/index.ts";
import { selectBackend, type BackendPreference, type SelectedBackend } from "./backend.ts";

const PREFERENCES: readonly BackendPreference[] = ["auto", "tensorflow-gpu", "tensorflow", "wasm", "cpu"];

/**
 * The backend for a stage: `--backend NAME` on the CLI sets PIPELINE_BACKEND, which stage processes
 * inherit. Records what was chosen (and why others were skipped) in the stage's lock entry.
 */
export async function activateBackend(context?: Pick<StageContext, "recordEnvironment">): Promise<SelectedBackend> {
  const requested = (process.env.PIPELINE_BACKEND ?? "auto") as BackendPreference;
  if (!PREFERENCES.includes(requested)) {
    throw new Error(`--backend ${requested} is not a backend; use one of ${PREFERENCES.join(", ")}`);
  }
  const backend = await selectBackend(requested);
  context?.recordEnvironment({
    backend: backend.name,
    ...Object.fromEntries(Object.entries(backend.versions).map(([name, version]) => [`version:${name}`, version])),
    ...Object.fromEntries(Object.entries(backend.details).map(([name, value]) => [`backend:${name}`, String(value)])),
  });
  return backend;
}
