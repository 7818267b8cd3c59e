/**
 * The register-blocked wasm kernels (ml/wasm/direct-conv.ts, simd/kernels.wat `conv_forward`,
 * `conv_filter_grad`, `max_pool_grad_2x2`) and Winograd's 3×3 and 5×5 convolutions and their
 * gradients (ml/wasm/winograd.ts):
 * against the cpu backend on random shapes (odd sizes, strides, pads, channel counts that leave
 * every remainder of the 4-pixel × 8-channel tiles), and, where the summation order is the same,
 * bit for bit against what trained before them (Winograd off, since it sums in another order):
 * XNNPACK's convolution (forward; the input gradient as a convolution with the turned filter), a
 * float32 loop in (image, row, column) order (the filter gradient, as the earlier hand-written
 * kernel summed), in k order from the bias (Dense x·W + b) and in batch order (Dense xᵀ·dy), and
 * the general MaxPoolGrad kernel. Run: node --import tsx --test test/ml/wasm-direct-conv.test.ts
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from "../../ml/wasm/register-training-kernels.ts";
import { asWasm } from "../../ml/wasm/kernel-utils.ts";
import { forwardGeometry, setWinograd } from "../../ml/wasm/direct-conv.ts";
import { winogradApplies } from "../../ml/wasm/winograd.ts";
import { heapOffset, simdKernels } from "../../ml/wasm/simd/kernels.ts";
import { Rng } from "../../ml/random.ts";

type Pad = "same" | "valid" | number;
type Shape4 = [number, number, number, number];

before(async () => {
  registerWasmTrainingKernels();
  await tf.setBackend("wasm");
  await tf.ready();
});

let seed = 1;
const rnd = (shape: number[]): tf.Tensor => tf.randomNormal(shape, 0, 1, "float32", seed++);

async function on(backend: string, f: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const out = tf.tidy(f);
  const values = out.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(out);
  return values;
}

/** f on wasm and on cpu (seeded inputs are the same on both), within rtol of each output's largest value. */
async function assertMatchesCpu(label: string, f: () => tf.Tensor[], rtol = 1e-4): Promise<void> {
  const first = seed;
  const wasm = await on("wasm", f);
  seed = first;
  const cpu = await on("cpu", f);
  await tf.setBackend("wasm");
  wasm.forEach((w, k) => {
    const c = cpu[k]!;
    assert.equal(w.length, c.length, `${label} #${k}: size`);
    let scale = 0;
    let err = 0;
    for (let i = 0; i < c.length; i++) {
      scale = Math.max(scale, Math.abs(c[i]!));
      err = Math.max(err, Math.abs(w[i]! - c[i]!));
    }
    assert.ok(err <= rtol * Math.max(scale, 1e-6), `${label} #${k}: max error ${err} vs scale ${scale}`);
  });
}

/** Equal bit for bit (Object.is: NaN equals NaN, -0 differs from +0), or the first difference. */
function assertSameBits(label: string, actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  assert.equal(actual.length, expected.length, `${label}: size`);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) assert.fail(`${label}: element ${i} is ${actual[i]}, before ${expected[i]}`);
  }
}

interface ConvCase {
  x: Shape4;
  f: Shape4;
  stride: number;
  pad: Pad;
}

const label = (c: ConvCase): string => `x${JSON.stringify(c.x)} f${JSON.stringify(c.f)} s${c.stride} ${c.pad}`;

/** Random convolutions: 1–3 images of 4–17 pixels a side, 1–13 input and 1–19 output channels, filters up to 5, strides 1–3. */
function randomCases(count: number, rng: Rng): ConvCase[] {
  const int = (lo: number, hi: number): number => lo + rng.int(hi - lo + 1);
  const cases: ConvCase[] = [];
  while (cases.length < count) {
    const fh = int(1, 5);
    const fw = int(1, 5);
    const pad: Pad = [("same" as const), ("valid" as const), int(0, 2)][int(0, 2)]!;
    const c: ConvCase = { x: [int(1, 3), int(4, 17), int(4, 17), int(1, 13)], f: [fh, fw, 0, int(1, 19)], stride: int(1, 3), pad };
    c.f[2] = c.x[3];
    try {
      const info = tf.backend_util.computeConv2DInfo(c.x, c.f, c.stride, 1, c.pad as "same");
      if (info.outHeight < 1 || info.outWidth < 1) continue;
    } catch {
      continue; // a filter larger than the padded input
    }
    cases.push(c);
  }
  return cases;
}

/** The studies' layers (small batches) and shapes that hit every tile remainder, then random ones. */
const convCases: ConvCase[] = [
  { x: [2, 28, 28, 1], f: [3, 3, 1, 32], stride: 1, pad: "same" },
  { x: [2, 14, 14, 32], f: [3, 3, 32, 64], stride: 1, pad: "same" },
  { x: [2, 12, 12, 20], f: [5, 5, 20, 50], stride: 1, pad: "valid" },
  { x: [2, 14, 14, 8], f: [9, 9, 8, 16], stride: 1, pad: 4 },
  { x: [3, 28, 28, 1], f: [8, 8, 1, 10], stride: 2, pad: "valid" },
  { x: [2, 9, 11, 3], f: [3, 3, 3, 13], stride: 1, pad: "same" }, // 8 + 4 + 1 channels, 11 = 4 + 4 + 3 pixels
  { x: [1, 7, 5, 6], f: [2, 4, 6, 3], stride: 1, pad: "same" }, // fewer than 4 channels, even filter, asymmetric pads
  { x: [2, 6, 3, 2], f: [3, 3, 2, 9], stride: 1, pad: "same" }, // rows of 3 pixels: the stock kernels
  { x: [2, 5, 6, 3], f: [3, 3, 3, 20], stride: 1, pad: 4 }, // pads wider than the filter
  // Winograd 3×3 and 5×5: 2×2 output tiles cut by odd sizes, every pad kind, channel counts
  // rounded up to 4 (5, 7, 50) or not (4, 8, 12)
  { x: [2, 9, 7, 4], f: [3, 3, 4, 8], stride: 1, pad: "same" },
  { x: [1, 10, 9, 12], f: [3, 3, 12, 4], stride: 1, pad: "valid" },
  { x: [2, 7, 8, 8], f: [3, 3, 8, 12], stride: 1, pad: 2 },
  { x: [2, 9, 7, 5], f: [3, 3, 5, 7], stride: 1, pad: "same" },
  { x: [2, 28, 28, 32], f: [3, 3, 32, 32], stride: 1, pad: "same" }, // several passes of tile rows
  { x: [1, 44, 6, 4], f: [3, 3, 4, 4], stride: 1, pad: "same" }, // a last pass of 3 tiles, started earlier
  { x: [2, 11, 9, 5], f: [5, 5, 5, 7], stride: 1, pad: "same" },
  { x: [2, 12, 13, 8], f: [5, 5, 8, 4], stride: 1, pad: "valid" },
  { x: [1, 9, 10, 6], f: [5, 5, 6, 9], stride: 1, pad: 1 },
  ...randomCases(40, new Rng(20261201)),
];

function convGrads(c: ConvCase): () => tf.Tensor[] {
  return () => {
    const x = rnd(c.x);
    const f = rnd(c.f);
    const b = rnd([c.f[3]]);
    const conv = (a: tf.Tensor, w: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad as "same");
    const y = tf.fused.conv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, bias: b, strides: c.stride, pad: c.pad as "same" });
    const weights = rnd(y.shape); // a non-uniform upstream gradient
    const [dx, dW] = tf.grads((a: tf.Tensor, w: tf.Tensor) => conv(a, w).mul(weights).sum())([x, f]);
    return [y, conv(x, f), dx!, dW!];
  };
}

test("convolution forward (with and without bias), input and filter gradients match cpu on the studies' layers and random shapes", async () => {
  for (const c of convCases) await assertMatchesCpu(label(c), convGrads(c));
});

test("the Winograd cases (forward, input and filter gradients: above) match cpu without Winograd too", async () => {
  const geometry = (c: ConvCase) => tf.backend_util.computeConv2DInfo(c.x, c.f, c.stride, 1, c.pad as "same");
  const winograd = convCases.filter((c) => winogradApplies(forwardGeometry(geometry(c))));
  assert.ok(winograd.length >= 9, `${winograd.length} Winograd cases`);
  assert.ok(winograd.some((c) => c.f[0] === 5) && winograd.some((c) => c.f[2] % 4 !== 0) && winograd.some((c) => c.f[3] % 4 !== 0));
  setWinograd(false);
  try {
    for (const c of winograd) await assertMatchesCpu(`direct ${label(c)}`, convGrads(c));
  } finally {
    setWinograd(true);
  }
});

/** A function of the stock kernels (ours unregistered for its duration). */
function withStockKernels<T>(f: () => T): T {
  unregisterWasmTrainingKernels();
  try {
    return f();
  } finally {
    registerWasmTrainingKernels();
  }
}

/** A function of the direct convolution (Winograd, which sums in another order, off for its duration). */
function direct<T>(f: () => T): T {
  setWinograd(false);
  try {
    return f();
  } finally {
    setWinograd(true);
  }
}

const unitStride = convCases.filter((c) => c.stride === 1);

// Stock XNNPACK is wrong for a numeric pad (wrong sums; with stride > 1 and narrow outputs, a read
// out of bounds) and for some "same" pads at stride > 1 (XNNPACK places them its own way), where
// ours matches the cpu backend (above). The layers use "same" at stride 1 and "valid": so does
// this comparison.
const namedPads = convCases.filter((c) => c.pad === "valid" || (c.pad === "same" && c.stride === 1));

test("the forward convolution (direct) is bit for bit XNNPACK's", () => {
  for (const c of namedPads) {
    tf.tidy(() => {
      const x = rnd(c.x);
      const f = rnd(c.f);
      const b = rnd([c.f[3]]);
      const run = () => [
        tf.fused.conv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, bias: b, strides: c.stride, pad: c.pad as "same" }),
        tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.stride, c.pad as "same"),
      ];
      const before = withStockKernels(run);
      direct(run).forEach((t, k) => assertSameBits(`${label(c)} #${k}`, t.dataSync(), before[k]!.dataSync()));
    });
  }
});

test("the input gradient (direct) is bit for bit XNNPACK's convolution of dy with the turned filter", () => {
  for (const c of unitStride) {
    tf.tidy(() => {
      const f = rnd(c.f);
      const info = tf.backend_util.computeConv2DInfo(c.x, c.f, 1, 1, c.pad as "same");
      const dy = rnd(info.outShape);
      const top = c.f[0] - 1 - info.padInfo.top;
      const left = c.f[1] - 1 - info.padInfo.left;
      if (top < 0 || left < 0) return; // pads wider than the filter: not the direct kernel's
      const bottom = c.x[1] + c.f[0] - 1 - top - info.outHeight;
      const right = c.x[2] + c.f[1] - 1 - left - info.outWidth;
      const before = withStockKernels(() => {
        const turned = tf.transpose(tf.reverse(f, [0, 1]), [0, 1, 3, 2]);
        return tf.conv2d(dy as tf.Tensor4D, turned as tf.Tensor4D, 1, [[0, 0], [top, bottom], [left, right], [0, 0]]);
      });
      const ours = direct(() => tf.engine().runKernel("Conv2DBackpropInput", { dy, filter: f }, { strides: [1, 1], pad: c.pad, dataFormat: "NHWC", inputShape: c.x }) as tf.Tensor);
      assertSameBits(label(c), ours.dataSync(), before.dataSync());
    });
  }
});

/** dW summed per element over images, then rows, then columns, in float32: the order of the earlier kernel. */
function filterGradInOrder(x: Float32Array, dy: Float32Array, c: ConvCase): Float32Array {
  const info = tf.backend_util.computeConv2DInfo(c.x, c.f, c.stride, 1, c.pad as "same");
  const [n, h, w, ch] = c.x;
  const [fh, fw, , o] = c.f;
  const { outHeight: oh, outWidth: ow, padInfo } = info;
  const dW = new Float32Array(fh * fw * ch * o);
  const acc = new Float32Array(1);
  for (let i = 0; i < fh; i++) for (let j = 0; j < fw; j++) for (let cc = 0; cc < ch; cc++) for (let oc = 0; oc < o; oc++) {
    acc[0] = 0;
    for (let b = 0; b < n; b++) for (let y = 0; y < oh; y++) for (let xx = 0; xx < ow; xx++) {
      const iy = y * c.stride + i - padInfo.top;
      const ix = xx * c.stride + j - padInfo.left;
      if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
      acc[0] = acc[0]! + Math.fround(x[((b * h + iy) * w + ix) * ch + cc]! * dy[((b * oh + y) * ow + xx) * o + oc]!);
    }
    dW[((i * fw + j) * ch + cc) * o + oc] = acc[0]!;
  }
  return dW;
}

test("the filter gradient (direct) sums as the earlier kernel did (equal as numbers: padded columns add 0·dy, which can only flip a zero's sign)", () => {
  for (const c of convCases.slice(0, 25)) {
    tf.tidy(() => {
      const x = rnd(c.x);
      const dy = rnd(tf.backend_util.computeConv2DInfo(c.x, c.f, c.stride, 1, c.pad as "same").outShape);
      const ours = direct(() => tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, { strides: [c.stride, c.stride], pad: c.pad, dataFormat: "NHWC", filterShape: c.f }) as tf.Tensor).dataSync();
      const expected = filterGradInOrder(x.dataSync() as Float32Array, dy.dataSync() as Float32Array, c);
      for (let i = 0; i < expected.length; i++) {
        if (ours[i] !== expected[i]) assert.fail(`${label(c)}: dW[${i}] is ${ours[i]}, summed in order ${expected[i]}`);
      }
    });
  }
});

test("Dense x·W + b sums in k order from the bias, and xᵀ·dy in batch order, bit for bit", () => {
  // m = 4, 7 (tiles of 4 rows, the last overlapping), n = 8, 13, 10 (8- and 4-channel blocks, a short one)
  for (const [m, k, n] of [[4, 9, 8], [7, 33, 13], [64, 50, 10], [5, 3, 1]] as const) {
    tf.tidy(() => {
      const x = rnd([m, k]);
      const w = rnd([k, n]);
      const b = rnd([n]);
      const dy = rnd([m, n]);
      const xv = x.dataSync();
      const wv = w.dataSync();
      const bv = b.dataSync();
      const dyv = dy.dataSync();
      const y = new Float32Array(m * n);
      const dW = new Float32Array(k * n);
      const acc = new Float32Array(1);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
        acc[0] = bv[j]!;
        for (let kk = 0; kk < k; kk++) acc[0] = acc[0]! + Math.fround(xv[i * k + kk]! * wv[kk * n + j]!);
        y[i * n + j] = acc[0]!;
      }
      for (let kk = 0; kk < k; kk++) for (let j = 0; j < n; j++) {
        acc[0] = 0;
        for (let i = 0; i < m; i++) acc[0] = acc[0]! + Math.fround(xv[i * k + kk]! * dyv[i * n + j]!);
        dW[kk * n + j] = acc[0]!;
      }
      assertSameBits(`x·W + b ${m}x${k}x${n}`, tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: b }).dataSync(), y);
      assertSameBits(`xᵀ·dy ${m}x${k}x${n}`, tf.matMul(x, dy, true, false).dataSync(), dW);
    });
  }
});

test("MaxPoolGrad of 2×2 windows at stride 2 is bit for bit the general kernel's", () => {
  const wasm = asWasm(tf.backend());
  for (const shape of [[2, 8, 8, 13], [1, 9, 7, 4], [3, 6, 10, 1], [2, 28, 28, 32]] as Shape4[]) {
    for (const input of ["normal", "ties", "non-finite"] as const) {
      tf.tidy(() => {
        let x = rnd(shape);
        if (input === "ties") x = tf.relu(tf.round(x));
        if (input === "non-finite") x = tf.where(tf.less(x, -0.8), tf.fill(shape, -Infinity), tf.where(tf.greater(x, 1.2), tf.fill(shape, NaN), x));
        const y = tf.maxPool(x as tf.Tensor4D, 2, 2, "valid");
        const dy = tf.where(tf.less(rnd(y.shape), -1), tf.fill(y.shape, -0), rnd(y.shape)); // some -0 gradients too
        const ours = tf.engine().runKernel("MaxPoolGrad", { dy, input: x, output: y }, { filterSize: 2, strides: 2, pad: "valid" }) as tf.Tensor;
        const [n, h, w, c] = shape;
        const general = tf.zeros(shape);
        simdKernels(wasm).max_pool_grad(heapOffset(wasm, x), heapOffset(wasm, dy), heapOffset(wasm, general), n, h, w, c, y.shape[1]!, y.shape[2]!, 2, 2, 2, 2, 0, 0);
        assertSameBits(`${JSON.stringify(shape)} ${input}`, ours.dataSync(), general.dataSync());
      });
    }
  }
});
