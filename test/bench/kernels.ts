/**
 * The wasm training kernels against the multiply-add ceiling of this machine, and against the stock
 * wasm kernels ("stock": XNNPACK where the backend has one; for Conv2DBackpropFilter, which it has
 * not, our XNNPACK-convolution formulation), plus one full training step of a small MNIST CNN.
 *
 *   node [--experimental-wasm-relaxed-simd] --import tsx test/bench/kernels.ts [--quick] [--only=text]
 *
 * First the ceiling (simd-ceiling.ts): mul + add, and relaxed_madd. Then per case, alternating
 * samples of: stock, ours, for the 3×3 and 5×5 layers ours without Winograd ("direct": the
 * blocked kernels alone, whose fraction of the ceiling says how well they use the SIMD units;
 * GFLOP/s always counts the direct convolution's FLOPs, so Winograd's figures can exceed the
 * ceiling), and, when this Node validates relaxed SIMD, ours assembled with f32x4.relaxed_madd
 * ("relaxed": measured only; training runs the separate build). A 5 ms ceiling sample runs between
 * them, so each kernel's fraction of the ceiling is taken under the load it saw.
 * Every sample gets freshly made operands (made outside the timed region), as in training where
 * weights change every step: XNNPACK caches packed weights per tensor, so reusing one weight tensor
 * would hide its repacking cost. Medians are reported.
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import {
  registerWasmTrainingKernels,
  unregisterWasmTrainingKernels,
} from "../../ml/wasm/register-training-kernels.ts";
import { conv2dBackpropFilterWith } from "../../ml/wasm/conv2d-backprop-filter.ts";
import { useMaddVariant } from "../../ml/wasm/simd/kernels.ts";
import { forwardGeometry, inputGradientGeometry, setWinograd } from "../../ml/wasm/direct-conv.ts";
import { winogradApplies } from "../../ml/wasm/winograd.ts";
import { ceilingSampler, describeCeiling, measureCeiling, relaxedSimdHere, RELAXED_SIMD_FLAG } from "./simd-ceiling.ts";

const quick = process.argv.includes("--quick");
/** --only=text keeps the cases whose name contains text. */
const only = process.argv.find((a) => a.startsWith("--only="))?.slice("--only=".length);
const MIN_MS = quick ? 300 : 1500;
const MAX_SAMPLES = 40;

interface Case {
  name: string;
  /** FLOPs per run, for GFLOP/s; null to report ms only. */
  flops: number | null;
  /** Makes the operands of one sample (untimed). */
  setup: () => tf.Tensor[];
  /** The timed work; wasm kernels run synchronously, so the call's end is the work's end. */
  run: (inputs: tf.Tensor[]) => tf.Tensor | tf.Tensor[] | void;
  /** Ours takes Winograd here: "direct" is measured too. */
  winograd?: boolean;
}

type Variant = "stock" | "ours" | "direct" | "relaxed";

async function use(variant: Variant): Promise<void> {
  registerWasmTrainingKernels();
  await useMaddVariant(variant === "relaxed" ? "relaxed" : "separate");
  setWinograd(variant !== "direct");
  if (variant !== "stock") return;
  unregisterWasmTrainingKernels();
  // From the second switch on, unregistering already put this back (it became the remembered "stock").
  if (tf.getKernel("Conv2DBackpropFilter", "wasm") === undefined) {
    tf.registerKernel({ kernelName: "Conv2DBackpropFilter", backendName: "wasm", kernelFunc: conv2dBackpropFilterWith("conv") });
  }
}

function sample(c: Case): number {
  const inputs = c.setup();
  const t0 = performance.now();
  const out = tf.tidy(() => c.run(inputs));
  const ms = performance.now() - t0;
  tf.dispose(out ?? []);
  tf.dispose(inputs);
  return ms;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Measured {
  ms: Partial<Record<Variant, number>>;
  /** Median GFLOP/s of the ceiling samples taken between this case's samples. */
  ceiling: number;
}

/** Alternating samples of every variant (and of the ceiling); a variant is left out where the stock backend lacks the kernel. */
async function measure(c: Case, all: readonly Variant[], ceiling: () => number): Promise<Measured> {
  const variants = all.filter((v) => v !== "direct" || c.winograd === true);
  const times = new Map<Variant, number[]>(variants.map((v) => [v, []]));
  const ceilings: number[] = [];
  const running: Variant[] = [];
  for (const v of variants) {
    await use(v);
    try {
      sample(c); // warm-up: first-call allocations, JIT
      sample(c);
      running.push(v);
    } catch (e) {
      if (!String(e).includes("not registered")) throw e;
    }
  }
  const spent = new Map<Variant, number>(running.map((v) => [v, 0]));
  while (running.some((v) => times.get(v)!.length < 3 || (spent.get(v)! < MIN_MS && times.get(v)!.length < MAX_SAMPLES))) {
    for (const v of running) {
      await use(v);
      const ms = sample(c);
      times.get(v)!.push(ms);
      spent.set(v, spent.get(v)! + ms);
      ceilings.push(ceiling());
    }
  }
  await use("ours");
  return { ms: Object.fromEntries(running.map((v) => [v, median(times.get(v)!)])), ceiling: median(ceilings) };
}

const rnd = (shape: number[]): tf.Tensor => tf.randomNormal(shape);

interface ConvSpec {
  label: string;
  x: [number, number, number, number];
  f: [number, number, number, number];
  stride: number;
  pad: "same" | "valid" | number;
  /** The first layer never needs its input gradient. */
  inputGrad: boolean;
}

function convCases(s: ConvSpec): Case[] {
  const info = tf.backend_util.computeConv2DInfo(s.x, s.f, s.stride, 1, s.pad as "same");
  const dyShape = info.outShape;
  const winograd = winogradApplies(forwardGeometry(info));
  const dxGeometry = inputGradientGeometry(info);
  const flops = 2 * info.batchSize * info.outHeight * info.outWidth * s.f[0] * s.f[1] * s.f[2] * s.f[3];
  const attrs = { strides: [s.stride, s.stride], pad: s.pad, dataFormat: "NHWC" };
  const cases: Case[] = [
    {
      name: `conv fwd + bias  ${s.label}`,
      flops,
      winograd,
      setup: () => [rnd(s.x), rnd(s.f), rnd([s.f[3]])],
      run: ([x, f, b]) => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, bias: b, strides: s.stride, pad: s.pad as "same" }),
    },
    {
      name: `conv dW          ${s.label}`,
      flops,
      winograd,
      setup: () => [rnd(s.x), rnd(dyShape)],
      run: ([x, dy]) =>
        tf.engine().runKernel("Conv2DBackpropFilter", { x: x!, dy: dy! }, { ...attrs, filterShape: s.f }) as tf.Tensor,
    },
  ];
  if (s.inputGrad) {
    cases.push({
      name: `conv dx          ${s.label}`,
      flops,
      winograd: dxGeometry !== null && winogradApplies(dxGeometry),
      setup: () => [rnd(dyShape), rnd(s.f)],
      run: ([dy, f]) => tf.engine().runKernel("Conv2DBackpropInput", { dy: dy!, filter: f! }, { ...attrs, inputShape: s.x }) as tf.Tensor,
    });
  }
  return cases;
}

/** The three matmuls of a Dense layer's training step: y = x·W + b, dx = dy·Wᵀ, dW = xᵀ·dy. */
function denseCases(batch: number, inputs: number, units: number): Case[] {
  const flops = 2 * batch * inputs * units;
  const l = `${inputs}→${units} (batch ${batch})`;
  return [
    {
      name: `dense x·W + b    ${l}`,
      flops,
      setup: () => [rnd([batch, inputs]), rnd([inputs, units]), rnd([units])],
      run: ([x, w, b]) => tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: b }),
    },
    { name: `dense dy·Wᵀ      ${l}`, flops, setup: () => [rnd([batch, units]), rnd([inputs, units])], run: ([dy, w]) => tf.matMul(dy!, w!, false, true) },
    { name: `dense xᵀ·dy      ${l}`, flops, setup: () => [rnd([batch, inputs]), rnd([batch, units])], run: ([x, dy]) => tf.matMul(x!, dy!, true, false) },
  ];
}

function maxPoolGradCase(shape: [number, number, number, number]): Case {
  const out = [shape[0], shape[1] / 2, shape[2] / 2, shape[3]];
  return {
    name: `maxPool 2x2 grad ${JSON.stringify(shape)}`,
    flops: null,
    setup: () => {
      const x = tf.relu(rnd(shape)); // post-ReLU, like the models
      return [x, tf.maxPool(x as tf.Tensor4D, 2, 2, "valid"), rnd(out)];
    },
    run: ([x, y, dy]) =>
      tf.engine().runKernel("MaxPoolGrad", { dy: dy!, input: x!, output: y! }, { filterSize: 2, strides: 2, pad: "valid" }) as tf.Tensor,
  };
}

function otherCases(): Case[] {
  return [
    { name: "bias grad: sum [64,28,28,32] over N,H,W", flops: null, setup: () => [rnd([64, 28, 28, 32])], run: ([x]) => tf.sum(x!, [0, 1, 2]) },
    { name: "BN moments: mean [64,14,14,32] over N,H,W", flops: null, setup: () => [rnd([64, 14, 14, 32])], run: ([x]) => tf.mean(x!, [0, 1, 2]) },
    { name: "ReLU grad: dy·cast(step(x)) [64,28,28,32]", flops: null, setup: () => [rnd([64, 28, 28, 32]), rnd([64, 28, 28, 32])], run: ([dy, x]) => tf.mul(dy!, tf.cast(tf.step(x!), "float32")) },
    { name: "slice a batch of 64 from [10000,784]", flops: null, setup: () => [rnd([10000, 784])], run: ([x]) => tf.slice(x!, [640, 0], [64, 784]) },
  ];
}

/** Conv(1→32,3x3,same) ReLU Pool · Conv(32→32,3x3,same) ReLU Pool · Dense(1568→500) ReLU · Dense(500→10). */
function trainingStepCase(batch: number): Case {
  const init = (shape: number[]) => tf.variable(tf.randomNormal(shape, 0, 0.05));
  const params = {
    c1: init([3, 3, 1, 32]), b1: init([32]),
    c2: init([3, 3, 32, 32]), b2: init([32]),
    d1: init([1568, 500]), e1: init([500]),
    d2: init([500, 10]), e2: init([10]),
  };
  const lr = tf.keep(tf.scalar(0.01));
  return {
    name: `training step (SGD) of simple, batch ${batch}`,
    flops: null,
    setup: () => [tf.randomUniform([batch, 28, 28, 1]), tf.oneHot(tf.randomUniform([batch], 0, 10, "int32"), 10)],
    run: ([x, y]) => {
      const loss = (): tf.Scalar => {
        let h = tf.relu(tf.conv2d(x as tf.Tensor4D, params.c1 as tf.Tensor4D, 1, "same").add(params.b1)) as tf.Tensor4D;
        h = tf.maxPool(h, 2, 2, "valid");
        h = tf.relu(tf.conv2d(h, params.c2 as tf.Tensor4D, 1, "same").add(params.b2)) as tf.Tensor4D;
        h = tf.maxPool(h, 2, 2, "valid");
        const f = tf.relu(tf.matMul(h.reshape([batch, 1568]), params.d1).add(params.e1));
        const logits = tf.matMul(f, params.d2).add(params.e2);
        return tf.losses.softmaxCrossEntropy(y!, logits) as tf.Scalar;
      };
      const { value, grads } = tf.variableGrads(loss);
      for (const v of Object.values(params)) v.assign(v.sub(grads[v.name]!.mul(lr)));
      value.dataSync();
    },
  };
}

/** Every layer of the studies' networks at its study batch size. */
function buildCases(): Case[] {
  return [
    // simple, textbook, textbook-plus (batch 64)
    ...convCases({ label: "3x3 1→32   @28 b64", x: [64, 28, 28, 1], f: [3, 3, 1, 32], stride: 1, pad: "same", inputGrad: false }),
    ...convCases({ label: "3x3 32→32  @14 b64", x: [64, 14, 14, 32], f: [3, 3, 32, 32], stride: 1, pad: "same", inputGrad: true }),
    ...convCases({ label: "3x3 32→64  @14 b64", x: [64, 14, 14, 32], f: [3, 3, 32, 64], stride: 1, pad: "same", inputGrad: true }),
    ...convCases({ label: "3x3 32→32  @28 b64", x: [64, 28, 28, 32], f: [3, 3, 32, 32], stride: 1, pad: "same", inputGrad: true }),
    ...convCases({ label: "3x3 64→64  @14 b64", x: [64, 14, 14, 64], f: [3, 3, 64, 64], stride: 1, pad: "same", inputGrad: true }),
    // lenet (batch 64)
    ...convCases({ label: "5x5 1→20   @28 b64", x: [64, 28, 28, 1], f: [5, 5, 1, 20], stride: 1, pad: "valid", inputGrad: false }),
    ...convCases({ label: "5x5 20→50  @12 b64", x: [64, 12, 12, 20], f: [5, 5, 20, 50], stride: 1, pad: "valid", inputGrad: true }),
    // cnn9 (batch 128)
    ...convCases({ label: "9x9 1→8    @28 b128", x: [128, 28, 28, 1], f: [9, 9, 1, 8], stride: 1, pad: 4, inputGrad: false }),
    ...convCases({ label: "9x9 8→16   @14 b128", x: [128, 14, 14, 8], f: [9, 9, 8, 16], stride: 1, pad: 4, inputGrad: true }),
    // conv1 (batch 32)
    ...convCases({ label: "8x8 s2 1→10 @28 b32", x: [32, 28, 28, 1], f: [8, 8, 1, 10], stride: 2, pad: "valid", inputGrad: false }),
    maxPoolGradCase([64, 28, 28, 32]),
    maxPoolGradCase([64, 14, 14, 64]),
    maxPoolGradCase([128, 28, 28, 8]),
    ...denseCases(64, 1568, 500),
    ...denseCases(64, 800, 500),
    ...denseCases(64, 3136, 128),
    ...denseCases(64, 500, 10),
    ...denseCases(32, 1210, 10),
    ...otherCases(),
    trainingStepCase(64),
  ];
}

function cell(ms: number | undefined, flops: number | null, ceiling?: number): string {
  if (ms === undefined) return "-";
  if (flops === null) return `${ms.toFixed(2)} ms`;
  const rate = flops / ms / 1e6;
  return `${ms.toFixed(2)} ms ${rate.toFixed(1).padStart(5)}${ceiling === undefined ? "" : ` ${((100 * rate) / ceiling).toFixed(0).padStart(3)}%`}`;
}

async function main(): Promise<void> {
  await tf.setBackend("wasm");
  await tf.ready();
  const env = tf.env();
  console.log(`wasm backend, SIMD=${env.getBool("WASM_HAS_SIMD_SUPPORT")}, threads=${env.getBool("WASM_HAS_MULTITHREAD_SUPPORT")} (one thread)`);
  for (const line of describeCeiling(await measureCeiling())) console.log(line);
  const relaxed = await relaxedSimdHere();
  const variants: Variant[] = relaxed ? ["stock", "ours", "direct", "relaxed"] : ["stock", "ours", "direct"];
  console.log(
    `\nms and GFLOP/s per kernel; % = of the mul+add ceiling, sampled between the kernel's own samples (its median in the last column)` +
      (relaxed ? "" : `\n(no relaxed column: this Node does not validate relaxed SIMD; run it with ${RELAXED_SIMD_FLAG})`),
  );
  console.log("stock: XNNPACK (dW: our XNNPACK-convolution formulation; stock wasm has none); ours: the registered training kernels;");
  console.log("direct: ours without Winograd (3×3, 5×5 layers); GFLOP/s counts the direct convolution's FLOPs (Winograd does fewer multiplies)");
  const head = ["op".padEnd(42), "stock".padStart(22), "ours".padStart(27), "speedup".padStart(8), "direct".padStart(27)];
  if (relaxed) head.push("ours, relaxed_madd".padStart(27));
  console.log(`${head.join("")}  ceiling`);
  const ceiling = await ceilingSampler();
  const cases = buildCases().filter((c) => only === undefined || c.name.includes(only));
  for (const c of cases) {
    const { ms, ceiling: peak } = await measure(c, variants, ceiling);
    const speedup = ms.stock !== undefined && ms.ours !== undefined ? `${(ms.stock / ms.ours).toFixed(1)}x` : "";
    const row = [c.name.padEnd(42), cell(ms.stock, c.flops).padStart(22), cell(ms.ours, c.flops, peak).padStart(27), speedup.padStart(8), cell(ms.direct, c.flops, peak).padStart(27)];
    if (relaxed) row.push(cell(ms.relaxed, c.flops, peak).padStart(27));
    console.log(`${row.join("")}  ${peak.toFixed(1)}`);
    if (c.name.startsWith("training step") && ms.stock !== undefined && ms.ours !== undefined) {
      const ips = (t: number) => `${((64 / t) * 1000).toFixed(0)} images/s`;
      console.log(`${"  → images/s".padEnd(42)}${ips(ms.stock).padStart(22)}${ips(ms.ours).padStart(27)}`);
    }
  }
}

await main();
