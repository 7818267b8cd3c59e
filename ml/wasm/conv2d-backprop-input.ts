/**
 * Conv2DBackpropInput for wasm, replacing the stock kernel (a naive scalar loop).
 *
 * The input gradient is a "full" convolution of dy with the filter rotated by 180° and with its
 * in/out channels swapped: Wᵀ[i,j,o,c] = W[fh-1-i, fw-1-j, c, o], with pads fh-1-padTop on the top
 * and fw-1-padLeft on the left. Two formulations:
 *  - direct (unit stride): the hand-written register-blocked convolution (direct-conv.ts), which
 *    turns the filter while packing it. Bit for bit the XNNPACK formulation below (same summation
 *    order, tested), and faster for every layer of the studies (`npm run bench -- --only kernels`).
 *  - XNNPACK (stride > 1): dy is first dilated (s-1 zeros between its pixels; built as reshape →
 *    PadV2 → reshape) so the convolution runs at stride 1, with whatever bottom pad makes the output
 *    exactly inputShape. The rotated filter is a fresh tensor every call, so XNNPACK repacks it each
 *    time; it is filter-sized (tiny next to the convolution) and freed with its cached operator.
 *
 * Single-channel inputs (and few channels at stride > 1) stay with the stock kernel; see below.
 */
import * as tf from "@tensorflow/tfjs";
import { directConv, inputGradientGeometry } from "./direct-conv.ts";
import { asWasm, assertShape, dispose, originalKernel, run, slice, transpose, view, type Info } from "./kernel-utils.ts";

export const conv2dBackpropInputKernel: tf.KernelFunc = (args) => {
  const { inputs, backend, attrs } = args;
  const wasm = asWasm(backend);
  const dy = inputs["dy"] as Info;
  const filter = inputs["filter"] as Info;
  const a = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const dataFormat = tf.backend_util.convertConv2DDataFormat(a.dataFormat);
  const info = tf.backend_util.computeConv2DInfo(
    a.inputShape, filter.shape as [number, number, number, number], a.strides, 1, a.pad, a.dimRoundingMode, false,
    dataFormat,
  );
  const { batchSize: n, inHeight, inWidth, filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  const [, oh = 0, ow = 0, o = 0] = dy.shape;
  const top = fh - 1 - info.padInfo.top;
  const left = fw - 1 - info.padInfo.left;
  const direct = dataFormat === "channelsLast" ? inputGradientGeometry(info) : null;
  if (direct !== null && dy.dtype === "float32" && filter.dtype === "float32") {
    assertShape("Conv2DBackpropInput", "dy", dy, info.outShape); // the kernel reads it by heap offset
    return directConv(wasm, dy, filter, direct, undefined, true);
  }
  // XNNPACK computes output channels in blocks of 8, so an input gradient with 1 channel runs at
  // 1/8 speed, and dilating dy for stride 2 wastes 3/4 of the work: for few channels the stock
  // loop is faster (benchmarked: C=1 always, C=4 at stride 2 a tie). Pads wider than the filter
  // (never produced by 'same'/'valid') also stay with the stock kernel.
  const fewChannels = info.inChannels === 1 || (sh * sw > 1 && info.inChannels < 8);
  if (dataFormat !== "channelsLast" || top < 0 || left < 0 || fewChannels) {
    const original = originalKernel("Conv2DBackpropInput");
    if (original === undefined) throw new Error("original wasm Conv2DBackpropInput missing");
    return original(args);
  }

  // Dilate dy: [N, oh, 1, ow, 1, O] padded to [N, oh, sh, ow, sw, O] is [N, oh·sh, ow·sw, O] with
  // dy's pixels at multiples of the stride. The trailing s-1 zero rows/cols count as bottom pad.
  let dyDil = dy;
  const temps: Info[] = [];
  if (sh > 1 || sw > 1) {
    const padded = run(wasm, "PadV2", { x: view(dy, [n, oh, 1, ow, 1, o]) }, {
      paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]],
      constantValue: 0,
    });
    dyDil = view(padded, [n, oh * sh, ow * sw, o]);
    temps.push(padded);
  }
  let bottom = inHeight + fh - 1 - top - dyDil.shape[1]!;
  let right = inWidth + fw - 1 - left - dyDil.shape[2]!;
  if (bottom < 0 || right < 0) {
    // Only possible when the dilation's trailing zeros overshoot: cut them instead.
    const cut = slice(wasm, dyDil, [0, 0, 0, 0], [n, dyDil.shape[1]! + Math.min(bottom, 0), dyDil.shape[2]! + Math.min(right, 0), o]);
    temps.push(cut);
    dyDil = cut;
    bottom = Math.max(bottom, 0);
    right = Math.max(right, 0);
  }

  const flipped = run(wasm, "Reverse", { x: filter }, { dims: [0, 1] });
  const rotated = transpose(wasm, flipped, [0, 1, 3, 2]); // [fh, fw, O, C]
  const dx = run(wasm, "Conv2D", { x: dyDil, filter: rotated }, {
    strides: [1, 1],
    pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
    dilations: [1, 1],
    dataFormat: "NHWC",
  });
  dispose(wasm, flipped, rotated, ...temps);
  return dx;
};
