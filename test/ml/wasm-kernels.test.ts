/**
 * The wasm training kernels (ml/wasm/) against the cpu backend, through the real ops and their
 * gradients. Run: node --import tsx --test test/ml/wasm-kernels.test.ts
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import {
  registerWasmTrainingKernels,
  unregisterWasmTrainingKernels,
  wasmTrainingKernelNames,
} from "../../ml/wasm/register-training-kernels.ts";
import { chooseMethod, conv2dBackpropFilterWith } from "../../ml/wasm/conv2d-backprop-filter.ts";

type Pad = "same" | "valid" | number;
type Computation = () => tf.Tensor | tf.Tensor[];

before(async () => {
  registerWasmTrainingKernels();
  await tf.setBackend("wasm");
  await tf.ready();
});

let seed = 1;
/** Seeded normal values: the same on every backend as long as `seed` is reset between runs. */
const rnd = (shape: number[]): tf.Tensor => tf.randomNormal(shape, 0, 1, "float32", seed++);
async function on(backend: string, f: Computation): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  await tf.ready();
  const out = tf.tidy(f);
  const list = Array.isArray(out) ? out : [out];
  const values = list.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(list);
  return values;
}

/** Runs f on wasm and on cpu (seeded random inputs are identical on both) and compares. */
async function assertSameOnCpu(label: string, f: Computation, rtol = 1e-4): Promise<void> {
  const firstSeed = seed;
  const wasm = await on("wasm", f);
  seed = firstSeed;
  const cpu = await on("cpu", f);
  await tf.setBackend("wasm");
  assert.equal(wasm.length, cpu.length, label);
  wasm.forEach((w, k) => {
    const c = cpu[k]!;
    assert.equal(w.length, c.length, `${label} #${k}: size`);
    let scale = 0;
    let err = 0;
    for (let i = 0; i < c.length; i++) {
      scale = Math.max(scale, Math.abs(c[i]!));
      err = Math.max(err, Math.abs(w[i]! - c[i]!));
    }
    assert.ok(Number.isFinite(err), `${label} #${k}: non-finite result`);
    assert.ok(err <= rtol * Math.max(scale, 1e-6), `${label} #${k}: max error ${err} vs scale ${scale}`);
  });
}

const shapeOf = (t: tf.Tensor): number[] => t.shape;

interface ConvCase {
  x: [number, number, number, number];
  f: [number, number, number, number];
  stride: number;
  pad: Pad;
}

const convCases: ConvCase[] = [
  // The study layers, small batch.
  { x: [2, 28, 28, 1], f: [9, 9, 1, 8], stride: 1, pad: 4 },
  { x: [2, 28, 28, 8], f: [9, 9, 8, 16], stride: 1, pad: 4 },
  { x: [3, 28, 28, 1], f: [8, 8, 1, 10], stride: 2, pad: "valid" },
  { x: [2, 28, 28, 1], f: [3, 3, 1, 32], stride: 1, pad: 1 },
  { x: [2, 14, 14, 32], f: [3, 3, 32, 32], stride: 1, pad: "same" },
  { x: [2, 7, 7, 32], f: [3, 3, 32, 64], stride: 1, pad: "same" },
  { x: [2, 28, 28, 1], f: [5, 5, 1, 20], stride: 1, pad: "valid" },
  { x: [2, 12, 12, 20], f: [5, 5, 20, 50], stride: 1, pad: "valid" },
  // Odd sizes, stride 2 with dropped rows, asymmetric 'same' pads, even filters.
  { x: [2, 9, 11, 3], f: [3, 3, 3, 4], stride: 1, pad: "same" },
  { x: [2, 9, 11, 8], f: [3, 3, 8, 5], stride: 2, pad: "same" },
  { x: [2, 10, 13, 9], f: [3, 3, 9, 4], stride: 2, pad: "valid" },
  { x: [1, 29, 27, 12], f: [8, 8, 12, 5], stride: 2, pad: "valid" },
  { x: [2, 7, 8, 10], f: [2, 2, 10, 3], stride: 2, pad: "same" },
  { x: [3, 6, 5, 2], f: [4, 4, 2, 6], stride: 1, pad: "same" },
  { x: [1, 5, 7, 3], f: [3, 3, 3, 2], stride: 2, pad: 1 },
  { x: [2, 5, 6, 3], f: [3, 3, 3, 20], stride: 1, pad: 4 }, // pads wider than the filter: taps wholly in padding
];

const label = (c: ConvCase): string => `x${JSON.stringify(c.x)} f${JSON.stringify(c.f)} s${c.stride} ${c.pad}`;

function convGrads(c: ConvCase): Computation {
  return () => {
    const x = rnd(c.x);
    const f = rnd(c.f);
    const y = tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.stride, c.pad as "same");
    const weights = rnd(shapeOf(y)); // a non-uniform upstream gradient
    const loss = (a: tf.Tensor, b: tf.Tensor) =>
      tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad as "same").mul(weights).sum();
    return tf.grads(loss)([x, f]);
  };
}

test("every kernel is registered for wasm, and registering twice is harmless", () => {
  registerWasmTrainingKernels();
  for (const name of wasmTrainingKernelNames) assert.ok(tf.getKernel(name, "wasm"), name);
  assert.ok(wasmTrainingKernelNames.includes("Conv2DBackpropFilter"));
});

test("conv2d input and filter gradients match cpu", async () => {
  for (const c of convCases) await assertSameOnCpu(label(c), convGrads(c));
});

test("both Conv2DBackpropFilter formulations match cpu", async () => {
  assert.ok(convCases.every((c) => chooseMethod(convInfo(c)) === "direct"), "undilated convolutions take the direct kernel");
  try {
    for (const method of ["conv", "direct"] as const) {
      tf.unregisterKernel("Conv2DBackpropFilter", "wasm");
      tf.registerKernel({ kernelName: "Conv2DBackpropFilter", backendName: "wasm", kernelFunc: conv2dBackpropFilterWith(method) });
      for (const c of convCases) await assertSameOnCpu(`${method} ${label(c)}`, convGrads(c));
    }
  } finally {
    registerWasmTrainingKernels();
  }
});

function convInfo(c: ConvCase): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(c.x, c.f, c.stride, 1, c.pad as "same");
}

test("maxPool gradient matches cpu, including ties and windows with max ≤ 0", async () => {
  const cases: [number[], number, number, "same" | "valid"][] = [
    [[2, 28, 28, 8], 2, 2, "valid"],
    [[2, 9, 7, 3], 2, 2, "valid"],
    [[2, 9, 7, 3], 2, 2, "same"],
    [[1, 6, 6, 2], 3, 3, "valid"],
    [[2, 9, 9, 2], 3, 2, "same"], // overlapping windows
    [[2, 9, 9, 2], 3, 1, "same"],
    [[1, 7, 7, 2], 1, 2, "valid"],
    [[2, 7, 9, 6], 2, 2, "same"], // one 4-channel vector group and two single channels
  ];
  for (const [shape, k, s, pad] of cases) {
    for (const input of ["normal", "ties", "negative", "non-finite"] as const) {
      await assertSameOnCpu(`${JSON.stringify(shape)} ${k}/${s} ${pad} ${input}`, () => {
        let x = rnd(shape);
        if (input === "ties") x = tf.relu(tf.round(x)); // many windows of equal values, many all-zero
        if (input === "negative") x = tf.neg(tf.abs(x));
        // -inf and NaN sprinkled in: windows of only -inf/NaN pass no gradient, others skip them.
        if (input === "non-finite") x = tf.where(tf.less(x, -0.8), tf.fill(shape, -Infinity), tf.where(tf.greater(x, 1.2), tf.fill(shape, NaN), x));
        const dy = rnd(tf.maxPool(x as tf.Tensor4D, k, s, pad).shape);
        return tf.grad((t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, k, s, pad).mul(dy).sum())(x);
      });
    }
  }
});

test("a dy whose shape does not fit the other inputs is an error, not a read past it", () => {
  const x = tf.zeros([1, 8, 8, 1]);
  const dy = tf.zeros([1, 4, 4, 1]);
  assert.throws(
    () => tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, { strides: [1, 1], pad: "same", dataFormat: "NHWC", filterShape: [3, 3, 1, 1] }),
    /Conv2DBackpropFilter: dy has shape \[1, 4, 4, 1\], but the other inputs and attributes imply \[1, 8, 8, 1\]/,
  );
  assert.throws(
    () => tf.engine().runKernel("MaxPoolGrad", { dy, input: x, output: dy }, { filterSize: 2, strides: 1, pad: "valid" }),
    /MaxPoolGrad: dy has shape \[1, 4, 4, 1\], but the other inputs and attributes imply \[1, 7, 7, 1\]/,
  );
  tf.dispose([x, dy]);
});

test("matMul with every transpose combination matches cpu, and so do its gradients", async () => {
  // [m, k, n]: batch-like m small (the swapped dy·Wᵀ path), and m large (explicit transpose);
  // n = 157, 53, 3, 1 and 200 take every column block of the hand-written matmul (16, 4, 1).
  const sizes: [number, number, number][] = [[4, 37, 53], [64, 50, 157], [53, 37, 4], [5, 7, 3], [1, 9, 1], [8, 300, 200]];
  for (const [m, k, n] of sizes) {
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      await assertSameOnCpu(`matMul ${m}x${k}x${n} ${ta} ${tb}`, () => {
        const a = rnd(ta ? [k, m] : [m, k]);
        const b = rnd(tb ? [n, k] : [k, n]);
        const w = rnd([m, n]);
        const [ga, gb] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.matMul(p, q, ta, tb).mul(w).sum())([a, b]);
        return [tf.matMul(a, b, ta, tb), ga!, gb!];
      });
    }
  }
  await assertSameOnCpu("batched matMul", () => [
    tf.matMul(rnd([3, 7, 5]), rnd([3, 4, 7]), true, true),
    tf.matMul(rnd([2, 5, 6]), rnd([2, 4, 6]), false, true),
  ]);
  await assertSameOnCpu("fused matMul", () => {
    const bias = rnd([11]);
    return [
      tf.fused.matMul({ a: rnd([6, 9]), b: rnd([11, 9]), transposeB: true, bias, activation: "relu" }),
      tf.fused.matMul({ a: rnd([9, 6]), b: rnd([9, 11]), transposeA: true, bias }),
    ];
  });
  await assertSameOnCpu("fused matMul of a Dense layer: fresh weight, then the same weight again", () => {
    const w = rnd([301, 199]);
    const bias = rnd([199]);
    const first = tf.fused.matMul({ a: rnd([7, 301]), b: w, bias }); // w not packed yet: the direct kernel, bias included
    const again = tf.fused.matMul({ a: rnd([7, 301]), b: w, bias }); // w packed: the stock kernel
    const x = rnd([5, 301]);
    const [gx, gw, gb] = tf.grads((p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) =>
      tf.fused.matMul({ a: p as tf.Tensor2D, b: q as tf.Tensor2D, bias: r }).square().sum())([x, rnd([301, 199]), rnd([199])]);
    return [first, again, gx!, gw!, gb!];
  });
});

test("Identity shares the buffer: a clone outlives its source and nothing leaks", () => {
  const before = tf.memory().numBytes;
  const x = tf.tensor([1, 2, 3, 4.5], [2, 2]);
  const y = tf.clone(x);
  x.dispose();
  assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3, 4.5]);
  const z = tf.add(y, 1); // still a valid kernel input
  assert.deepEqual(Array.from(z.dataSync()), [2, 3, 4, 5.5]);
  tf.dispose([y, z]);
  assert.equal(tf.memory().numBytes, before);
});

test("slice matches cpu exactly", async () => {
  await assertSameOnCpu("slices", () => {
    const x4 = rnd([5, 6, 7, 3]);
    return [
      tf.slice(x4, [1, 2, 3, 1], [2, 3, 4, 2]),
      tf.slice(x4, [2, 0, 0, 0], [2, 6, 7, 3]),
      tf.slice(x4, [0, 1, 0, 0], [5, 4, 7, 3]),
      tf.slice(x4, [0, 0, 0, 2], [5, 6, 7, 1]),
      tf.slice(rnd([300, 784]), [64, 0], [64, 784]), // a batch out of a dataset
      tf.slice(rnd([10]), [3], [4]),
      tf.slice(tf.range(0, 24, 1, "int32").reshape([2, 3, 4]), [1, 1, 1], [1, 2, 3]),
    ];
  }, 0);
});

test("sum and mean match cpu on leading and other axes", async () => {
  await assertSameOnCpu("reductions", () => {
    const x = rnd([8, 9, 10, 16]);
    return [
      tf.sum(x, [0, 1, 2]),
      tf.sum(x, [0, 1, 2], true),
      tf.sum(x, 0),
      tf.mean(x, [0, 1, 2]),
      tf.mean(x, [0, 1], true),
      tf.sum(x, [1, 2]),
      tf.sum(x, -1),
      tf.sum(x),
      tf.mean(x),
      tf.sum(tf.range(0, 12, 1, "int32").reshape([3, 4]), 0),
    ];
  });
});

/** conv→relu→maxpool→conv→relu→maxpool→dense, softmax cross-entropy. */
function smallCnnStep(): tf.Tensor[] {
  const batch = 8;
  const x = tf.randomUniform([batch, 28, 28, 1], 0, 1, "float32", 101);
  const labels = tf.oneHot(tf.randomUniform([batch], 0, 10, "int32", 102), 10);
  const init = (shape: number[], s: number) => tf.variable(tf.randomNormal(shape, 0, 0.2, "float32", s));
  const params = [
    init([5, 5, 1, 8], 103), init([8], 104),
    init([3, 3, 8, 16], 105), init([16], 106),
    init([7 * 7 * 16, 10], 107), init([10], 108),
  ];
  const [w1, b1, w2, b2, w3, b3] = params as [tf.Variable, tf.Variable, tf.Variable, tf.Variable, tf.Variable, tf.Variable];
  const loss = (): tf.Scalar => {
    let h = tf.relu(tf.conv2d(x as tf.Tensor4D, w1 as tf.Tensor4D, 1, "same").add(b1)) as tf.Tensor4D;
    h = tf.maxPool(h, 2, 2, "valid");
    h = tf.relu(tf.conv2d(h, w2 as tf.Tensor4D, 1, "same").add(b2)) as tf.Tensor4D;
    h = tf.maxPool(h, 2, 2, "valid");
    const logits = tf.matMul(h.reshape([batch, 7 * 7 * 16]), w3).add(b3);
    return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
  };
  const { value, grads } = tf.variableGrads(loss);
  const out = [value, ...params.map((p) => grads[p.name]!)];
  params.forEach((p) => p.dispose());
  return out;
}

test("a full training step of a small CNN gives the same loss and gradients on wasm and cpu", async () => {
  await assertSameOnCpu("cnn step", smallCnnStep);
});

test("repeated gradient computations leak neither tensors nor wasm buffers", async () => {
  await tf.setBackend("wasm");
  const backend = tf.backend() as unknown as { numDataIds(): number };
  const step = () => tf.dispose(tf.tidy(smallCnnStep));
  const extra = () => tf.tidy(() => {
    const x = rnd([2, 9, 9, 8]);
    const f = rnd([3, 3, 8, 4]);
    tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, "valid").sum())([x, f]);
    tf.grad((a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, 3, 2, "same").sum())(x);
    tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.matMul(a, b, false, true).sum())([rnd([4, 6]), rnd([9, 6])]);
    tf.grad((a: tf.Tensor) => tf.mean(tf.slice(a, [0, 1, 1, 0], [2, 5, 5, 8]), [0, 1, 2]).sum())(x);
  });
  step();
  extra();
  const tensors = tf.memory().numTensors;
  const buffers = backend.numDataIds();
  for (let i = 0; i < 3; i++) {
    step();
    extra();
  }
  assert.equal(tf.memory().numTensors, tensors, "tensors");
  assert.equal(backend.numDataIds(), buffers, "wasm buffers");
});

test("a bias added along the last axis is bit for bit the stock Add, and other adds still match cpu", async () => {
  const shapes = [[32, 11, 11, 10], [2, 5, 7], [4, 3], [3, 5, 6, 1]];
  for (const shape of shapes) {
    const a = rnd(shape);
    const b = rnd([shape.at(-1)!]);
    const ours = tf.add(a, b).dataSync();
    unregisterWasmTrainingKernels();
    try {
      const stock = tf.add(a, b).dataSync();
      assert.equal(ours.length, stock.length);
      for (let i = 0; i < stock.length; i++) assert.ok(Object.is(ours[i], stock[i]), `${JSON.stringify(shape)}: element ${i}`);
    } finally {
      registerWasmTrainingKernels();
    }
    tf.dispose([a, b]);
  }
  await assertSameOnCpu("adds", () => [
    tf.add(rnd([3, 4, 5]), rnd([5])),
    tf.add(rnd([5]), rnd([3, 4, 5])), // the bias first: the stock kernel
    tf.add(rnd([3, 4, 5]), rnd([4, 5])),
    tf.add(rnd([3, 4, 5]), rnd([3, 4, 5])),
    tf.add(tf.range(0, 6, 1, "int32").reshape([2, 3]), tf.range(0, 3, 1, "int32")),
  ], 0);
});
