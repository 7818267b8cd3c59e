/**
 * 3×3 convolutions at stride 1 by Winograd's F(2×2, 3×3) (simd/kernels.wat `winograd_conv`): each
 * 2×2 block of outputs costs 16 multiplies per input and output channel instead of 36. The
 * forward convolutions of simple, textbook and textbook-plus's later layers and their input
 * gradients take it; it needs channel counts in multiples of 4 and at least 4 tiles of 2×2 outputs.
 *
 * It sums in another order than the direct convolution (products of transformed values, then the
 * output transform), so its results differ from XNNPACK's in the last bits, like any other change
 * of summation order: test/ml/wasm-direct-conv.test.ts compares it with the cpu backend.
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { ConvGeometry } from "./direct-conv.ts";
import { dispose, type Info } from "./kernel-utils.ts";
import { heapOffset, simdKernels } from "./simd/kernels.ts";

const tiles = (outputs: number): number => Math.ceil(outputs / 2);

export function winogradApplies(g: ConvGeometry): boolean {
  return g.fh === 3 && g.fw === 3 && g.sh === 1 && g.sw === 1 && g.c % 4 === 0 && g.o % 4 === 0 && tiles(g.oh) * tiles(g.ow) >= 4;
}

/** y = conv(x, filter) (+ bias), as directConv (direct-conv.ts) computes it, for a geometry winogradApplies to. */
export function winogradConv(wasm: BackendWasm, x: Info, filter: Info, g: ConvGeometry, bias?: Info, turned = false): Info {
  const tH = tiles(g.oh);
  const tW = tiles(g.ow);
  const hp = 2 * tH + 2;
  const wp = 2 * tW + 2;
  const temps: Info[] = [];
  try {
    const kernels = simdKernels(wasm);
    const padded = wasm.makeOutput([g.n, hp, wp, g.c], "float32");
    temps.push(padded);
    kernels.pad_images(heapOffset(wasm, x), heapOffset(wasm, padded), g.n, g.h, g.w, g.c, hp, wp, g.top, g.left);
    const u = transformedFilter(wasm, filter, g, turned);
    temps.push(u);
    const v = wasm.makeOutput([16 * tH * tW * g.c], "float32");
    const m = wasm.makeOutput([16 * tH * tW * g.o], "float32");
    temps.push(v, m);
    const y = wasm.makeOutput([g.n, g.oh, g.ow, g.o], "float32");
    temps.push(y); // until it is returned
    kernels.winograd_conv(
      heapOffset(wasm, padded), heapOffset(wasm, u), bias === undefined ? 0 : heapOffset(wasm, bias), heapOffset(wasm, y),
      heapOffset(wasm, v), heapOffset(wasm, m), g.n, hp, wp, g.c, g.oh, g.ow, g.o,
    );
    temps.splice(temps.indexOf(y), 1);
    return y;
  } finally {
    dispose(wasm, ...temps);
  }
}

/**
 * U[e, ci, co] = (G·g·Gᵀ)[e] for each 3×3 kernel g of the filter, G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1],
 * e = 4·row + column. g is filter[·, ·, ci, co], or, `turned`, the forward filter [3, 3, o, c]
 * turned by 180° with its channels swapped: forward[2-i, 2-j, co, ci].
 */
function transformedFilter(wasm: BackendWasm, filter: Info, g: ConvGeometry, turned: boolean): Info {
  const { c, o } = g;
  const u = wasm.makeOutput([16, c, o], "float32");
  const src = wasm.typedArrayFromHeap(filter) as Float32Array;
  const dst = wasm.typedArrayFromHeap(u) as Float32Array;
  const plane = c * o;
  const k = new Float64Array(9);
  const t = new Float64Array(12); // G·g, 4 × 3
  for (let ci = 0; ci < c; ci++) {
    for (let co = 0; co < o; co++) {
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 3; j++) {
          k[i * 3 + j] = turned ? src[(((2 - i) * 3 + (2 - j)) * o + co) * c + ci]! : src[((i * 3 + j) * c + ci) * o + co]!;
        }
      }
      for (let j = 0; j < 3; j++) {
        const g0 = k[j]!;
        const g1 = k[3 + j]!;
        const g2 = k[6 + j]!;
        t[j] = g0;
        t[3 + j] = (g0 + g1 + g2) / 2;
        t[6 + j] = (g0 - g1 + g2) / 2;
        t[9 + j] = g2;
      }
      const at = ci * o + co;
      for (let r = 0; r < 4; r++) {
        const g0 = t[r * 3]!;
        const g1 = t[r * 3 + 1]!;
        const g2 = t[r * 3 + 2]!;
        dst[(r * 4) * plane + at] = g0;
        dst[(r * 4 + 1) * plane + at] = (g0 + g1 + g2) / 2;
        dst[(r * 4 + 2) * plane + at] = (g0 - g1 + g2) / 2;
        dst[(r * 4 + 3) * plane + at] = g2;
      }
    }
  }
  return u;
}
