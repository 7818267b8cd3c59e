/**
 * Conv2DBackpropFilter for wasm, which has none (so no conv net could train on it).
 *
 *   dW[i,j,c,o] = Σ_{n,y,x} xPad[n, y·s + i, x·s + j, c] · dy[n, y, x, o]
 *
 * Two formulations:
 *  - direct: hand-written wasm SIMD (simd/kernels.wat `conv_filter_grad`). Per image, each
 *    (tap, channel) row of dW stays in registers while the image's dy streams past; dy is never
 *    transposed or packed. It wins for every unit-stride layer of the studies.
 *  - convolution: the sum is itself a convolution once batch and channels swap roles. Take the
 *    input's channels as a batch and its batch as channels, xᵀ = [C, H, W, N], and use
 *    dyᵀ = [oh, ow, N, O] as the filter, dilated by the forward stride. Conv2D(xᵀ, dyᵀ, stride 1,
 *    dilation s, the forward pads) gives [C, fh', fw', O] (fh' > fh when the forward conv dropped
 *    trailing rows; we cut those), and one transpose yields [fh, fw, C, O]. XNNPACK packs dy afresh
 *    every step (it is a new "filter" each time); still, for conv1's 8×8 stride-2 layer, where the
 *    direct loop skips through x, it is the faster one.
 * An im2col + MatMul formulation (session 3) lost to the direct kernel everywhere and was removed.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { asWasm, assertShape, dispose, padsOf, run, slice, transpose, type Info } from "./kernel-utils.ts";
import { heapOffset, simdKernels } from "./simd/kernels.ts";

type ConvInfo = tf.backend_util.Conv2DInfo;
export type FilterGradMethod = "conv" | "direct";

/**
 * `npm run bench -- --only kernels` (fresh operands per sample, one thread, batch 64, idle
 * machine), ms, convolution → direct: 3×3 1→32 @28 33 → 3.0 · 3×3 32→32 @14 25 → 15 ·
 * 3×3 64→64 @14 97 → 60 · 5×5 1→20 20 → 4.1 · 5×5 20→50 23 → 21 · 9×9 1→8 12 → 9.3 ·
 * 9×9 8→16 102 → 74. Strided layers stay on the convolution: for conv1's 8×8 stride-2 layer a
 * one-off comparison gave 1.4 ms for it against 1.7 for the direct loop, which skips through x.
 */
export function chooseMethod(info: ConvInfo): FilterGradMethod {
  return info.strideHeight === 1 && info.strideWidth === 1 ? "direct" : "conv";
}

export function conv2dBackpropFilterWith(method: FilterGradMethod | "auto"): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const wasm = asWasm(backend);
    const x = inputs["x"] as Info;
    const dy = inputs["dy"] as Info;
    const a = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    const dataFormat = tf.backend_util.convertConv2DDataFormat(a.dataFormat);
    if (dataFormat !== "channelsLast") throw new Error("wasm Conv2DBackpropFilter supports NHWC only");
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number], a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode, false,
      dataFormat,
    );
    assertShape("Conv2DBackpropFilter", "dy", dy, info.outShape);
    const chosen = method === "auto" ? chooseMethod(info) : method;
    return chosen === "direct" ? direct(wasm, x, dy, info) : viaConv(wasm, x, dy, info);
  };
}

export const conv2dBackpropFilterKernel = conv2dBackpropFilterWith("auto");

function direct(wasm: BackendWasm, x: Info, dy: Info, info: ConvInfo): Info {
  const dW = wasm.makeOutput([info.filterHeight, info.filterWidth, info.inChannels, info.outChannels], "float32");
  wasm.typedArrayFromHeap(dW).fill(0);
  simdKernels(wasm).conv_filter_grad(
    heapOffset(wasm, x), heapOffset(wasm, dy), heapOffset(wasm, dW),
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth, info.outChannels,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth,
    info.dilationHeight, info.dilationWidth, info.padInfo.top, info.padInfo.left,
  );
  return dW;
}

function viaConv(wasm: BackendWasm, x: Info, dy: Info, info: ConvInfo): Info {
  const { filterHeight: fh, filterWidth: fw, inChannels: c, outChannels: o } = info;
  const xT = transpose(wasm, x, [3, 1, 2, 0]); // [C, H, W, N]
  const dyT = transpose(wasm, dy, [1, 2, 0, 3]); // [oh, ow, N, O]: the "filter"
  const conv = run(wasm, "Conv2D", { x: xT, filter: dyT }, {
    strides: [1, 1],
    pad: padsOf(info),
    dilations: [info.strideHeight, info.strideWidth],
    dataFormat: "NHWC",
  }); // [C, fh', fw', O]
  dispose(wasm, xT, dyT);

  let cut = conv;
  if (conv.shape[1] !== fh || conv.shape[2] !== fw) {
    cut = slice(wasm, conv, [0, 0, 0, 0], [c, fh, fw, o]);
    dispose(wasm, conv);
  }
  const dW = transpose(wasm, cut, [1, 2, 0, 3]); // [fh, fw, C, O]
  dispose(wasm, cut);
  return dW;
}
