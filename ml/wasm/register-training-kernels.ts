/**
 * Makes the tfjs wasm backend able to train the study CNNs, and fast enough to be worth it.
 * Call once before training on 'wasm' (idempotent; importing this file registers nothing; works
 * before or after the backend is initialised).
 *
 *  - Conv2D, FusedConv2D (bias only): a register-blocked kernel beats XNNPACK's. conv2d.ts
 *  - Conv2DBackpropFilter: missing in wasm (no conv net could train). conv2d-backprop-filter.ts
 *  - Conv2DBackpropInput: stock is a scalar loop; now the same blocked kernel. conv2d-backprop-input.ts
 *  - MaxPoolGrad: stock is slow and misroutes windows whose max is ≤ 0. max-pool-grad.ts
 *  - BatchMatMul / _FusedMatMul with transposes: stock falls off XNNPACK. batch-matmul.ts
 *  - Sum / Mean over leading axes (bias grads, BN moments): stock transposes first. reduce-leading.ts
 *  - Slice: stock copies the whole input per slice (batching a dataset). slice.ts
 *  - Identity: stock copies; the gradient tape clones every saved tensor through it. identity.ts
 *  - Cast to the same dtype: stock copies; ReLU's gradient casts float32 to float32. cast.ts
 *  - Add of a bias along the last axis: stock broadcasting is slow; one pass instead. bias-add.ts
 *  - SgdUpdate, SgdMomentumUpdate, RmspropUpdate, AdamUpdate: not tfjs kernels but ours, one pass
 *    per optimizer step and parameter instead of up to 13 tensor ops. optimizer-updates.ts
 *
 * Each override handles only the cases it is faster or more correct for and hands the rest to the
 * stock kernel. Gradients themselves still come from tfjs-core's gradient functions: Relu, Sigmoid,
 * Softmax, LogSoftmax, FusedBatchNorm, etc. need no new kernels (their gradients are compositions
 * of ops the wasm backend already has).
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm"; // registers the stock wasm kernels we override and call
import { batchMatMulKernel, fusedMatMulKernel } from "./batch-matmul.ts";
import { addKernel } from "./bias-add.ts";
import { castKernel } from "./cast.ts";
import { conv2dKernel, fusedConv2dKernel } from "./conv2d.ts";
import { conv2dBackpropFilterKernel } from "./conv2d-backprop-filter.ts";
import { conv2dBackpropInputKernel } from "./conv2d-backprop-input.ts";
import { originalConfig, rememberOriginal } from "./kernel-utils.ts";
import { identityKernel } from "./identity.ts";
import { maxPoolGradKernel } from "./max-pool-grad.ts";
import { adamUpdateKernel, rmspropUpdateKernel, sgdMomentumUpdateKernel, sgdUpdateKernel } from "./optimizer-updates.ts";
import { meanKernel, sumKernel } from "./reduce-leading.ts";
import { sliceKernel } from "./slice.ts";

const BACKEND = "wasm";

const kernels: Record<string, tf.KernelFunc> = {
  BatchMatMul: batchMatMulKernel,
  _FusedMatMul: fusedMatMulKernel,
  Conv2D: conv2dKernel,
  FusedConv2D: fusedConv2dKernel,
  Conv2DBackpropFilter: conv2dBackpropFilterKernel,
  Conv2DBackpropInput: conv2dBackpropInputKernel,
  MaxPoolGrad: maxPoolGradKernel,
  Slice: sliceKernel,
  Sum: sumKernel,
  Mean: meanKernel,
  Identity: identityKernel,
  Cast: castKernel,
  Add: addKernel,
  SgdUpdate: sgdUpdateKernel,
  SgdMomentumUpdate: sgdMomentumUpdateKernel,
  RmspropUpdate: rmspropUpdateKernel,
  AdamUpdate: adamUpdateKernel,
};

/** The kernel names `registerWasmTrainingKernels` provides for 'wasm'. */
export const wasmTrainingKernelNames: readonly string[] = Object.keys(kernels);

function isOurs(name: string): boolean {
  return tf.getKernel(name, BACKEND)?.kernelFunc === kernels[name];
}

export function registerWasmTrainingKernels(): void {
  for (const [name, kernelFunc] of Object.entries(kernels)) {
    if (isOurs(name)) continue;
    // Keep the stock kernel: overrides delegate to it for the cases that are already fast.
    rememberOriginal(name);
    const stock = originalConfig(name);
    if (tf.getKernel(name, BACKEND) !== undefined) tf.unregisterKernel(name, BACKEND);
    // Carry the stock setupFunc over: the engine runs setupFuncs of whatever is registered when
    // the backend initialises, and the stock kernelFunc we delegate to needs its C binding.
    const config: tf.KernelConfig = { kernelName: name, backendName: BACKEND, kernelFunc };
    if (stock?.setupFunc !== undefined) config.setupFunc = stock.setupFunc;
    tf.registerKernel(config);
  }
}

/** Puts the stock wasm kernels back (for benchmarks comparing before/after). */
export function unregisterWasmTrainingKernels(): void {
  for (const name of Object.keys(kernels)) {
    if (!isOurs(name)) continue;
    tf.unregisterKernel(name, BACKEND);
    const stock = originalConfig(name);
    if (stock !== undefined) tf.registerKernel(stock);
  }
}
