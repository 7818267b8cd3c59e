/**
 * 3×3 and 5×5 convolutions at stride 1 by Winograd's F(2×2, 3×3) and F(2×2, 5×5)
 * (simd/kernels.wat `winograd_conv`, `winograd5_conv`): each 2×2 block of outputs costs 16 (36)
 * multiplies per input and output channel instead of 36 (100). The forward convolutions of
 * simple's, lenet's, textbook's and textbook-plus's later layers, their input gradients and their
 * filter gradients (`winograd_filter_grad`) take it (at least 4 input channels and 4 tiles of
 * 2×2 outputs); channel counts are rounded up to multiples of 4 with zeros.
 *
 * It sums in another order than the direct convolution (products of transformed values, then the
 * output transform), so its results differ from XNNPACK's in the last bits, like any other change
 * of summation order: test/ml/wasm-direct-conv.test.ts compares it with the cpu backend.
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { ConvGeometry } from "./direct-conv.ts";
import { dispose, type Info } from "./kernel-utils.ts";
import { heapOffset, simdKernels } from "./simd/kernels.ts";

/**
 * G of F(2×2, r×r), one row per transformed tap (α = r + 1 rows). r = 5: interpolation points 0,
 * ±1, ±2, ∞ (the matching Bᵀ and Aᵀ are written out in kernels.wat).
 */
const G: Record<3 | 5, readonly (readonly number[])[]> = {
  3: [[1, 0, 0], [1 / 2, 1 / 2, 1 / 2], [1 / 2, -1 / 2, 1 / 2], [0, 0, 1]],
  5: [
    [1 / 4, 0, 0, 0, 0],
    [-1 / 6, -1 / 6, -1 / 6, -1 / 6, -1 / 6],
    [-1 / 6, 1 / 6, -1 / 6, 1 / 6, -1 / 6],
    [1 / 24, 1 / 12, 1 / 6, 1 / 3, 2 / 3],
    [1 / 24, -1 / 12, 1 / 6, -1 / 3, 2 / 3],
    [0, 0, 0, 0, 1],
  ],
};

const tiles = (outputs: number): number => Math.ceil(outputs / 2);
const roundUp4 = (v: number): number => Math.ceil(v / 4) * 4;

/**
 * Below 4 input channels the zeros rounding them up to 4 cost more than Winograd saves (a first
 * layer); so do tiles mostly over padding (lenet's input gradient: its 8×8 dy padded to 16×16,
 * 6.7 ms against the direct kernel's 6.0 in `npm run bench -- --only kernels`).
 */
export function winogradApplies(g: ConvGeometry): boolean {
  const square = g.fh === g.fw && (g.fh === 3 || g.fh === 5);
  if (!square || g.sh !== 1 || g.sw !== 1 || g.c < 4 || tiles(g.oh) * tiles(g.ow) < 4) return false;
  const paddedArea = (2 * tiles(g.oh) + g.fh - 1) * (2 * tiles(g.ow) + g.fw - 1);
  return g.h * g.w >= paddedArea / 2;
}

/** y = conv(x, filter) (+ bias), as directConv (direct-conv.ts) computes it, for a geometry winogradApplies to. */
export function winogradConv(wasm: BackendWasm, x: Info, filter: Info, g: ConvGeometry, bias?: Info, turned = false): Info {
  const r = g.fh as 3 | 5;
  const alpha = r + 1;
  const tH = tiles(g.oh);
  const tW = tiles(g.ow);
  const hp = 2 * tH + r - 1;
  const wp = 2 * tW + r - 1;
  const cp = roundUp4(g.c);
  const op = roundUp4(g.o);
  const temps: Info[] = [];
  try {
    const kernels = simdKernels(wasm);
    const padded = wasm.makeOutput([g.n, hp, wp, cp], "float32");
    temps.push(padded);
    kernels.pad_images(heapOffset(wasm, x), heapOffset(wasm, padded), g.n, g.h, g.w, g.c, hp, wp, g.top, g.left, cp);
    const u = transformedFilter(wasm, filter, g, turned, cp, op);
    temps.push(u);
    const v = wasm.makeOutput([alpha * alpha * tH * tW * cp], "float32");
    const m = wasm.makeOutput([alpha * alpha * tH * tW * op], "float32");
    temps.push(v, m);
    let biasInfo = bias;
    if (bias !== undefined && op !== g.o) {
      biasInfo = wasm.makeOutput([op], "float32");
      temps.push(biasInfo);
      const values = wasm.typedArrayFromHeap(biasInfo) as Float32Array;
      values.fill(0);
      values.set(wasm.typedArrayFromHeap(bias) as Float32Array);
    }
    const y = wasm.makeOutput([g.n, g.oh, g.ow, g.o], "float32");
    temps.push(y); // until it is returned
    const args = [heapOffset(wasm, padded), heapOffset(wasm, u), biasInfo === undefined ? 0 : heapOffset(wasm, biasInfo), heapOffset(wasm, y), heapOffset(wasm, v), heapOffset(wasm, m)] as const;
    if (r === 3) {
      kernels.winograd_conv(...args, g.n, hp, wp, cp, g.oh, g.ow, g.o, op);
    } else {
      const scratch = wasm.makeOutput([4 * alpha * alpha], "float32"); // the transforms' intermediate 6×6 vectors
      temps.push(scratch);
      kernels.winograd5_conv(...args, heapOffset(wasm, scratch), g.n, hp, wp, cp, g.oh, g.ow, g.o, op);
    }
    temps.splice(temps.indexOf(y), 1);
    return y;
  } finally {
    dispose(wasm, ...temps);
  }
}

/**
 * U[e, ci, co] = (G·g·Gᵀ)[e] for each r×r kernel g of the filter, e = α·row + column, [α², cp, op]
 * with zeros beyond c and o. g is filter[·, ·, ci, co], or, `turned`, the forward filter
 * [r, r, o, c] turned by 180° with its channels swapped: forward[r-1-i, r-1-j, co, ci]. In
 * float64, rounded once.
 */
function transformedFilter(wasm: BackendWasm, filter: Info, g: ConvGeometry, turned: boolean, cp: number, op: number): Info {
  const r = g.fh as 3 | 5;
  const alpha = r + 1;
  const matrix = G[r];
  const { c, o } = g;
  const u = wasm.makeOutput([alpha * alpha, cp, op], "float32");
  const src = wasm.typedArrayFromHeap(filter) as Float32Array;
  const dst = wasm.typedArrayFromHeap(u) as Float32Array;
  if (cp !== c || op !== o) dst.fill(0);
  const plane = cp * op;
  const k = new Float64Array(r * r);
  const gk = new Float64Array(alpha * r); // G·g
  for (let ci = 0; ci < c; ci++) {
    for (let co = 0; co < o; co++) {
      for (let i = 0; i < r; i++) {
        for (let j = 0; j < r; j++) {
          k[i * r + j] = turned ? src[(((r - 1 - i) * r + (r - 1 - j)) * o + co) * c + ci]! : src[((i * r + j) * c + ci) * o + co]!;
        }
      }
      for (let a = 0; a < alpha; a++) {
        const row = matrix[a]!;
        for (let j = 0; j < r; j++) {
          let sum = 0;
          for (let i = 0; i < r; i++) sum += row[i]! * k[i * r + j]!;
          gk[a * r + j] = sum;
        }
      }
      const at = ci * op + co;
      for (let a = 0; a < alpha; a++) {
        for (let b = 0; b < alpha; b++) {
          const row = matrix[b]!;
          let sum = 0;
          for (let j = 0; j < r; j++) sum += gk[a * r + j]! * row[j]!;
          dst[(a * alpha + b) * plane + at] = sum;
        }
      }
    }
  }
  return u;
}

/**
 * dW [r, r, c, o] of the convolution x → dy for a geometry winogradApplies to: the kernel sums
 * U[e] = Σ over tiles (Bᵀ·d·B)[e]ᵀ·(A·dY·Aᵀ)[e] (simd/kernels.wat `winograd_filter_grad`), and
 * dW = Gᵀ·U·G here, per pair of channels, in float64 rounded once.
 */
export function winogradFilterGrad(wasm: BackendWasm, x: Info, dy: Info, g: ConvGeometry): Info {
  const r = g.fh as 3 | 5;
  const alpha = r + 1;
  const tH = tiles(g.oh);
  const tW = tiles(g.ow);
  const hp = 2 * tH + r - 1;
  const wp = 2 * tW + r - 1;
  const cp = roundUp4(g.c);
  const op = roundUp4(g.o);
  const temps: Info[] = [];
  try {
    const kernels = simdKernels(wasm);
    const padded = wasm.makeOutput([g.n, hp, wp, cp], "float32");
    const dyTiles = wasm.makeOutput([g.n, 2 * tH, 2 * tW, op], "float32");
    const u = wasm.makeOutput([alpha * alpha, cp, op], "float32");
    const v = wasm.makeOutput([alpha * alpha * tH * tW * cp], "float32");
    const dd = wasm.makeOutput([alpha * alpha * tH * tW * op], "float32");
    const scratch = wasm.makeOutput([4 * alpha * alpha], "float32");
    temps.push(padded, dyTiles, u, v, dd, scratch);
    kernels.pad_images(heapOffset(wasm, x), heapOffset(wasm, padded), g.n, g.h, g.w, g.c, hp, wp, g.top, g.left, cp);
    kernels.pad_images(heapOffset(wasm, dy), heapOffset(wasm, dyTiles), g.n, g.oh, g.ow, g.o, 2 * tH, 2 * tW, 0, 0, op);
    wasm.typedArrayFromHeap(u).fill(0);
    kernels.winograd_filter_grad(
      heapOffset(wasm, padded), heapOffset(wasm, dyTiles), heapOffset(wasm, u), heapOffset(wasm, v), heapOffset(wasm, dd), heapOffset(wasm, scratch),
      alpha, g.n, hp, wp, cp, g.oh, g.ow, op,
    );
    const dW = wasm.makeOutput([r, r, g.c, g.o], "float32");
    const src = wasm.typedArrayFromHeap(u) as Float32Array;
    const dst = wasm.typedArrayFromHeap(dW) as Float32Array;
    const matrix = G[r];
    const plane = cp * op;
    const ug = new Float64Array(alpha * r); // U·G for one pair of channels
    for (let ci = 0; ci < g.c; ci++) {
      for (let co = 0; co < g.o; co++) {
        const at = ci * op + co;
        for (let a = 0; a < alpha; a++) {
          for (let j = 0; j < r; j++) {
            let sum = 0;
            for (let b = 0; b < alpha; b++) sum += src[(a * alpha + b) * plane + at]! * matrix[b]![j]!;
            ug[a * r + j] = sum;
          }
        }
        for (let i = 0; i < r; i++) {
          for (let j = 0; j < r; j++) {
            let sum = 0;
            for (let a = 0; a < alpha; a++) sum += matrix[a]![i]! * ug[a * r + j]!;
            dst[((i * r + j) * g.c + ci) * g.o + co] = sum;
          }
        }
      }
    }
    return dW;
  } finally {
    dispose(wasm, ...temps);
  }
}
