/**
 * MaxPoolGrad for wasm, replacing the stock kernel, which is slow (~45 ns per input element) and
 * wrong: it starts its running max at FLT_MIN (the smallest *positive* float) with `>=`, so a
 * window whose max is ≤ 0 (an all-zero ReLU window, anything after BatchNorm) sends its gradient
 * to a stray position, and ties go to the last max instead of the first. This follows the cpu
 * backend (and TF): each window's gradient goes to its first max in row-major order.
 *
 * Formulation, all with fast wasm kernels (Transpose, Slice/Concat on contiguous blocks, and
 * XNNPACK element-wise ops):
 *  1. Pad x with -∞ (pool padding, and up to a whole number of stride blocks) and split it into
 *     its sh·sw stride phases with two transposes: [sh·sw, N, Hq, Wq, C]. Window tap (i, j) of
 *     every output pixel is then a plain slice of phase (i mod sh, j mod sw); for the usual
 *     non-overlapping pools (filter = stride) it is the phase itself.
 *  2. Walk the taps in row-major order carrying the not-yet-assigned gradient r (= dy at first):
 *     s = Step(y - x_tap) is 0 exactly where the tap holds the max (y - x = 0 iff x = y), so
 *     r' = r·s keeps only windows still waiting for their max and this tap gets r - r'. Both
 *     are exact (values are r or 0). The last tap takes whatever is left.
 *  3. Put the per-tap gradients back into their phases (PadV2 + AddN where windows overlap),
 *     undo the phase split with the inverse transposes and crop the padding off.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { asWasm, dispose, run, slice, transpose, view, type Info } from "./kernel-utils.ts";

export const maxPoolGradKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasm(backend);
  const dy = inputs["dy"] as Info;
  const x = inputs["input"] as Info;
  const y = inputs["output"] as Info;
  const a = attrs as unknown as tf.MaxPoolGradAttrs;
  const info = tf.backend_util.computePool2DInfo(
    x.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode,
  );
  const temps: Info[] = [];
  const keep = (t: Info): Info => (temps.push(t), t);
  let dx: Info | undefined;
  try {
    dx = maxPoolGrad(wasm, x, y, dy, info, keep);
    // The result may be a view of an intermediate (hand that buffer over instead of copying it)
    // or, in degenerate pools, of an input (which the output must not share).
    const owner = dx.dataId;
    if (!temps.some((t) => t.dataId === owner)) dx = run(wasm, "Identity", { x: dx });
    return dx;
  } finally {
    dispose(wasm, ...temps.filter((t) => t.dataId !== dx?.dataId));
  }
};

function maxPoolGrad(
  wasm: BackendWasm, x: Info, y: Info, dy: Info, info: tf.backend_util.Conv2DInfo, keep: (t: Info) => Info,
): Info {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  // Rows/cols per phase: enough for every window's taps.
  const hq = oh + Math.ceil(fh / sh) - 1;
  const wq = ow + Math.ceil(fw / sw) - 1;
  const phases = sh * sw;

  // 1. x → padded [N, hq·sh, wq·sw, C] → phases [sh·sw, N·hq·wq·C].
  const xp = padOrCrop(wasm, x, [top, hq * sh - h - top], [left, wq * sw - w - left], -Infinity, keep);
  const phaseMajor = toPhases(wasm, xp, n, hq, sh, wq, sw, c, keep);
  const phaseSize = n * hq * wq * c;
  const phase = (p: number): Info =>
    phases === 1 ? view(phaseMajor, [n, hq, wq, c]) : view(keep(slice(wasm, phaseMajor, [p, 0], [1, phaseSize])), [n, hq, wq, c]);
  const phaseCache = new Map<number, Info>();
  const tapValues = (i: number, j: number): Info => {
    const p = (i % sh) * sw + (j % sw);
    if (!phaseCache.has(p)) phaseCache.set(p, phase(p));
    const ph = phaseCache.get(p)!;
    const [oi, oj] = [Math.floor(i / sh), Math.floor(j / sw)];
    if (hq === oh && wq === ow) return ph;
    return keep(slice(wasm, ph, [0, oi, oj, 0], [n, oh, ow, c]));
  };

  // 2. First max wins: hand the remaining gradient to each tap where it holds the max.
  const perPhase = new Map<number, Info[]>();
  let remaining = dy;
  const taps = fh * fw;
  for (let t = 0; t < taps; t++) {
    const [i, j] = [Math.floor(t / fw), t % fw];
    let g: Info;
    if (t === taps - 1) {
      g = remaining;
    } else {
      const diff = keep(run(wasm, "Sub", { a: y, b: tapValues(i, j) }));
      const notMax = keep(run(wasm, "Step", { x: diff }, { alpha: 0 }));
      const rest = keep(run(wasm, "Multiply", { a: remaining, b: notMax }));
      g = keep(run(wasm, "Sub", { a: remaining, b: rest }));
      remaining = rest;
    }
    // 3a. Place the tap's gradient at its offset inside its phase.
    const [oi, oj] = [Math.floor(i / sh), Math.floor(j / sw)];
    const placed =
      hq === oh && wq === ow ? g : keep(run(wasm, "PadV2", { x: g }, {
        paddings: [[0, 0], [oi, hq - oh - oi], [oj, wq - ow - oj], [0, 0]],
        constantValue: 0,
      }));
    const p = (i % sh) * sw + (j % sw);
    perPhase.set(p, [...(perPhase.get(p) ?? []), placed]);
  }

  // 3b. Sum per phase, stack phases, undo the phase split, crop to x.
  const phaseGrads: Info[] = [];
  for (let p = 0; p < phases; p++) {
    const parts = perPhase.get(p) ?? [];
    let grad: Info;
    if (parts.length === 0) grad = keep(run(wasm, "Fill", {}, { shape: [n, hq, wq, c], value: 0, dtype: "float32" }));
    else if (parts.length === 1) grad = parts[0]!;
    else grad = keep(run(wasm, "AddN", asList(parts)));
    phaseGrads.push(view(grad, [1, phaseSize]));
  }
  const stacked = phases === 1 ? phaseGrads[0]! : keep(run(wasm, "Concat", asList(phaseGrads), { axis: 0 }));
  const dxp = fromPhases(wasm, stacked, n, hq, sh, wq, sw, c, keep);
  return padOrCrop(wasm, dxp, [-top, h - (hq * sh - top)], [-left, w - (wq * sw - left)], 0, keep);
}

/** Pads (positive) or crops (negative) rows and columns of an NHWC tensor; new buffers are kept. */
function padOrCrop(
  wasm: BackendWasm, x: Info, [top, bottom]: number[], [left, right]: number[], value: number,
  keep: (t: Info) => Info,
): Info {
  const [n = 0, h = 0, w = 0, c = 0] = x.shape;
  let out = x;
  const crop = [Math.max(0, -top!), Math.max(0, -bottom!), Math.max(0, -left!), Math.max(0, -right!)] as const;
  if (crop.some((v) => v > 0)) {
    out = keep(slice(wasm, out, [0, crop[0], crop[2], 0], [n, h - crop[0] - crop[1], w - crop[2] - crop[3], c]));
  }
  const pad = [Math.max(0, top!), Math.max(0, bottom!), Math.max(0, left!), Math.max(0, right!)] as const;
  if (pad.some((v) => v > 0)) {
    out = keep(run(wasm, "PadV2", { x: out }, {
      paddings: [[0, 0], [pad[0], pad[1]], [pad[2], pad[3]], [0, 0]],
      constantValue: value,
    }));
  }
  return out;
}

/** [N, hq·sh, wq·sw, C] → [sh·sw, N·hq·wq·C], phase (a, b) = rows a mod sh, cols b mod sw. */
function toPhases(
  wasm: BackendWasm, xp: Info, n: number, hq: number, sh: number, wq: number, sw: number, c: number,
  keep: (t: Info) => Info,
): Info {
  let t = xp;
  if (sw > 1) t = keep(transpose(wasm, view(t, [n * hq * sh, wq, sw, c]), [0, 2, 1, 3])); // [N·hq, sh, sw, wq, C]
  if (sh * sw > 1) t = keep(transpose(wasm, view(t, [n * hq, sh * sw, wq * c]), [1, 0, 2]));
  return view(t, [sh * sw, n * hq * wq * c]);
}

/** Inverse of toPhases. */
function fromPhases(
  wasm: BackendWasm, ph: Info, n: number, hq: number, sh: number, wq: number, sw: number, c: number,
  keep: (t: Info) => Info,
): Info {
  let t = ph;
  if (sh * sw > 1) t = keep(transpose(wasm, view(t, [sh * sw, n * hq, wq * c]), [1, 0, 2])); // [N·hq, sh, sw, wq, C]
  if (sw > 1) t = keep(transpose(wasm, view(t, [n * hq * sh, sw, wq, c]), [0, 2, 1, 3]));
  return view(t, [n, hq * sh, wq * sw, c]);
}

/** AddN and Concat take their inputs as an array (that is what the engine passes them). */
function asList(infos: Info[]): Record<string, Info> {
  return infos as unknown as Record<string, Info>;
}
