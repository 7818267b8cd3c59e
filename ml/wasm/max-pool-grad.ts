/**
 * MaxPoolGrad for wasm, replacing the stock kernel, which is slow (~45 ns per input element) and
 * wrong: it starts its running max at FLT_MIN (the smallest *positive* float) with `>=`, so a
 * window whose max is ≤ 0 (an all-zero ReLU window, anything after BatchNorm) sends its gradient
 * to a stray position, and ties go to the last max instead of the first. This follows
 * tfjs-backend-cpu: each window's gradient goes to its first strict max (from -inf) in row-major
 * order; a window of only -inf or NaN passes none.
 *
 * One pass in hand-written wasm over the forward input: `max_pool_grad_2x2` for the studies' 2×2
 * pools at stride 2, whose windows tile the image (each writes its own pixels, so dx needs no
 * zeroing and no adding), `max_pool_grad` for any other window. The
 * earlier formulation from the backend's own kernels (phase-split transposes, a Step/Multiply/Sub
 * chain per window tap) made ~20 passes over the tensor: `simple`'s two pools took 24 ms of a
 * 205 ms training step (batch 64, one thread, every kernel timed), 7 ms with this kernel.
 */
import * as tf from "@tensorflow/tfjs";
import { asWasm, assertShape, type Info } from "./kernel-utils.ts";
import { heapOffset, simdKernels } from "./simd/kernels.ts";

export const maxPoolGradKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasm(backend);
  const dy = inputs["dy"] as Info;
  const x = inputs["input"] as Info;
  const a = attrs as unknown as tf.MaxPoolGradAttrs;
  const info = tf.backend_util.computePool2DInfo(
    x.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode,
  );
  assertShape("MaxPoolGrad", "dy", dy, info.outShape);
  const dx = wasm.makeOutput(x.shape, "float32");
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const tiled = info.filterHeight === 2 && info.filterWidth === 2 && info.strideHeight === 2 && info.strideWidth === 2;
  if (tiled && info.padInfo.top === 0 && info.padInfo.left === 0 && 2 * oh <= h && 2 * ow <= w) {
    // Windows that tile the image write every pixel they cover; only an odd last row or column is left.
    if (h !== 2 * oh || w !== 2 * ow) wasm.typedArrayFromHeap(dx).fill(0);
    simdKernels(wasm).max_pool_grad_2x2(heapOffset(wasm, x), heapOffset(wasm, dy), heapOffset(wasm, dx), n, h, w, c, oh, ow);
    return dx;
  }
  wasm.typedArrayFromHeap(dx).fill(0); // windows add into dx; uncovered pixels get no gradient
  simdKernels(wasm).max_pool_grad(
    heapOffset(wasm, x), heapOffset(wasm, dy), heapOffset(wasm, dx),
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left,
  );
  return dx;
};
