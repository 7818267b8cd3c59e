/**
 * Convolutions on the hand-written, register-blocked kernels (simd/kernels.wat): the forward pass
 * (Conv2D, FusedConv2D with a bias) and the input gradient, which is a forward convolution of dy
 * with the filter turned by 180° and its channels swapped (`conv_forward`), and the filter
 * gradient (`conv_filter_grad`). 3×3 and 5×5 layers at stride 1 go to Winograd (winograd.ts).
 *
 * The kernels want the input's columns padded, so that a tap row of one output pixel is one run
 * of fw·C floats (`copy_rows`, a copy of the input); conv_forward reads the filter in place or
 * packed (see directConv). Rows of padding are skipped rather than stored. It computes 4 output
 * pixels of a row at a time: narrower rows are computed 4 wide from a wider-padded input, and
 * their own pixels copied out. Each output sums its bias, then the taps row by row, in (column,
 * channel) order, as XNNPACK's convolution does; test/ml/wasm-direct-conv.test.ts compares the two
 * bit for bit.
 */
import type * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { dispose, type Info } from "./kernel-utils.ts";
import { heapBytes, heapOffset, simdKernels } from "./simd/kernels.ts";
import { winogradApplies, winogradConv, winogradFilterGrad } from "./winograd.ts";

/** What the kernel computes: an input [n, h, w, c] convolved to [n, oh, ow, o] with pads top/left. */
export interface ConvGeometry {
  n: number;
  h: number;
  w: number;
  c: number;
  oh: number;
  ow: number;
  o: number;
  fh: number;
  fw: number;
  sh: number;
  sw: number;
  top: number;
  left: number;
}

/** Whether 3×3 and 5×5 convolutions at stride 1 take Winograd's (winograd.ts); off only to compare. */
let useWinograd = true;
export function setWinograd(on: boolean): void {
  useWinograd = on;
}

/** conv_forward computes 4 output pixels of a row at a time. */
const TILE_WIDTH = 4;

const roundUp4 = (v: number): number => Math.ceil(v / 4) * 4;

/**
 * Output channels conv_forward reads weights (and a bias) for: its blocks of 8, then a last block
 * of 12 or 4 (simd/kernels.wat), padded with zeros beyond o.
 */
function weightStride(o: number): number {
  let ob = 0;
  while (o - ob > 12 || o - ob === 8) ob += 8;
  const left = o - ob;
  return left === 0 ? o : left > 4 ? ob + 12 : ob + 4;
}

export function forwardGeometry(info: tf.backend_util.Conv2DInfo): ConvGeometry {
  return {
    n: info.batchSize, h: info.inHeight, w: info.inWidth, c: info.inChannels,
    oh: info.outHeight, ow: info.outWidth, o: info.outChannels,
    fh: info.filterHeight, fw: info.filterWidth, sh: info.strideHeight, sw: info.strideWidth,
    top: info.padInfo.top, left: info.padInfo.left,
  };
}

/**
 * The input gradient of a stride-1 convolution as a forward one: dy [n, oh, ow, o] convolved with
 * the turned filter gives dx [n, h, w, c]; the pads become fh-1-top and fw-1-left. Null when the
 * forward convolution is strided or dilated, or its pads are wider than its filter.
 */
export function inputGradientGeometry(info: tf.backend_util.Conv2DInfo): ConvGeometry | null {
  const top = info.filterHeight - 1 - info.padInfo.top;
  const left = info.filterWidth - 1 - info.padInfo.left;
  const unit = info.strideHeight === 1 && info.strideWidth === 1 && info.dilationHeight === 1 && info.dilationWidth === 1;
  if (!unit || top < 0 || left < 0) return null;
  return {
    n: info.batchSize, h: info.outHeight, w: info.outWidth, c: info.outChannels,
    oh: info.inHeight, ow: info.inWidth, o: info.inChannels,
    fh: info.filterHeight, fw: info.filterWidth, sh: 1, sw: 1, top, left,
  };
}

/** Input columns the taps reach: the left pad, the input, and as far right as the last tap. */
function paddedWidth(g: ConvGeometry): number {
  return Math.max(g.left + g.w, (g.ow - 1) * g.sw + g.fw);
}

/** x with its columns padded for the kernels (a new buffer, listed in temps), or x itself if it needs none. */
function padColumns(wasm: BackendWasm, x: Info, g: ConvGeometry, temps: Info[]): Info {
  const wp = paddedWidth(g);
  if (g.left === 0 && wp === g.w) return x;
  const padded = wasm.makeOutput([g.n, g.h, wp, g.c], "float32");
  temps.push(padded);
  const rowBytes = g.w * g.c * 4;
  simdKernels(wasm).copy_rows(heapOffset(wasm, x), rowBytes, heapOffset(wasm, padded), wp * g.c * 4, g.n * g.h, rowBytes, g.left * g.c * 4);
  return padded;
}

/**
 * A tensor the kernel may read up to `bytes` past the end of: itself when the heap goes on that far
 * (it always does but at the very top of the heap), else a copy with room (listed in temps).
 */
function withSlack(wasm: BackendWasm, info: Info, bytes: number, temps: Info[]): Info {
  const size = info.shape.reduce((a, b) => a * b, 1);
  if (heapOffset(wasm, info) + size * 4 + bytes <= heapBytes(wasm)) return info;
  const copy = wasm.makeOutput([size + Math.ceil(bytes / 4)], "float32");
  temps.push(copy);
  (wasm.typedArrayFromHeap(copy) as Float32Array).set(wasm.typedArrayFromHeap(info) as Float32Array);
  return copy;
}

/**
 * dW [fh, fw, c, o] of the convolution x → dy (simd/kernels.wat `conv_filter_grad`). The kernel
 * computes a tap row's fw·c rows of dW 4 at a time and its channels 4 at a time, reading up to 12
 * bytes past each tap row's values in x and past dy's channels: when fw·c or o is not a multiple
 * of 4 it writes a scratch dW rounded up, and only the real rows and columns are copied out.
 */
export function directFilterGrad(wasm: BackendWasm, x: Info, dy: Info, g: ConvGeometry): Info {
  if (useWinograd && winogradApplies(g)) return winogradFilterGrad(wasm, x, dy, g);
  const temps: Info[] = [];
  try {
    const k = g.fw * g.c;
    const kRows = roundUp4(k);
    const oPad = roundUp4(g.o);
    const padded = withSlack(wasm, padColumns(wasm, x, g, temps), (kRows - k) * 4, temps);
    const dyRead = oPad === g.o ? dy : withSlack(wasm, dy, 12, temps);
    const dW = wasm.makeOutput([g.fh, g.fw, g.c, g.o], "float32");
    temps.push(dW); // until it is returned
    let target = dW;
    if (kRows !== k || oPad !== g.o) {
      target = wasm.makeOutput([g.fh, kRows, oPad], "float32");
      temps.push(target);
    }
    wasm.typedArrayFromHeap(target).fill(0);
    const kernels = simdKernels(wasm);
    kernels.conv_filter_grad(
      heapOffset(wasm, padded), heapOffset(wasm, dyRead), heapOffset(wasm, target),
      g.n, g.h, paddedWidth(g), g.c, g.oh, g.ow, g.o, g.fh, g.fw, g.sh, g.sw, g.top, kRows, oPad,
    );
    if (target !== dW) {
      for (let i = 0; i < g.fh; i++) {
        kernels.copy_rows(heapOffset(wasm, target) + i * kRows * oPad * 4, oPad * 4, heapOffset(wasm, dW) + i * k * g.o * 4, g.o * 4, k, g.o * 4, 0);
      }
    }
    temps.splice(temps.indexOf(dW), 1);
    return dW;
  } finally {
    dispose(wasm, ...temps);
  }
}

/**
 * y = conv(x, filter) (+ bias), filter [fh, fw, c, o] as tfjs stores it, or, with `turned`, the
 * forward filter [fh, fw, o, c] of the convolution whose input gradient this is.
 */
export function directConv(wasm: BackendWasm, x: Info, filter: Info, g: ConvGeometry, bias?: Info, turned = false): Info {
  if (useWinograd && winogradApplies(g)) return winogradConv(wasm, x, filter, g, bias, turned);
  const temps: Info[] = [];
  try {
    // Rows narrower than a tile: computed a tile wide (the extra pixels read padding), then cut.
    const tile: ConvGeometry = g.ow < TILE_WIDTH ? { ...g, ow: TILE_WIDTH } : g;
    const padded = padColumns(wasm, x, tile, temps);
    // The kernel reads weights and bias up to its last block's end (weightStride). A turned
    // filter is packed with zeros to that width. A filter as tfjs stores it is too when its rows
    // are reused across many output pixels (rows padded to a multiple of 4 keep the vector loads
    // aligned: conv1's 8×8 layer 0.15 against 0.19 ms in place), and is read in place otherwise
    // (a thin Dense weight at a small batch, where packing its many rows costs more: the lanes
    // past o take the next row's values, never stored, and the end needs room).
    const oStride = weightStride(g.o);
    const reach = (oStride - g.o) * 4;
    let weightStep = g.o;
    let weights = filter;
    if (turned || (reach > 0 && g.n * g.oh * g.ow >= 256)) {
      weightStep = oStride;
      weights = packFilter(wasm, filter, g, oStride, turned);
      temps.push(weights);
    } else if (reach > 0) {
      weights = withSlack(wasm, filter, reach, temps);
    }
    const biasInfo = bias === undefined || reach === 0 ? bias : withSlack(wasm, bias, reach, temps);
    const y = wasm.makeOutput([g.n, g.oh, g.ow, g.o], "float32");
    temps.push(y); // until it is returned
    let out = y;
    if (tile !== g) {
      out = wasm.makeOutput([g.n, g.oh, tile.ow, g.o], "float32");
      temps.push(out);
    }
    simdKernels(wasm).conv_forward(
      heapOffset(wasm, padded), heapOffset(wasm, weights), biasInfo === undefined ? 0 : heapOffset(wasm, biasInfo), heapOffset(wasm, out),
      g.n, g.h, paddedWidth(tile), g.c, g.oh, tile.ow, g.o, weightStep, g.fh, g.fw, g.sh, g.sw, g.top,
    );
    if (out !== y) {
      const rowBytes = g.ow * g.o * 4;
      simdKernels(wasm).copy_rows(heapOffset(wasm, out), tile.ow * g.o * 4, heapOffset(wasm, y), rowBytes, g.n * g.oh, rowBytes, 0);
    }
    temps.splice(temps.indexOf(y), 1);
    return y;
  } finally {
    dispose(wasm, ...temps);
  }
}

/**
 * The filter [fh, fw, c, oStride] with zeros from o on: as tfjs stores it ([fh, fw, c, o]), or,
 * `turned`, from the filter of the convolution whose input gradient this is ([fh, fw, o, c]),
 * turned by 180° with its channels swapped.
 */
function packFilter(wasm: BackendWasm, filter: Info, g: ConvGeometry, oStride: number, turned: boolean): Info {
  const { fh, fw, c, o } = g;
  const packed = wasm.makeOutput([fh, fw, c, oStride], "float32");
  if (!turned) {
    // Each row of o output channels padded to oStride: the same copy as a convolution's column padding.
    simdKernels(wasm).copy_rows(heapOffset(wasm, filter), o * 4, heapOffset(wasm, packed), oStride * 4, fh * fw * c, o * 4, 0);
    return packed;
  }
  const src = wasm.typedArrayFromHeap(filter) as Float32Array;
  const dst = wasm.typedArrayFromHeap(packed) as Float32Array;
  if (oStride !== o) dst.fill(0);
  for (let i = 0; i < fh; i++) {
    for (let j = 0; j < fw; j++) {
      // forward filter [fh, fw, o, c] (its input channels are our outputs): W[fh-1-i, fw-1-j, co, ci]
      const from = ((fh - 1 - i) * fw + (fw - 1 - j)) * o * c;
      for (let ci = 0; ci < c; ci++) {
        const to = ((i * fw + j) * c + ci) * oStride;
        for (let co = 0; co < o; co++) dst[to + co] = src[from + co * c + ci]!;
      }
    }
  }
  return packed;
}
