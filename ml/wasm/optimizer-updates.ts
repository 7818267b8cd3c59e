/**
 * Fused optimizer updates for wasm: SgdUpdate, SgdMomentumUpdate, RmspropUpdate, AdamUpdate.
 * ml/optimizers.ts uses them where the current backend has them. Its tensor formulation costs one
 * kernel call, one new buffer and one pass over the parameter per arithmetic step (13 for Adam);
 * each of these is one pass (simd/kernels.wat) doing the same f32 operations in the same order,
 * so training gives bit-identical weights either way (test/ml/fused-optimizers.test.ts).
 * Outputs are new buffers, as tfjs tensors are immutable (the old ones may be shared or cached).
 */
import type * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { asWasm, type Info } from "./kernel-utils.ts";
import { heapOffset, simdKernels } from "./simd/kernels.ts";

export const FUSED_UPDATE_KERNELS = ["SgdUpdate", "SgdMomentumUpdate", "RmspropUpdate", "AdamUpdate"] as const;
export type FusedUpdateKernel = (typeof FUSED_UPDATE_KERNELS)[number];

const size = (info: Info): number => info.shape.reduce((a, b) => a * b, 1);

/**
 * Inputs: the parameter, its gradient, then the state slots (heap offsets, checked to be float32
 * and of one size); outputs: new buffers for the parameter, then for the slots.
 */
function operands(wasm: BackendWasm, inputs: tf.NamedTensorInfoMap, names: string[]): { ins: number[]; outs: Info[] } {
  const infos = names.map((name) => {
    const info = inputs[name];
    if (info === undefined) throw new Error(`fused optimizer update: missing input "${name}"`);
    if (info.dtype !== "float32") throw new Error(`fused optimizer update: "${name}" must be float32, got ${info.dtype}`);
    return info;
  });
  for (const [k, info] of infos.entries()) {
    if (size(info) !== size(infos[0]!)) throw new Error(`fused optimizer update: "${names[k]}" differs in size from "${names[0]}"`);
  }
  const outs = Array.from({ length: names.length - 1 }, () => wasm.makeOutput(infos[0]!.shape, "float32")); // no output for g
  return { ins: infos.map((info) => heapOffset(wasm, info)), outs };
}

const num = (attrs: tf.NamedAttrMap | undefined, name: string): number => {
  const value = attrs?.[name];
  if (typeof value !== "number") throw new Error(`fused optimizer update: attribute "${name}" must be a number`);
  return value;
};

export const sgdUpdateKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasm(backend);
  const { ins: [p, g], outs } = operands(wasm, inputs, ["p", "g"]);
  simdKernels(wasm).sgd_update(p!, g!, heapOffset(wasm, outs[0]!), size(outs[0]!), num(attrs, "lr"));
  return outs;
};

export const sgdMomentumUpdateKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasm(backend);
  const { ins: [p, g, buf], outs } = operands(wasm, inputs, ["p", "g", "buf"]);
  const [pOut, bufOut] = outs.map((o) => heapOffset(wasm, o));
  simdKernels(wasm).sgd_momentum_update(p!, g!, buf!, pOut!, bufOut!, size(outs[0]!), num(attrs, "momentum"), num(attrs, "lr"));
  return outs;
};

export const rmspropUpdateKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasm(backend);
  const { ins: [p, g, v], outs } = operands(wasm, inputs, ["p", "g", "v"]);
  const [pOut, vOut] = outs.map((o) => heapOffset(wasm, o));
  simdKernels(wasm).rmsprop_update(
    p!, g!, v!, pOut!, vOut!, size(outs[0]!),
    num(attrs, "alpha"), num(attrs, "oneMinusAlpha"), num(attrs, "lr"), num(attrs, "eps"),
  );
  return outs;
};

export const adamUpdateKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasm(backend);
  const { ins: [p, g, m, v], outs } = operands(wasm, inputs, ["p", "g", "m", "v"]);
  const [pOut, mOut, vOut] = outs.map((o) => heapOffset(wasm, o));
  simdKernels(wasm).adam_update(
    p!, g!, m!, v!, pOut!, mOut!, vOut!, size(outs[0]!),
    num(attrs, "beta1"), num(attrs, "oneMinusBeta1"), num(attrs, "beta2"), num(attrs, "oneMinusBeta2"),
    num(attrs, "sqrtBias2"), num(attrs, "eps"), num(attrs, "stepSize"),
  );
  return outs;
};
