/**
 * BatchMatMul / _FusedMatMul for a Dense layer's forward and backward products.
 *
 * Two costs of the stock kernel matter in training (tfjs-core always hands these kernels rank-3
 * tensors, [1, m, k] for a plain matrix):
 *  - Any transpose falls back to a blocked scalar loop (~1 GFLOP/s vs XNNPACK's ~14).
 *  - XNNPACK packs the `b` operand and caches the packed copy per tensor, but in training every
 *    weight is a new tensor after each optimizer step, so a Dense layer's weight is repacked every
 *    step: measured 15.7 ms for x·W with a fresh 1568×500 weight at batch 64 against ~7 ms with
 *    the packed copy cached, i.e. ~11 ns per weight element; a Transpose costs ~5 ns per element.
 *
 * So, per call:
 *  - x·W (+ bias) with a W never seen before, and the weight gradient xᵀ·dy: the hand-written
 *    register-blocked kernels, which read W or x where they lie, no transpose, no packing.
 *    A W seen before is already packed (evaluation reuses one W for every batch), so it stays with
 *    the stock kernel.
 *  - dy·Wᵀ (input gradient): (W·dyᵀ)ᵀ through XNNPACK, no transpose of W at all (C = A·B ⇔
 *    Cᵀ = Bᵀ·Aᵀ makes the small operand, the batch, the packed one), when that moves fewer
 *    elements than transposing W; else Wᵀ on the hand-written kernel (a thin W: conv1's 1210→10
 *    went from 0.22 to 0.03 ms in `npm run bench -- --only kernels`).
 * The transposed temporaries are disposed right after, which also frees their cached operator.
 */
import type * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { type Attrs, type Info, asWasm, dispose, originalKernel, run, transposeLast2, view } from "./kernel-utils.ts";
import { type ConvGeometry, directConv, directFilterGrad } from "./direct-conv.ts";

const plain = (attrs: Attrs | undefined): Attrs => ({ ...attrs, transposeA: false, transposeB: false });

/** Costs per element, relative: XNNPACK packing a fresh `b` vs a Transpose (measured ~11–12 vs ~5 ns). */
const PACK_COST = 12;
const TRANSPOSE_COST = 5;

/** `b` operands already packed by XNNPACK (keyed by dataId, which a new weight never reuses). */
const packed = new WeakSet<object>();

function stock(kernelName: string): tf.KernelFunc {
  const original = originalKernel(kernelName);
  if (original === undefined) throw new Error(`original wasm ${kernelName} missing`);
  return original;
}

/** A rank-2 view of a tensor that holds one matrix (rank 2, or leading dims all 1); else null. */
function matrix(info: Info): Info | null {
  const rank = info.shape.length;
  if (rank < 2 || info.shape.slice(0, -2).some((d) => d !== 1)) return null;
  return view(info, info.shape.slice(-2));
}

/** a·b (plain, 2-D) by the stock kernel; remembers that XNNPACK has now packed b. */
function product(wasm: BackendWasm, a: Info, b: Info): Info {
  packed.add(b.dataId);
  return stock("BatchMatMul")({ inputs: { a, b }, backend: wasm, attrs: plain(undefined) }) as Info;
}

/** (p·q)ᵀ for 2-D p, q: the product in the orientation that packs q, then one transpose. */
function transposedProduct(wasm: BackendWasm, p: Info, q: Info): Info {
  const outT = product(wasm, p, q);
  const out = transposeLast2(wasm, outT);
  dispose(wasm, outT);
  return out;
}

/**
 * (transposeA ? aᵀ : a)·b (+ bias) by the hand-written register-blocked kernels (direct-conv.ts),
 * which read b in place: nothing transposed, nothing packed. x·W is a 1×1 convolution over a row
 * of m "pixels" with k channels, xᵀ·dy the filter gradient of that convolution. Both sum in k
 * (resp. batch) order from the bias (resp. zero).
 */
function direct(wasm: BackendWasm, a: Info, b: Info, transposeA: boolean, bias?: Info): Info {
  const [rows = 0, cols = 0] = a.shape;
  const n = b.shape[1] ?? 0;
  const g: ConvGeometry = { n: 1, h: 1, w: rows, c: cols, oh: 1, ow: rows, o: n, fh: 1, fw: 1, sh: 1, sw: 1, top: 0, left: 0 };
  if (transposeA) {
    // aᵀ·b = Σ over the batch (a's rows) of a[r, :]ᵀ · b[r, :]: a's columns are the "channels".
    const dW = directFilterGrad(wasm, view(a, [1, 1, rows, cols]), view(b, [1, 1, rows, n]), g);
    return view(dW, [cols, n]);
  }
  const out = directConv(wasm, view(a, [1, 1, rows, cols]), view(b, [1, 1, cols, n]), g, bias);
  return view(out, [rows, n]);
}

/**
 * The product of two single matrices, a: [m, k] (or [k, m] if transposeA), b: [k, n] (or [n, k]),
 * without the stock kernel's transposed loops, or null when the stock kernel is the better choice.
 */
function singleProduct(wasm: BackendWasm, a: Info, b: Info, transposeA: boolean, transposeB: boolean): Info | null {
  const [m = 0, k = 0] = transposeA ? [a.shape[1], a.shape[0]] : a.shape;
  const n = (transposeB ? b.shape[0] : b.shape[1]) ?? 0;
  if (transposeA && transposeB) return transposedProduct(wasm, b, a); // aᵀ·bᵀ = (b·a)ᵀ
  if (transposeB) {
    // Either transpose b and multiply on the blocked kernel (no packing), or compute (b·aᵀ)ᵀ on
    // XNNPACK: transposes a and the output and packs aᵀ. A Dense input gradient dy·Wᵀ takes the
    // first when W is thin (the 10-unit output layers), the second when it is wide.
    if (TRANSPOSE_COST * n * k <= TRANSPOSE_COST * (m * k + m * n) + PACK_COST * m * k) {
      const bT = transposeLast2(wasm, b);
      const out = direct(wasm, a, bT, false);
      dispose(wasm, bT);
      return out;
    }
    const aT = transposeLast2(wasm, a);
    const out = transposedProduct(wasm, b, aT);
    dispose(wasm, aT);
    return out;
  }
  if (transposeA) return direct(wasm, a, b, true);
  return packed.has(b.dataId) ? null : direct(wasm, a, b, false);
}

/** singleProduct on the kernel's (rank ≥ 2) inputs, reshaped back to the kernel's output rank. */
function viaSingleProduct(wasm: BackendWasm, inputs: tf.NamedTensorInfoMap, attrs: Attrs | undefined): Info | null {
  const a = matrix(inputs["a"] as Info);
  const b = matrix(inputs["b"] as Info);
  if (a === null || b === null || a.dtype !== "float32" || b.dtype !== "float32") return null;
  const out = singleProduct(wasm, a, b, attrs?.["transposeA"] === true, attrs?.["transposeB"] === true);
  if (out === null) return null;
  const rank = Math.max((inputs["a"] as Info).shape.length, (inputs["b"] as Info).shape.length);
  return view(out, [...Array<number>(rank - 2).fill(1), ...out.shape]);
}

/** A Dense forward x·W + bias with a fresh W: the direct kernel adds the bias as it goes. */
function viaDirectWithBias(wasm: BackendWasm, inputs: tf.NamedTensorInfoMap, attrs: Attrs | undefined): Info | null {
  const a = matrix(inputs["a"] as Info);
  const b = matrix(inputs["b"] as Info);
  const bias = inputs["bias"] as Info | undefined;
  if (a === null || b === null || bias === undefined || attrs?.["transposeA"] === true || attrs?.["transposeB"] === true) return null;
  if (a.dtype !== "float32" || b.dtype !== "float32" || bias.dtype !== "float32") return null;
  if (packed.has(b.dataId) || bias.shape.length !== 1 || bias.shape[0] !== b.shape[1]) return null;
  const out = direct(wasm, a, b, false, bias);
  const rank = Math.max((inputs["a"] as Info).shape.length, (inputs["b"] as Info).shape.length);
  return view(out, [...Array<number>(rank - 2).fill(1), ...out.shape]);
}

export const batchMatMulKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasm(backend);
  const single = viaSingleProduct(wasm, inputs, attrs);
  if (single !== null) return single;
  const transposeA = attrs?.["transposeA"] === true;
  const transposeB = attrs?.["transposeB"] === true;
  if (!transposeA && !transposeB) {
    packed.add((inputs["b"] as Info).dataId);
    return stock("BatchMatMul")({ inputs, backend, attrs });
  }
  return explicitTranspose(stock("BatchMatMul"))({ inputs, backend, attrs });
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

/**
 * _FusedMatMul adds a bias and applies an activation to the product. A Dense layer's forward
 * (bias, no activation) goes through singleProduct plus one Add; anything else keeps the stock
 * kernel, with explicit transposes if asked for.
 */
export const fusedMatMulKernel: tf.KernelFunc = (args) => {
  const original = stock("_FusedMatMul");
  const { inputs, attrs } = args;
  const wasm = asWasm(args.backend);
  const linear = (attrs?.["activation"] ?? "linear") === "linear" && inputs["preluActivationWeights"] === undefined;
  if (linear) {
    const fused = viaDirectWithBias(wasm, inputs, attrs);
    if (fused !== null) return fused;
    const result = viaSingleProduct(wasm, inputs, attrs);
    if (result !== null) {
      const bias = inputs["bias"] as Info | undefined;
      if (bias === undefined) return result;
      const out = run(wasm, "Add", { a: result, b: bias });
      dispose(wasm, result);
      return out;
    }
  }
  if (attrs?.["transposeA"] !== true && attrs?.["transposeB"] !== true) {
    packed.add((inputs["b"] as Info).dataId);
    return original(args);
  }
  return explicitTranspose(original)(args);
};
