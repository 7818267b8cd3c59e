/**
 * Conv2D and FusedConv2D (bias, no activation) for wasm on the hand-written register-blocked kernel
 * (direct-conv.ts), replacing XNNPACK's, which it beats for every layer of the studies:
 * `npm run bench -- --only kernels`. The results are bit for bit XNNPACK's (same summation order,
 * tested). Fused activations, dilations and NCHW keep the stock kernel. (Stock XNNPACK also
 * gets a numeric `pad` wrong — wrong sums; with stride > 1 and narrow outputs, a read out of
 * bounds — and places some "same" pads at stride > 1 its own way. Ours matches the cpu backend
 * there: test/ml/wasm-direct-conv.test.ts.)
 */
import * as tf from "@tensorflow/tfjs";
import { directConv, forwardGeometry } from "./direct-conv.ts";
import { asWasm, originalKernel, type Info } from "./kernel-utils.ts";

function stock(name: string): tf.KernelFunc {
  const original = originalKernel(name);
  if (original === undefined) throw new Error(`original wasm ${name} missing`);
  return original;
}

/** The convolution's geometry when the direct kernel can compute it, else null. */
function directInfo(x: Info, filter: Info, attrs: tf.NamedAttrMap): tf.backend_util.Conv2DInfo | null {
  const a = attrs as unknown as tf.Conv2DAttrs;
  if (tf.backend_util.convertConv2DDataFormat(a.dataFormat) !== "channelsLast") return null;
  if (x.dtype !== "float32" || filter.dtype !== "float32") return null;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
    a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode,
  );
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return null;
  return info;
}

export const conv2dKernel: tf.KernelFunc = (args) => {
  const x = args.inputs["x"] as Info;
  const filter = args.inputs["filter"] as Info;
  const info = directInfo(x, filter, args.attrs ?? {});
  if (info === null) return stock("Conv2D")(args);
  return directConv(asWasm(args.backend), x, filter, forwardGeometry(info));
};

export const fusedConv2dKernel: tf.KernelFunc = (args) => {
  const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, Info | undefined>;
  const activation = (args.attrs?.["activation"] ?? "linear") as string;
  const info = x === undefined || filter === undefined ? null : directInfo(x, filter, args.attrs ?? {});
  const plainBias = bias === undefined || (bias.dtype === "float32" && bias.shape.length === 1 && bias.shape[0] === info?.outChannels);
  if (info === null || activation !== "linear" || preluActivationWeights !== undefined || !plainBias) return stock("FusedConv2D")(args);
  return directConv(asWasm(args.backend), x!, filter!, forwardGeometry(info), bias);
};
