/**
 * Times the training-relevant kernels on the wasm backend with the stock kernels ("before") and
 * with registerWasmTrainingKernels ("after"), plus one full training step of a small MNIST CNN.
 *
 *   npx tsx bench/kernels.ts [--quick] [--only=maxPool]
 *
 * Every sample gets freshly made operands (made outside the timed region), as in training where
 * weights change every step: XNNPACK caches packed weights per tensor, so reusing one weight
 * tensor would hide its repacking cost. Before/after samples alternate, so load from other
 * processes hits both alike; medians are reported. The stock backend has no
 * Conv2DBackpropFilter, so "before" gets our XNNPACK-convolution formulation of it (the one
 * session 3 used for most layers); "after" picks the hand-written direct kernel where it wins.
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import {
  registerWasmTrainingKernels,
  unregisterWasmTrainingKernels,
} from "../../ml/wasm/register-training-kernels.ts";
import { conv2dBackpropFilterWith } from "../../ml/wasm/conv2d-backprop-filter.ts";

const quick = process.argv.includes("--quick");
/** --only=text keeps the cases whose name contains text. */
const only = process.argv.find((a) => a.startsWith("--only="))?.slice("--only=".length);
const MIN_MS = quick ? 300 : 1500;
const MAX_SAMPLES = 40;
const BATCH = 64;

interface Case {
  name: string;
  /** FLOPs per run, for GFLOP/s; null to report ms only. */
  flops: number | null;
  /** Makes the operands of one sample (untimed). */
  setup: () => tf.Tensor[];
  /** The timed work; wasm kernels run synchronously, so the call's end is the work's end. */
  run: (inputs: tf.Tensor[]) => tf.Tensor | tf.Tensor[] | void;
}

type Variant = "before" | "after";

function use(variant: Variant): void {
  registerWasmTrainingKernels();
  if (variant === "after") return;
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

/** Alternating before/after samples; undefined where the stock backend lacks the kernel. */
function measure(c: Case): Record<Variant, number | undefined> {
  const times: Record<Variant, number[]> = { before: [], after: [] };
  const missing = new Set<Variant>();
  for (const v of ["before", "after"] as const) {
    use(v);
    try {
      sample(c); // warm-up: first-call allocations, JIT
    } catch (e) {
      if (!String(e).includes("not registered")) throw e;
      missing.add(v);
    }
  }
  const spent: Record<Variant, number> = { before: 0, after: 0 };
  const variants = (["before", "after"] as const).filter((v) => !missing.has(v));
  while (variants.some((v) => times[v].length < 3 || (spent[v] < MIN_MS && times[v].length < MAX_SAMPLES))) {
    for (const v of variants) {
      use(v);
      const ms = sample(c);
      times[v].push(ms);
      spent[v] += ms;
    }
  }
  registerWasmTrainingKernels();
  return {
    before: missing.has("before") ? undefined : median(times.before),
    after: missing.has("after") ? undefined : median(times.after),
  };
}

const rnd = (shape: number[]): tf.Tensor => tf.randomNormal(shape);

interface ConvSpec {
  label: string;
  x: [number, number, number, number];
  f: [number, number, number, number];
  stride: number;
  pad: "same" | "valid" | number;
  inputGrad: boolean;
}

function convCases(s: ConvSpec): Case[] {
  const info = tf.backend_util.computeConv2DInfo(s.x, s.f, s.stride, 1, s.pad as "same");
  const dyShape = info.outShape;
  const flops = 2 * info.batchSize * info.outHeight * info.outWidth * s.f[0] * s.f[1] * s.f[2] * s.f[3];
  const attrs = { strides: [s.stride, s.stride], pad: s.pad, dataFormat: "NHWC" };
  const cases: Case[] = [
    {
      name: `conv2d fwd      ${s.label}`,
      flops,
      setup: () => [rnd(s.x), rnd(s.f)],
      run: ([x, f]) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, s.stride, s.pad as "same"),
    },
    {
      name: `backprop filter ${s.label}`,
      flops,
      setup: () => [rnd(s.x), rnd(dyShape)],
      run: ([x, dy]) =>
        tf.engine().runKernel("Conv2DBackpropFilter", { x: x!, dy: dy! }, { ...attrs, filterShape: s.f }) as tf.Tensor,
    },
  ];
  if (s.inputGrad) {
    cases.push({
      name: `backprop input  ${s.label}`,
      flops,
      setup: () => [rnd(dyShape), rnd(s.f)],
      run: ([dy, f]) => tf.engine().runKernel("Conv2DBackpropInput", { dy: dy!, filter: f! }, { ...attrs, inputShape: s.x }) as tf.Tensor,
    });
  }
  return cases;
}

/** The three matmuls of a Dense layer's training step: y = x·W, dx = dy·Wᵀ, dW = xᵀ·dy. */
function denseCases(batch: number, inputs: number, units: number): Case[] {
  const flops = 2 * batch * inputs * units;
  const l = `${inputs}→${units}`;
  return [
    { name: `dense fwd  x·W   ${l}`, flops, setup: () => [rnd([batch, inputs]), rnd([inputs, units])], run: ([x, w]) => tf.matMul(x!, w!) },
    { name: `dense dx   dy·Wᵀ ${l}`, flops, setup: () => [rnd([batch, units]), rnd([inputs, units])], run: ([dy, w]) => tf.matMul(dy!, w!, false, true) },
    { name: `dense dW   xᵀ·dy ${l}`, flops, setup: () => [rnd([batch, inputs]), rnd([batch, units])], run: ([x, dy]) => tf.matMul(x!, dy!, true, false) },
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
    { name: "bias grad: sum [64,28,28,32] over N,H,W", flops: null, setup: () => [rnd([BATCH, 28, 28, 32])], run: ([x]) => tf.sum(x!, [0, 1, 2]) },
    { name: "BN moments: mean [64,14,14,32] over N,H,W", flops: null, setup: () => [rnd([BATCH, 14, 14, 32])], run: ([x]) => tf.mean(x!, [0, 1, 2]) },
    {
      name: "slice a batch of 64 from [10000,784]",
      flops: null,
      setup: () => [rnd([10000, 784])],
      run: ([x]) => tf.slice(x!, [640, 0], [BATCH, 784]),
    },
  ];
}

/** Conv(1→32,3x3,same) ReLU Pool · Conv(32→32,3x3,same) ReLU Pool · Dense(1568→500) ReLU · Dense(500→10). */
function trainingStepCase(): Case {
  const init = (shape: number[]) => tf.variable(tf.randomNormal(shape, 0, 0.05));
  const params = {
    c1: init([3, 3, 1, 32]), b1: init([32]),
    c2: init([3, 3, 32, 32]), b2: init([32]),
    d1: init([1568, 500]), e1: init([500]),
    d2: init([500, 10]), e2: init([10]),
  };
  const lr = tf.keep(tf.scalar(0.01));
  return {
    name: `training step (SGD), batch ${BATCH}`,
    flops: null,
    setup: () => [tf.randomUniform([BATCH, 28, 28, 1]), tf.oneHot(tf.randomUniform([BATCH], 0, 10, "int32"), 10)],
    run: ([x, y]) => {
      const loss = (): tf.Scalar => {
        let h = tf.relu(tf.conv2d(x as tf.Tensor4D, params.c1 as tf.Tensor4D, 1, "same").add(params.b1)) as tf.Tensor4D;
        h = tf.maxPool(h, 2, 2, "valid");
        h = tf.relu(tf.conv2d(h, params.c2 as tf.Tensor4D, 1, "same").add(params.b2)) as tf.Tensor4D;
        h = tf.maxPool(h, 2, 2, "valid");
        const f = tf.relu(tf.matMul(h.reshape([BATCH, 1568]), params.d1).add(params.e1));
        const logits = tf.matMul(f, params.d2).add(params.e2);
        return tf.losses.softmaxCrossEntropy(y!, logits) as tf.Scalar;
      };
      const { value, grads } = tf.variableGrads(loss);
      for (const v of Object.values(params)) v.assign(v.sub(grads[v.name]!.mul(lr)));
      value.dataSync();
    },
  };
}

function buildCases(): Case[] {
  const b = BATCH;
  return [
    ...convCases({ label: "3x3 same 1→32   @28", x: [b, 28, 28, 1], f: [3, 3, 1, 32], stride: 1, pad: "same", inputGrad: false }),
    ...convCases({ label: "3x3 same 32→32  @14", x: [b, 14, 14, 32], f: [3, 3, 32, 32], stride: 1, pad: "same", inputGrad: true }),
    ...convCases({ label: "3x3 same 32→64  @14", x: [b, 14, 14, 32], f: [3, 3, 32, 64], stride: 1, pad: "same", inputGrad: true }),
    ...convCases({ label: "3x3 same 64→64  @14", x: [b, 14, 14, 64], f: [3, 3, 64, 64], stride: 1, pad: "same", inputGrad: true }),
    ...convCases({ label: "9x9 pad4 1→8    @28", x: [b, 28, 28, 1], f: [9, 9, 1, 8], stride: 1, pad: 4, inputGrad: false }),
    ...convCases({ label: "9x9 pad4 8→16   @28", x: [b, 28, 28, 8], f: [9, 9, 8, 16], stride: 1, pad: 4, inputGrad: true }),
    ...convCases({ label: "8x8 s2 valid 1→10 @28", x: [b, 28, 28, 1], f: [8, 8, 1, 10], stride: 2, pad: "valid", inputGrad: false }),
    ...convCases({ label: "5x5 valid 1→20  @28", x: [b, 28, 28, 1], f: [5, 5, 1, 20], stride: 1, pad: "valid", inputGrad: false }),
    ...convCases({ label: "5x5 valid 20→50 @12", x: [b, 12, 12, 20], f: [5, 5, 20, 50], stride: 1, pad: "valid", inputGrad: true }),
    maxPoolGradCase([b, 28, 28, 32]),
    maxPoolGradCase([b, 14, 14, 32]),
    ...denseCases(b, 1568, 500),
    ...denseCases(b, 500, 10),
    ...otherCases(),
    trainingStepCase(),
  ];
}

function fmt(ms: number | undefined, flops: number | null): string {
  if (ms === undefined) return "missing";
  const rate = flops === null ? "" : ` ${(flops / ms / 1e6).toFixed(1).padStart(5)} GFLOP/s`;
  return `${ms.toFixed(2).padStart(8)} ms${rate}`;
}

async function main(): Promise<void> {
  await tf.setBackend("wasm");
  await tf.ready();
  const env = tf.env();
  console.log(`wasm backend, SIMD=${env.getBool("WASM_HAS_SIMD_SUPPORT")}, threads=${env.getBool("WASM_HAS_MULTITHREAD_SUPPORT")}`);
  console.log(`${"op".padEnd(44)}${"before (stock wasm*)".padStart(26)}${"after".padStart(26)}  speedup`);
  console.log("* stock has no Conv2DBackpropFilter: 'before' uses our XNNPACK-convolution formulation for it");
  const cases = buildCases().filter((c) => only === undefined || c.name.includes(only));
  for (const c of cases) {
    const { before, after } = measure(c);
    const speedup = before !== undefined && after !== undefined ? `${(before / after).toFixed(1)}x` : "";
    console.log(`${c.name.padEnd(44)}${fmt(before, c.flops).padStart(26)}${fmt(after, c.flops).padStart(26)}  ${speedup}`);
    if (c.name.startsWith("training step") && before !== undefined && after !== undefined) {
      const ips = (ms: number) => ((BATCH / ms) * 1000).toFixed(0);
      console.log(`${"  → images/s".padEnd(44)}${`${ips(before)} (stock + conv filter grad)`.padStart(26)}${ips(after).padStart(26)}`);
    }
  }
}

await main();
