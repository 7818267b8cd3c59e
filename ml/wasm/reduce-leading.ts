/**
 * Sum / Mean over *leading* axes for wasm: bias gradients (Σ over N,H,W of a conv's dy),
 * BatchNorm moments and batch means all reduce this way.
 *
 * The stock kernels only reduce innermost axes, so they first transpose the whole tensor to move
 * the reduced axes last: ~12 ms for a [64,28,28,32] bias gradient, longer than the convolution.
 * Viewed as [1, R, 1, C] (R = product of the reduced axes), the same reduction is one XNNPACK
 * average pool with an R×1 window, which streams the tensor once; Sum scales the mean back by R.
 * Any other reduction (inner axes, mixed axes, non-float) goes to the stock kernel.
 */
import * as tf from "@tensorflow/tfjs";
import { asWasm, dispose, originalKernel, run, view, type Info } from "./kernel-utils.ts";

function leadingReduction(kernelName: "Sum" | "Mean"): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const x = inputs["x"] as Info;
    const { axis, keepDims } = attrs as unknown as tf.SumAttrs;
    const rank = x.shape.length;
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
    const prefix = axes.length > 0 && axes.length < rank && axes.every((ax, i) => ax === i);
    const reduced = x.shape.slice(0, axes.length).reduce((p, s) => p * s, 1);
    const kept = x.shape.slice(axes.length);
    const keptSize = kept.reduce((p, s) => p * s, 1);
    if (!prefix || x.dtype !== "float32" || reduced <= 1 || keptSize === 0) {
      const original = originalKernel(kernelName);
      if (original === undefined) throw new Error(`original wasm ${kernelName} missing`);
      return original(args);
    }

    const wasm = asWasm(backend);
    const outShape = keepDims ? [...axes.map(() => 1), ...kept] : kept;
    const mean = run(wasm, "AvgPool", { x: view(x, [1, reduced, 1, keptSize]) }, {
      filterSize: [reduced, 1],
      strides: [1, 1],
      pad: "valid",
    });
    if (kernelName === "Mean") return view(mean, outShape);

    const count = wasm.makeOutput([], "float32");
    wasm.typedArrayFromHeap(count)[0] = reduced;
    const sum = run(wasm, "Multiply", { a: mean, b: count });
    dispose(wasm, mean, count);
    return view(sum, outShape);
  };
}

export const sumKernel = leadingReduction("Sum");
export const meanKernel = leadingReduction("Mean");
