/**
 * Runs the wasm backend's threaded-SIMD build under Node, so XNNPACK's thread pool spreads
 * convolutions, matmuls, pooling and element-wise ops over several cores.
 *
 * tfjs-backend-wasm 4.22 ships that build but never uses it under Node: its
 * WASM_HAS_MULTITHREAD_SUPPORT flag returns false when IS_NODE (tfjs issue 3830), and forcing the
 * flag alone fails in three places, each patched here for the duration it matters:
 *  1. The pthread worker script is handed to `new Worker()` as a `blob:` URL, which Node's Worker
 *     rejects (ERR_WORKER_PATH). We write the script to a file once (content-addressed, in the OS
 *     temp dir, renamed into place so a concurrent process never reads half of it) and make
 *     `URL.createObjectURL` return that path for exactly that blob.
 *  2. Inside each worker, the "load" message sends the main Emscripten script as a Blob again; the
 *     worker file starts with a prelude that maps it to the script on disk.
 *  3. The backend caps its pool at half the logical cores (it assumes hyper-threads), so on a
 *     2-core machine it would make one thread. `os.cpus()` reports enough cores while the backend
 *     initialises, and the real list afterwards.
 *
 * Results do not depend on the thread count: XNNPACK splits work by output tiles, and each output
 * is still reduced in the same order by one thread (test/ml/wasm-threads.test.ts trains with 1 and
 * 2 threads and compares every weight bit for bit). Threads only pay when the cores are otherwise
 * idle: idle pool threads spin, so running several threaded trainings at once is slower than
 * running them single-threaded side by side. The pipeline therefore gives each stage
 * cores / jobs threads (PIPELINE_STAGE_THREADS, set by the CLI).
 */
import { createHash } from "node:crypto";
import { existsSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);

/** Threads per stage from PIPELINE_STAGE_THREADS (unset: 1, the single-threaded build). */
export function stageThreadsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.PIPELINE_STAGE_THREADS;
  if (raw === undefined || raw === "") return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`PIPELINE_STAGE_THREADS must be a positive integer, got "${raw}" (set by --threads)`);
  }
  return n;
}

export interface ThreadedWasm {
  /**
   * Call right after the backend initialised (with its Emscripten module): puts os.cpus back and
   * unrefs the pool's workers, which would otherwise keep the process alive after its work ends.
   */
  restore(module: unknown): void;
}

interface EmscriptenThreads {
  PThread?: { unusedWorkers: Array<{ unref(): void }>; runningWorkers: Array<{ unref(): void }> };
}

/**
 * Prepares the threaded build; call before `tf.setBackend("wasm")`, then `restore()` after it.
 * `flags` is tfjs's env (passed in so this file needs no tfjs import of its own).
 */
export function prepareThreadedWasm(
  threads: number,
  flags: { set(name: string, value: boolean): void },
  setThreadsCount: (n: number) => void,
): ThreadedWasm {
  const pkg = dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json"));
  const mainScript = join(pkg, "wasm-out", "tfjs-backend-wasm-threaded-simd.js");
  const { wasmWorkerContents } = require(join(pkg, "wasm-out", "tfjs-backend-wasm-threaded-simd.worker.js")) as {
    wasmWorkerContents: string;
  };
  // The backend escapes newlines the same way before making its Blob; its size identifies it.
  const blobText = wasmWorkerContents.replace(/\n/g, "\\n");
  const blobSize = Buffer.byteLength(blobText);
  const prelude = `URL.createObjectURL=()=>${JSON.stringify(mainScript)};URL.revokeObjectURL=()=>{};\n`;
  const workerFile = writeOnce(prelude + blobText);

  const createObjectURL = URL.createObjectURL.bind(URL);
  URL.createObjectURL = (obj: Blob | MediaSource): string =>
    obj instanceof Blob && obj.type === "application/javascript" && obj.size === blobSize ? workerFile : createObjectURL(obj);

  const cpus = os.cpus;
  os.cpus = () => {
    const list = cpus();
    const first = list[0];
    while (first !== undefined && list.length < 2 * threads) list.push(first);
    return list;
  };
  flags.set("WASM_HAS_MULTITHREAD_SUPPORT", true);
  setThreadsCount(threads);
  // URL.createObjectURL stays patched: Emscripten starts more pool workers later when needed.
  return {
    restore: (module) => {
      os.cpus = cpus;
      const pool = (module as EmscriptenThreads | undefined)?.PThread;
      for (const worker of [...(pool?.unusedWorkers ?? []), ...(pool?.runningWorkers ?? [])]) worker.unref();
    },
  };
}

function writeOnce(text: string): string {
  const hash = createHash("sha256").update(text).digest("hex").slice(0, 16);
  const path = join(os.tmpdir(), `tfjs-wasm-pthread-${hash}.cjs`);
  if (!existsSync(path)) {
    const temp = `${path}.${process.pid}.tmp`;
    writeFileSync(temp, text);
    renameSync(temp, path);
  }
  return path;
}
