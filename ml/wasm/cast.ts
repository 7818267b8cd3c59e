/**
 * Cast for wasm that shares the input's buffer when the dtype does not change, as Identity does
 * (identity.ts), instead of copying it. tfjs-core's ReLU gradient is dy · cast(step(x), float32):
 * a float32 → float32 cast of an activation-sized tensor every step. Other casts keep the stock kernel.
 */
import type * as tf from "@tensorflow/tfjs";
import { asWasm, originalKernel, type Info } from "./kernel-utils.ts";

export const castKernel: tf.KernelFunc = (args) => {
  const x = args.inputs["x"] as Info;
  if (x.dtype !== (args.attrs as unknown as tf.CastAttrs).dtype || x.dtype === "string") {
    const original = originalKernel("Cast");
    if (original === undefined) throw new Error("original wasm Cast missing");
    return original(args);
  }
  asWasm(args.backend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};
