/**
 * BatchMatMul / _FusedMatMul with transposeA or transposeB.
 *
 * Why: the wasm kernel only hands the plain, unbatched case to XNNPACK's fully-connected operator;
 * any transpose falls back to a blocked scalar loop (~1 GFLOP/s vs ~14). Backprop through a Dense
 * layer asks for exactly those cases (dy·Wᵀ and xᵀ·dy), so we materialise a transpose with the
 * (memory-bound) Transpose kernel and call the stock kernel without transposes.
 *
 * Which operand to transpose matters because XNNPACK packs its `b` operand on every call whose b
 * tensor it has not seen (its operator cache is keyed by b's tensor id, and in training every b
 * is new): packing and transposing both cost a few ns per element, so we pick the formulation
 * that moves fewer elements. For dy·Wᵀ ([m,k]·[n,k]ᵀ) with a small batch m, computing
 * (W·dyᵀ)ᵀ touches m·k + m·n elements instead of the 2·n·k of transposing and packing W.
 * The transposed temporaries are disposed right after, which also frees their cached operator.
 */
import type * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { type Attrs, type Info, asWasm, dispose, originalKernel, transposeLast2 } from "./kernel-utils.ts";

const plain = (attrs: Attrs | undefined): Attrs => ({ ...attrs, transposeA: false, transposeB: false });

function stock(kernelName: string): tf.KernelFunc {
  const original = originalKernel(kernelName);
  if (original === undefined) throw new Error(`original wasm ${kernelName} missing`);
  return original;
}

/** a·b computed as (b'·a')ᵀ where b', a' are b, a in the layout the plain kernel wants. */
function swapped(wasm: BackendWasm, a: Info, b: Info): Info {
  const original = stock("BatchMatMul");
  const outT = original({ inputs: { a, b }, backend: wasm, attrs: plain(undefined) }) as Info;
  const out = transposeLast2(wasm, outT);
  dispose(wasm, outT);
  return out;
}

export const batchMatMulKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const original = stock("BatchMatMul");
  const transposeA = attrs?.["transposeA"] === true;
  const transposeB = attrs?.["transposeB"] === true;
  if (!transposeA && !transposeB) return original({ inputs, backend, attrs });
  const wasm = asWasm(backend);
  const a = inputs["a"] as Info;
  const b = inputs["b"] as Info;
  const unbatched = a.shape.length === 2 && b.shape.length === 2;

  if (unbatched && transposeA && transposeB) {
    return swapped(wasm, b, a); // aᵀ·bᵀ = (b·a)ᵀ: packs a, transposes only the output
  }
  if (unbatched && transposeB) {
    const [m = 0, k = 0] = a.shape;
    const n = b.shape[0] ?? 0;
    if (2 * m * k + m * n < 2 * n * k) {
      const aT = transposeLast2(wasm, a); // a·bᵀ = (b·aᵀ)ᵀ
      const out = swapped(wasm, b, aT);
      dispose(wasm, aT);
      return out;
    }
  }
  return explicitTranspose(original)({ inputs, backend, attrs });
};

/** Transposes whichever operand is flagged, then runs `kernel` without transposes. */
function explicitTranspose(kernel: tf.KernelFunc): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const wasm = asWasm(backend);
    const transposeA = attrs?.["transposeA"] === true;
    const transposeB = attrs?.["transposeB"] === true;
    const a = inputs["a"] as Info;
    const b = inputs["b"] as Info;
    const aPlain = transposeA ? transposeLast2(wasm, a) : a;
    const bPlain = transposeB ? transposeLast2(wasm, b) : b;
    const out = kernel({ inputs: { ...inputs, a: aPlain, b: bPlain }, backend, attrs: plain(attrs) });
    if (transposeA) dispose(wasm, aPlain);
    if (transposeB) dispose(wasm, bPlain);
    return out;
  };
}

/** _FusedMatMul adds bias/activation on the output, so it keeps the output orientation. */
export const fusedMatMulKernel: tf.KernelFunc = (args) => {
  const original = stock("_FusedMatMul");
  if (args.attrs?.["transposeA"] !== true && args.attrs?.["transposeB"] !== true) return original(args);
  return explicitTranspose(original)(args);
};
