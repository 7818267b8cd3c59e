/**
 * Pick and initialise the TensorFlow.js backend, and record what ran (for the run's provenance).
 *
 *   auto: tfjs-node-gpu (CUDA) -> tfjs-node (native CPU) -> wasm -> cpu (pure JS).
 *
 * The native packages are optional dependencies that often fail to install (no prebuilt binary
 * for the platform), so they are loaded with a dynamic import() inside try/catch. The wasm backend
 * ships without some gradient kernels; ml/wasm/register-training-kernels.ts adds them and must run
 * before tf.setBackend("wasm"). With PIPELINE_STAGE_THREADS > 1 the wasm backend runs its threaded
 * build (ml/wasm/threads.ts); the thread count never changes results.
 */
import { createRequire } from "node:module";
import * as tf from "@tensorflow/tfjs";
import { prepareThreadedWasm, stageThreadsFromEnv } from "./wasm/threads.ts";

export type BackendPreference = "auto" | "tensorflow-gpu" | "tensorflow" | "wasm" | "cpu";
export type BackendName = "tensorflow-gpu" | "tensorflow" | "wasm" | "cpu";

export interface SelectedBackend {
  /** What we selected. "tensorflow-gpu" runs on the tfjs backend named "tensorflow" (CUDA build). */
  name: BackendName;
  /** tfjs's own name of the active backend (tf.getBackend()). */
  tfBackend: string;
  /** Package versions: tfjs-core & co, plus tfjs-backend-wasm / tfjs-node(-gpu) when used. */
  versions: Record<string, string>;
  /** Backend details that change speed, never results: wasm SIMD/threads. */
  details: Record<string, string | number | boolean>;
  /** Why the preferred backends before this one were skipped (auto only). */
  skipped: Array<{ name: BackendName; reason: string }>;
}

const NATIVE_PACKAGE: Record<"tensorflow-gpu" | "tensorflow", string> = {
  "tensorflow-gpu": "@tensorflow/tfjs-node-gpu",
  tensorflow: "@tensorflow/tfjs-node",
};

const ORDER: BackendName[] = ["tensorflow-gpu", "tensorflow", "wasm", "cpu"];

export async function selectBackend(preferred: BackendPreference): Promise<SelectedBackend> {
  if (preferred !== "auto" && !ORDER.includes(preferred)) {
    throw new Error(`unknown backend "${String(preferred)}": use auto, ${ORDER.join(", ")}`);
  }
  stageThreadsFromEnv(); // a bad value is the user's to fix, not a reason for auto to skip wasm
  const candidates = preferred === "auto" ? ORDER : [preferred];
  const skipped: SelectedBackend["skipped"] = [];
  for (const name of candidates) {
    try {
      const extra = await activate(name);
      return {
        name,
        tfBackend: tf.getBackend(),
        versions: { ...tfVersions(), ...extra.versions },
        details: extra.details,
        skipped,
      };
    } catch (error) {
      const reason = (error as Error).message;
      if (preferred !== "auto") {
        throw new Error(`backend "${name}" is not available: ${reason}. ${howToFix(name)}`, { cause: error });
      }
      skipped.push({ name, reason });
    }
  }
  // cpu is always registered by @tensorflow/tfjs, so this only happens if tfjs itself is broken.
  throw new Error(`no TensorFlow.js backend could be initialised: ${skipped.map((s) => `${s.name}: ${s.reason}`).join("; ")}`);
}

interface Activated {
  versions: Record<string, string>;
  details: Record<string, string | number | boolean>;
}

async function activate(name: BackendName): Promise<Activated> {
  switch (name) {
    case "tensorflow-gpu":
    case "tensorflow": {
      const pkg = NATIVE_PACKAGE[name];
      // A variable specifier keeps TypeScript from requiring the (usually absent) package's types.
      const specifier: string = pkg;
      let mod: { version?: Record<string, string> };
      try {
        mod = (await import(specifier)) as typeof mod;
      } catch (error) {
        throw new Error(`cannot load ${pkg} (${firstLine((error as Error).message)})`, { cause: error });
      }
      await setBackend("tensorflow");
      return { versions: { [pkg.replace("@tensorflow/", "")]: mod.version?.["tfjs-node"] ?? packageVersion(pkg) }, details: {} };
    }
    case "wasm": {
      const wasm = await import("@tensorflow/tfjs-backend-wasm");
      const { registerWasmTrainingKernels } = await import("./wasm/register-training-kernels.ts");
      registerWasmTrainingKernels();
      const threads = stageThreadsFromEnv();
      let threaded: ReturnType<typeof prepareThreadedWasm> | undefined;
      let threadsUnavailable: string | undefined;
      try {
        threaded = threads > 1 ? prepareThreadedWasm(threads, tf.env(), wasm.setThreadsCount) : undefined;
      } catch (error) {
        // Threads only change speed: without them (e.g. no writable temp dir) wasm still trains.
        threadsUnavailable = firstLine((error as Error).message);
      }
      try {
        await setBackend("wasm");
      } finally {
        threaded?.restore(tf.getBackend() === "wasm" ? (tf.backend() as { wasm?: unknown }).wasm : undefined);
      }
      return {
        versions: { "tfjs-backend-wasm": wasm.version_wasm },
        details: {
          simd: Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")),
          multithread: Boolean(await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT")),
          threads: wasm.getThreadsCount(),
          ...(threadsUnavailable === undefined ? {} : { threadsUnavailable }),
        },
      };
    }
    case "cpu":
      await setBackend("cpu");
      return { versions: {}, details: {} };
  }
}

async function setBackend(tfName: string): Promise<void> {
  // setBackend resolves false (it does not throw) when the backend's initialisation fails.
  const ok = await tf.setBackend(tfName);
  await tf.ready();
  if (!ok || tf.getBackend() !== tfName) throw new Error(`tf.setBackend("${tfName}") failed to initialise it`);
}

function tfVersions(): Record<string, string> {
  const v: Record<string, string> = {};
  for (const [k, value] of Object.entries(tf.version)) if (typeof value === "string") v[k] = value;
  return v;
}

function packageVersion(pkg: string): string {
  try {
    return (createRequire(import.meta.url)(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

function howToFix(name: BackendName): string {
  switch (name) {
    case "tensorflow-gpu":
      return "Install @tensorflow/tfjs-node-gpu 4.22.0 (needs Linux x64, CUDA 11.2 and cuDNN 8.1; `npm install` builds it from the optional dependencies), or choose backend auto, tensorflow, wasm or cpu";
    case "tensorflow":
      return "Install @tensorflow/tfjs-node 4.22.0 (needs a prebuilt libtensorflow for this platform; `npm install` fetches it from the optional dependencies), or choose backend auto, wasm or cpu";
    case "wasm":
      return "Check that @tensorflow/tfjs-backend-wasm 4.22.0 is installed (`npm install`) and that ml/wasm/register-training-kernels.ts loads, or choose backend cpu";
    case "cpu":
      return "Reinstall @tensorflow/tfjs (`npm install`)";
  }
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}
