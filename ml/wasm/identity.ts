/**
 * Identity for wasm that shares the input's buffer (refcount +1) instead of copying it.
 *
 * Why: while a gradient tape is recording, tfjs-core clones every tensor a gradient will need
 * (engine.clone → Identity). The cpu backend's Identity shares the data; the stock wasm one copies
 * it, which for `simple` is ~10 activation-sized copies per step (~4% of the step). tfjs tensors
 * are immutable (Variable.assign swaps in a new dataId), so sharing is safe; Reshape already does
 * the same on wasm.
 */
import type * as tf from "@tensorflow/tfjs";
import { asWasm, originalKernel, type Info } from "./kernel-utils.ts";

export const identityKernel: tf.KernelFunc = (args) => {
  const x = args.inputs["x"] as Info;
  if (x.dtype === "string") {
    const original = originalKernel("Identity");
    if (original === undefined) throw new Error("original wasm Identity missing");
    return original(args);
  }
  asWasm(args.backend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};
