/**
 * Slice for wasm, replacing the stock kernel, which starts with `backend.readSync(x)`: a copy of
 * the *whole* input out of the wasm heap for every slice. Taking a 64-image batch out of a
 * 60000×784 MNIST tensor thus copied 188 MB per batch; our own kernels slice big intermediates
 * too. This version reads the heap in place and copies only the selected runs.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { asWasm, originalKernel, type Info } from "./kernel-utils.ts";

export function sliceInfo(backend: BackendWasm, x: Info, begin: number[], size: number[]): Info {
  const out = backend.makeOutput(size, x.dtype);
  if (size.every((s) => s > 0)) copySlice(backend, x, begin, size, backend.typedArrayFromHeap(out), 0);
  return out;
}

/** Copies x[begin : begin+size] (row-major) into dst starting at dstOffset. */
export function copySlice(
  backend: BackendWasm, x: Info, begin: number[], size: number[], dst: tf.TypedArray, dstOffset: number,
): void {
  const src = backend.typedArrayFromHeap(x);
  const rank = x.shape.length;
  const strides = [...tf.util.computeStrides(x.shape), 1];
  // The longest contiguous run: the last axis plus every outer axis taken whole behind it.
  let k = rank - 1;
  let run = size[k] ?? 1;
  while (k > 0 && size[k] === x.shape[k]) {
    k--;
    run *= size[k]!;
  }
  const base = begin.reduce((off, b, d) => off + b * strides[d]!, 0);
  if (k <= 0) {
    dst.set(src.subarray(base, base + run), dstOffset);
    return;
  }
  // Odometer over the axes before k.
  const index = new Array<number>(k).fill(0);
  let outOffset = dstOffset;
  for (;;) {
    let off = base;
    for (let d = 0; d < k; d++) off += index[d]! * strides[d]!;
    dst.set(src.subarray(off, off + run), outOffset);
    outOffset += run;
    let d = k - 1;
    while (d >= 0 && ++index[d]! === size[d]) index[d--] = 0;
    if (d < 0) break;
  }
}

export const sliceKernel: tf.KernelFunc = (args) => {
  const { inputs, backend, attrs } = args;
  const x = inputs["x"] as Info;
  if (x.dtype === "string" || x.shape.length === 0) {
    const original = originalKernel("Slice");
    if (original === undefined) throw new Error("original wasm Slice missing");
    return original(args);
  }
  const a = attrs as unknown as tf.SliceAttrs;
  const [begin = [], size = []] = tf.slice_util.parseSliceParams(x, a.begin, a.size);
  return sliceInfo(asWasm(backend), x, begin, size);
};
