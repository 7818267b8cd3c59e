/**
 * Loads kernels.wasm (see kernels.wat) onto the wasm backend's own memory, once per backend
 * memory, and calls its functions with tensors' heap offsets: no copies in or out.
 */
import { readFileSync } from "node:fs";
import type * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { binaryUrl, type MaddVariant, type MemoryKind } from "./binaries.ts";

/** The exports of kernels.wat; every pointer is a byte offset into the backend's heap. */
export interface SimdKernels {
  max_pool_grad(
    x: number, dy: number, dx: number, n: number, h: number, w: number, c: number, oh: number, ow: number,
    fh: number, fw: number, sh: number, sw: number, top: number, left: number,
  ): void;
  max_pool_grad_2x2(x: number, dy: number, dx: number, n: number, h: number, w: number, c: number, oh: number, ow: number): void;
  copy_rows(src: number, srcRowBytes: number, dst: number, dstRowBytes: number, rows: number, rowBytes: number, left: number): void;
  conv_forward(
    x: number, w: number, bias: number, y: number, n: number, h: number, wp: number, c: number,
    oh: number, ow: number, o: number, oStride: number, fh: number, fw: number, sh: number, sw: number, top: number,
  ): void;
  winograd_conv(
    x: number, u: number, bias: number, y: number, v: number, m: number,
    n: number, hp: number, wp: number, c: number, oh: number, ow: number, o: number, op: number,
  ): void;
  winograd5_conv(
    x: number, u: number, bias: number, y: number, v: number, m: number, s: number,
    n: number, hp: number, wp: number, c: number, oh: number, ow: number, o: number, op: number,
  ): void;
  winograd_filter_grad(
    x: number, dy: number, u: number, v: number, dd: number, s: number, alpha: number,
    n: number, hp: number, wp: number, c: number, oh: number, ow: number, o: number,
  ): void;
  pad_images(src: number, dst: number, n: number, h: number, w: number, c: number, hp: number, wp: number, top: number, left: number, cp: number): void;
  conv_filter_grad(
    x: number, dy: number, dW: number, n: number, h: number, wp: number, c: number, oh: number, ow: number, o: number,
    fh: number, fw: number, sh: number, sw: number, top: number, kRows: number, dwStride: number,
  ): void;
  bias_add(x: number, b: number, y: number, rows: number, c: number): void;
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

const modules = new Map<string, WebAssembly.Module>();
const instances = new Map<MaddVariant, WeakMap<WebAssembly.Memory, SimdKernels>>();
let variant: MaddVariant = "separate";

/**
 * For the kernel benchmark only: run the "relaxed" build (see build.ts) from now on, assembled
 * here (needs the wabt devDependency, and a Node that validates relaxed SIMD: Node 20 needs
 * --experimental-wasm-relaxed-simd). Training always runs the committed "separate" build.
 */
export async function useMaddVariant(next: MaddVariant): Promise<void> {
  if (next === "relaxed" && !modules.has("plain/relaxed")) {
    const { assemble } = await import("./build.ts");
    for (const kind of ["plain", "shared"] as const) modules.set(`${kind}/relaxed`, new WebAssembly.Module(new Uint8Array(await assemble(kind, "relaxed"))));
  }
  variant = next;
}

function compiled(kind: MemoryKind, madd: MaddVariant): WebAssembly.Module {
  const key = `${kind}/${madd}`;
  let module = modules.get(key);
  if (module === undefined) {
    module = new WebAssembly.Module(readFileSync(binaryUrl(kind)));
    modules.set(key, module);
  }
  return module;
}

export function simdKernels(backend: BackendWasm): SimdKernels {
  const memory = backendMemory(backend);
  let byMemory = instances.get(variant);
  if (byMemory === undefined) instances.set(variant, (byMemory = new WeakMap()));
  let kernels = byMemory.get(memory);
  if (kernels === undefined) {
    const kind: MemoryKind = memory.buffer instanceof SharedArrayBuffer ? "shared" : "plain";
    const instance = new WebAssembly.Instance(compiled(kind, variant), { env: { memory } });
    kernels = instance.exports as unknown as SimdKernels;
    byMemory.set(memory, kernels);
  }
  return kernels;
}

/** Byte offset of a tensor's data in the backend's heap. */
export function heapOffset(backend: BackendWasm, info: tf.TensorInfo): number {
  const data = backend.dataIdMap.get(info.dataId);
  if (data === undefined) throw new Error("tensor is not on this wasm backend (disposed?)");
  return data.memoryOffset;
}

/** Bytes in the backend's heap: a kernel may read up to here. */
export function heapBytes(backend: BackendWasm): number {
  return backendMemory(backend).buffer.byteLength;
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
