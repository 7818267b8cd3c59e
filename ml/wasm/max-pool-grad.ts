/**
 * MaxPoolGrad for wasm, replacing the stock kernel, which is slow (~45 ns per input element) and
 * wrong: it starts its running max at FLT_MIN (the smallest *positive* float) with `>=`, so a
 * window whose max is ≤ 0 (an all-zero ReLU window, anything after BatchNorm) sends its gradient
 * to a stray position, and ties go to the last max instead of the first. This follows
 * tfjs-backend-cpu: each window's gradient goes to its first strict max (from -inf) in row-major
 * order; a window of only -inf or NaN passes none.
 *
 * One pass in hand-written wasm (simd/kernels.wat `max_pool_grad`) over the forward input. The
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
  wasm.typedArrayFromHeap(dx).fill(0); // windows add into dx; uncovered pixels get no gradient
  simdKernels(wasm).max_pool_grad(
    heapOffset(wasm, x), heapOffset(wasm, dy), heapOffset(wasm, dx),
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left,
  );
  return dx;
};
