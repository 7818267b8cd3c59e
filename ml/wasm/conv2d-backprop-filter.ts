/**
 * Conv2DBackpropFilter for wasm, which has none (so no conv net could train on it).
 *
 *   dW[i,j,c,o] = Σ_{n,y,x} xPad[n, y·s + i, x·s + j, c] · dy[n, y, x, o]
 *
 * Two formulations, both ending in XNNPACK:
 *  - convolution: the sum is itself a convolution once batch and channels swap roles. Take the
 *    input's channels as a batch and its batch as channels, xᵀ = [C, H, W, N], and use
 *    dyᵀ = [oh, ow, N, O] as the filter, dilated by the forward stride. Conv2D(xᵀ, dyᵀ, stride 1,
 *    dilation s, the forward pads) gives [C, fh', fw', O] (fh' > fh when the forward conv dropped
 *    trailing rows; we cut those), and one transpose yields [fh, fw, C, O]. No im2col buffer, but
 *    dy is handled three times (our transpose, the Conv2D kernel's filter transpose, XNNPACK
 *    packing), which dominates when C is small: a 1-channel first layer does 18 FLOPs per dy
 *    element.
 *  - im2col (stride 1, fh·fw·C ≤ 2·O): Pᵀ[(i,j,c), (n,y,x)] = xPad[n, y+i, x+j, c] built by
 *    copying fh·fw shifted windows of the channel-major input (in JS, straight between wasm heap
 *    buffers: PadV2 on such thin tensors is slower than the whole copy), then one plain MatMul
 *    Pᵀ·dy = [fh·fw·C, O], already in filter layout. dy is only packed once by XNNPACK.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { asWasm, dispose, padsOf, run, slice, transpose, view, type Info } from "./kernel-utils.ts";

type ConvInfo = tf.backend_util.Conv2DInfo;
export type FilterGradMethod = "conv" | "im2col";

/** Pᵀ above this many elements (64 MB) is not worth its memory; use the convolution instead. */
const MAX_IM2COL_ELEMENTS = 16 * 1024 * 1024;

/**
 * im2col builds fh·fw·C rows of Pᵀ (one pass over N·oh·ow each) and saves the convolution's two
 * extra passes over dy (N·oh·ow·O), so it wins when fh·fw·C ≲ 2·O. Benchmarked at batch 64:
 * 3x3 1→32 (9 rows) 22 vs 36 ms, 5x5 1→20 (25) 15 vs 20 ms, 3x3 4→16 (36) a tie,
 * 9x9 1→8 (81) 28 vs 13 ms and 3x3 8→16 (72) 12 vs 6 ms for the convolution.
 */
export function chooseMethod(info: ConvInfo): FilterGradMethod {
  const rows = info.filterHeight * info.filterWidth * info.inChannels;
  const cols = info.batchSize * info.outHeight * info.outWidth;
  const unitStride = info.strideHeight === 1 && info.strideWidth === 1;
  return unitStride && rows <= 2 * info.outChannels && rows * cols <= MAX_IM2COL_ELEMENTS ? "im2col" : "conv";
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
    const chosen = method === "auto" ? chooseMethod(info) : method;
    return chosen === "im2col" ? viaIm2col(wasm, x, dy, info) : viaConv(wasm, x, dy, info);
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

function viaIm2col(wasm: BackendWasm, x: Info, dy: Info, info: ConvInfo): Info {
  const { batchSize: n, inChannels: c, outChannels: o } = info;
  const { filterHeight: fh, filterWidth: fw, outHeight: oh, outWidth: ow } = info;
  // Channel-major input, [C·N, H, W], so each (tap, channel) row of Pᵀ is a block copy.
  const xT = c === 1 ? x : transpose(wasm, x, [3, 0, 1, 2]);
  const q = n * oh * ow;
  const pT = wasm.makeOutput([fh * fw * c, q], "float32");
  fillIm2col(wasm.typedArrayFromHeap(xT), wasm.typedArrayFromHeap(pT), info);
  if (xT !== x) dispose(wasm, xT);
  const dW = run(wasm, "BatchMatMul", { a: pT, b: view(dy, [q, o]) }, { transposeA: false, transposeB: false });
  dispose(wasm, pT);
  return view(dW, [fh, fw, c, o]);
}

/**
 * Pᵀ[(i·fw + j)·C·N + cn][y·ow + x] = xT[cn][y + i - padTop][x + j - padLeft], 0 outside x:
 * zero everything, then copy each tap's in-bounds rectangle row by row (stride 1 only).
 */
function fillIm2col(xT: tf.TypedArray, pT: tf.TypedArray, info: ConvInfo): void {
  const { batchSize: n, inChannels: c, inHeight: h, inWidth: w } = info;
  const { filterHeight: fh, filterWidth: fw, outHeight: oh, outWidth: ow } = info;
  const { top, left } = info.padInfo;
  const planes = c * n;
  pT.fill(0);
  for (let i = 0; i < fh; i++) {
    const y0 = Math.max(0, top - i);
    const y1 = Math.min(oh, h + top - i);
    for (let j = 0; j < fw; j++) {
      const x0 = Math.max(0, left - j);
      const x1 = Math.min(ow, w + left - j);
      if (y1 <= y0 || x1 <= x0) continue;
      const tapBase = (i * fw + j) * planes * oh * ow;
      for (let p = 0; p < planes; p++) {
        for (let y = y0; y < y1; y++) {
          const src = (p * h + y + i - top) * w + (x0 + j - left);
          pT.set(xT.subarray(src, src + (x1 - x0)), tapBase + (p * oh + y) * ow + x0);
        }
      }
    }
  }
}
