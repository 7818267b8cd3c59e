/**
 * Shared plumbing for the wasm training kernels: calling the backend's own kernels from inside a
 * kernel (the engine is not re-entered, so nothing is tracked and every intermediate TensorInfo
 * must be disposed by hand) and remembering the wasm originals we override.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { sliceInfo } from "./slice.ts";

export type Info = tf.TensorInfo;
export type Attrs = tf.NamedAttrMap;
export type Pads = [[number, number], [number, number], [number, number], [number, number]];

/**
 * The wasm kernels as they were before we registered anything. Overrides must call these (never
 * `tf.getKernel`, which would return the override itself and recurse).
 */
const originals = new Map<string, tf.KernelConfig>();

/** Call before overriding `name`; a no-op once remembered (so overrides never remember themselves). */
export function rememberOriginal(name: string): void {
  if (originals.has(name)) return;
  const config = tf.getKernel(name, "wasm");
  if (config !== undefined) originals.set(name, config);
}

/** The stock config, with its setupFunc (which binds the C function the kernelFunc calls). */
export function originalConfig(name: string): tf.KernelConfig | undefined {
  return originals.get(name);
}

export function originalKernel(name: string): tf.KernelFunc | undefined {
  return originals.get(name)?.kernelFunc;
}

/** Runs a wasm kernel: the remembered original if we override it, else whatever is registered. */
export function run(backend: BackendWasm, name: string, inputs: Record<string, Info>, attrs: Attrs = {}): Info {
  const func = originalKernel(name) ?? tf.getKernel(name, "wasm")?.kernelFunc;
  if (func === undefined) throw new Error(`wasm kernel ${name} is not registered`);
  const out = func({ inputs, backend, attrs });
  if (Array.isArray(out)) throw new Error(`wasm kernel ${name} returned several outputs`);
  return out;
}

/** Frees intermediates made by `run` (never the kernel's own inputs or its output). */
export function dispose(backend: BackendWasm, ...infos: Info[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/**
 * A reshape that shares the buffer: same dataId, so it must not be disposed on its own (dispose
 * the info it came from). Cheaper than the Reshape kernel, which only bumps a refcount anyway.
 */
export function view(info: Info, shape: number[]): Info {
  return { dataId: info.dataId, shape, dtype: info.dtype };
}

export function transpose(backend: BackendWasm, x: Info, perm: number[]): Info {
  return run(backend, "Transpose", { x }, { perm });
}

/** Swaps the last two axes of a rank ≥ 2 tensor. */
export function transposeLast2(backend: BackendWasm, x: Info): Info {
  const rank = x.shape.length;
  const perm = [...Array(rank).keys()];
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return transpose(backend, x, perm);
}

/** A slice that copies only the selected runs (see slice.ts for why not the stock kernel). */
export function slice(backend: BackendWasm, x: Info, begin: number[], size: number[]): Info {
  return sliceInfo(backend, x, begin, size);
}

/** The explicit NHWC pads a conv uses, from `computeConv2DInfo`'s padInfo. */
export function padsOf(info: tf.backend_util.Conv2DInfo): Pads {
  const p = info.padInfo;
  return [[0, 0], [p.top, p.bottom], [p.left, p.right], [0, 0]];
}

/**
 * The hand-written kernels read raw heap offsets with the sizes the attributes imply, so a tensor
 * of another shape would make them read past it: check first.
 */
export function assertShape(kernel: string, input: string, info: Info, expected: readonly number[]): void {
  if (info.shape.length !== expected.length || info.shape.some((d, k) => d !== expected[k])) {
    throw new Error(`${kernel}: ${input} has shape [${info.shape.join(", ")}], but the other inputs and attributes imply [${expected.join(", ")}]`);
  }
}

export function asWasm(backend: unknown): BackendWasm {
  return backend as BackendWasm;
}
