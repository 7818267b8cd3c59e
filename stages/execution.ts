import type { ExecutionOption } from "../engine/index.ts";
import { resolveBackendPreference } from "../ml/backend-choice.ts";

/**
 * How this project's ML stages execute, declared to the engine (which passes them through as
 * `--backend` and `--threads`). The backend is part of a trained result's key: tfjs-node, wasm and
 * cpu round differently, so a shared cache never serves one backend's model for another. The
 * thread count is only recorded: test/ml/wasm-threads.test.ts shows 1 and 2 threads train
 * bit-identical weights.
 */
export const executionOptions: readonly ExecutionOption[] = [
  {
    name: "backend",
    description: "TensorFlow.js backend: auto (tensorflow-gpu, then tensorflow, then wasm), tensorflow-gpu, tensorflow, wasm or cpu",
    policy: "key",
    env: "PIPELINE_BACKEND",
    defaultValue: () => "auto",
    resolve: (value) => resolveBackendPreference(value),
  },
  {
    name: "threads",
    description: "threads each ML stage may use (default: cores / jobs, at least 1)",
    policy: "recorded",
    env: "PIPELINE_STAGE_THREADS",
    // Split between concurrent stages: wasm's pool threads that wait for a core only spin.
    defaultValue: ({ cores, jobs }) => String(Math.max(1, Math.floor(cores / jobs))),
    resolve: (value) => {
      const threads = Number(value);
      if (!Number.isInteger(threads) || threads < 1) throw new Error("expects a positive whole number");
      return String(threads);
    },
  },
];

/** The options every ML stage (training, evaluation, analyses of weights) declares. */
export const ML_EXECUTION = ["backend", "threads"] as const;

export function executionWarnings(resolved: Readonly<Record<string, string>>, machine: { cores: number; jobs: number }): string[] {
  const threads = Number(resolved.threads);
  if (machine.jobs * threads <= machine.cores) return [];
  return [
    `--jobs ${machine.jobs} × ${threads} threads per stage = ${machine.jobs * threads} threads on ${machine.cores} cores; ` +
      "wasm's idle pool threads spin, so training will likely be slower than with the default (cores / jobs)",
  ];
}
