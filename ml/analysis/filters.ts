/**
 * The learned conv kernels, for drawing one small tile per (output, input) channel pair.
 */
import type { MnistModel } from "../models.ts";
import { round } from "./pixels.ts";
import type { FilterLayer, FiltersResult } from "./types.ts";

/** The first `layers` conv layers in layer order (fewer when the network has fewer). */
export function convFilters(model: MnistModel, options: { layers: number }): FiltersResult {
  if (!Number.isInteger(options.layers) || options.layers < 1) {
    throw new Error(`layers must be a positive integer (conv layers to show), got ${String(options.layers)}`);
  }
  const convs = model.layers.filter((l) => l.summary.kind === "conv").slice(0, options.layers);
  return { kind: "filters", layers: convs.map((l) => filterLayer(model, l.summary.name)) };
}

function filterLayer(model: MnistModel, name: string): FilterLayer {
  const kernel = model.variable(`${name}/kernel`);
  const [kh, kw, inC, outC] = kernel.shape as [number, number, number, number];
  // Reading a variable's data allocates no tensor, so nothing to dispose here.
  const k = kernel.dataSync() as Float32Array;
  // tfjs keeps [kh][kw][in][out]; a tile is one (out, in) pair, so make each tile contiguous.
  const weights = new Array<number>(k.length);
  let maxAbs = 0;
  for (let o = 0; o < outC; o++) {
    for (let i = 0; i < inC; i++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) {
          const w = k[((y * kw + x) * inC + i) * outC + o] as number;
          maxAbs = Math.max(maxAbs, Math.abs(w));
          weights[((o * inC + i) * kh + y) * kw + x] = round(w);
        }
      }
    }
  }
  return { name, kernelHeight: kh, kernelWidth: kw, inChannels: inC, outChannels: outC, weights, maxAbs: round(maxAbs) };
}
