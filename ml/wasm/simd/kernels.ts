/**
 * Loads kernels.wasm (see kernels.wat) onto the wasm backend's own memory, once per backend
 * memory, and calls its functions with tensors' heap offsets: no copies in or out.
 */
import { readFileSync } from "node:fs";
import type * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { binaryUrl, type MemoryKind } from "./binaries.ts";

/** The exports of kernels.wat; every pointer is a byte offset into the backend's heap. */
export interface SimdKernels {
  max_pool_grad(
    x: number, dy: number, dx: number, n: number, h: number, w: number, c: number, oh: number, ow: number,
    fh: number, fw: number, sh: number, sw: number, top: number, left: number,
  ): void;
  conv_filter_grad(
    x: number, dy: number, dW: number, n: number, h: number, w: number, c: number, oh: number, ow: number, o: number,
    fh: number, fw: number, sh: number, sw: number, dh: number, dw: number, top: number, left: number,
  ): void;
  matmul(a: number, b: number, c: number, bias: number, m: number, k: number, n: number, aRow: number, aCol: number): void;
  sgd_update(p: number, g: number, pOut: number, n: number, lr: number): void;
  sgd_momentum_update(p: number, g: number, buf: number, pOut: number, bufOut: number, n: number, momentum: number, lr: number): void;
  rmsprop_update(
    p: number, g: number, v: number, pOut: number, vOut: number, n: number,
    alpha: number, oneMinusAlpha: number, lr: number, eps: number,
  ): void;
  adam_update(
    p: number, g: number, m: number, v: number, pOut: number, mOut: number, vOut: number, n: number,
    b1: number, oneMinusB1: number, b2: number, oneMinusB2: number, sqrtBias2: number, eps: number, stepSize: number,
  ): void;
}

const modules = new Map<MemoryKind, WebAssembly.Module>();
const instances = new WeakMap<WebAssembly.Memory, SimdKernels>();

export function simdKernels(backend: BackendWasm): SimdKernels {
  const memory = backendMemory(backend);
  let kernels = instances.get(memory);
  if (kernels === undefined) {
    const kind: MemoryKind = memory.buffer instanceof SharedArrayBuffer ? "shared" : "plain";
    let module = modules.get(kind);
    if (module === undefined) {
      module = new WebAssembly.Module(readFileSync(binaryUrl(kind)));
      modules.set(kind, module);
    }
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    kernels = instance.exports as unknown as SimdKernels;
    instances.set(memory, kernels);
  }
  return kernels;
}

/** Byte offset of a tensor's data in the backend's heap. */
export function heapOffset(backend: BackendWasm, info: tf.TensorInfo): number {
  const data = backend.dataIdMap.get(info.dataId);
  if (data === undefined) throw new Error("tensor is not on this wasm backend (disposed?)");
  return data.memoryOffset;
}

/**
 * The Emscripten module keeps its memory in `wasmMemory` (threaded build: it creates the shared
 * memory) or only among the instance exports (`asm.memory`, single-threaded build).
 */
function backendMemory(backend: BackendWasm): WebAssembly.Memory {
  const module = backend.wasm as unknown as { wasmMemory?: unknown; asm?: { memory?: unknown } };
  const memory = module.wasmMemory ?? module.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) {
    throw new Error("tfjs-backend-wasm: cannot find the module's WebAssembly.Memory (wasmMemory / asm.memory); has its build changed?");
  }
  return memory;
}
