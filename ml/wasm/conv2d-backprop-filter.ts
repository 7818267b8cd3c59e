/**
 * Conv2DBackpropFilter for wasm, which has none (so no conv net could train on it).
 *
 *   dW[i,j,c,o] = Σ_{n,y,x} xPad[n, y·s + i, x·s + j, c] · dy[n, y, x, o]
 *
 * Two formulations:
 *  - direct: the hand-written register-blocked kernel (direct-conv.ts, simd/kernels.wat
 *    `conv_filter_grad`): 4 taps × 8 output channels of dW in registers while the batch's x and dy
 *    stream past, nothing transposed or packed. Used for every layer without dilation.
 *  - convolution: the sum is itself a convolution once batch and channels swap roles. Take the
 *    input's channels as a batch and its batch as channels, xᵀ = [C, H, W, N], and use
 *    dyᵀ = [oh, ow, N, O] as the filter, dilated by the forward stride. Conv2D(xᵀ, dyᵀ, stride 1,
 *    dilation s, the forward pads) gives [C, fh', fw', O] (fh' > fh when the forward conv dropped
 *    trailing rows; we cut those), and one transpose yields [fh, fw, C, O]. XNNPACK packs dy afresh
 *    every step (it is a new "filter" each time). Kept for dilated convolutions and as the
 *    benchmark's "before".
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { directFilterGrad, forwardGeometry } from "./direct-conv.ts";
import { asWasm, assertShape, dispose, padsOf, run, slice, transpose, type Info } from "./kernel-utils.ts";

type ConvInfo = tf.backend_util.Conv2DInfo;
export type FilterGradMethod = "conv" | "direct";

export function chooseMethod(info: ConvInfo): FilterGradMethod {
  return info.dilationHeight === 1 && info.dilationWidth === 1 ? "direct" : "conv";
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
    return chosen === "direct" ? directFilterGrad(wasm, x, dy, forwardGeometry(info)) : viaConv(wasm, x, dy, info);
  };
}

export const conv2dBackpropFilterKernel = conv2dBackpropFilterWith("auto");

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
