/**
 * The multiply-add ceiling of one core for 128-bit wasm SIMD on this machine: what a kernel's
 * GFLOP/s is measured against. Generated modules run `chains` independent accumulators in
 * registers, nothing the compiler can hoist or fold, in two shapes:
 *  - "chain": a = a·m + c, the multiply inside each accumulator's dependency chain;
 *  - "stream": a += x·m with x loaded from a small (L1) buffer, only the add in the chain: the
 *    shape of a kernel's inner loop, where loaded values feed the multiplier.
 * Each as f32x4.mul + f32x4.add or as one f32x4.relaxed_madd (a fused multiply-add where the CPU
 * has one). Enough chains hide the instructions' latency, so the best over chain counts and shapes
 * is the throughput bound. Each step of a chain is 2 FLOP per lane, 8 per vector.
 *
 * Node 20 validates relaxed SIMD only with --experimental-wasm-relaxed-simd, so `measureCeiling`
 * runs that part in a child process with the flag when this process cannot.
 *
 *   node --import tsx test/bench/simd-ceiling.ts [--relaxed]   prints the ceiling (--relaxed: one process's part as JSON)
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import wabtInit from "wabt";

export type MaddForm = "mul+add" | "relaxed_madd";

export type LoopShape = "chain" | "stream";

export interface CeilingRow {
  form: MaddForm;
  shape: LoopShape;
  chains: number;
  gflops: number;
}

export interface Ceiling {
  plain: CeilingRow[];
  /** null when this Node cannot run relaxed SIMD (the reason says why). */
  relaxed: CeilingRow[] | { unavailable: string };
  /** The best plain-SIMD figure: the ceiling kernels are compared with. */
  plainBest: number;
  relaxedBest: number | null;
}

export const RELAXED_SIMD_FLAG = "--experimental-wasm-relaxed-simd";
const CHAIN_COUNTS = [4, 8, 10, 12, 14];
const STEPS = 20_000_000; // vector steps per chain set: ~0.1 s at the expected rate

function moduleText(form: MaddForm, shape: LoopShape, chains: number): string {
  const locals = Array.from({ length: chains }, (_, k) => `(local $a${k} v128)`).join(" ");
  // Distinct starting values per chain, so no two chains are the same computation.
  const init = Array.from({ length: chains }, (_, k) => `(local.set $a${k} (f32x4.splat (f32.add (local.get $seed) (f32.const ${k}))))`).join("\n");
  const operand = (k: number): string => (shape === "chain" ? `(local.get $a${k})` : `(v128.load offset=${16 * k} (i32.const 0))`);
  const addend = (k: number): string => (shape === "chain" ? "(local.get $c)" : `(local.get $a${k})`);
  const step = (k: number): string =>
    form === "relaxed_madd"
      ? `(local.set $a${k} (f32x4.relaxed_madd ${operand(k)} (local.get $m) ${addend(k)}))`
      : `(local.set $a${k} (f32x4.add (f32x4.mul ${operand(k)} (local.get $m)) ${addend(k)}))`;
  const body = Array.from({ length: chains }, (_, k) => step(k)).join("\n");
  const sum = Array.from({ length: chains }, (_, k) => `(local.get $a${k})`).reduce((acc, next) => `(f32x4.add ${acc} ${next})`);
  return `(module
  (memory 1)
  (func (export "run") (param $n i32) (param $seed f32) (param $mul f32) (param $add f32) (result f32)
    (local $m v128) (local $c v128) (local $i i32) ${locals}
    (local.set $m (f32x4.splat (local.get $mul)))
    (local.set $c (f32x4.splat (local.get $add)))
    ;; the streamed operands: small values, so the sums stay finite
    (block $filled (loop $fill
      (br_if $filled (i32.ge_u (local.get $i) (i32.const ${16 * chains})))
      (f32.store (local.get $i) (local.get $add))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $fill)))
    ${init}
    (loop $l
      ${body}
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (i32.gt_s (local.get $n) (i32.const 0))))
    (f32x4.extract_lane 0 ${sum})))`;
}

async function compile(form: MaddForm, shape: LoopShape, chains: number): Promise<(n: number, seed: number, mul: number, add: number) => number> {
  const wabt = await wabtInit();
  const features = { simd: true, relaxed_simd: form === "relaxed_madd" };
  const parsed = wabt.parseWat(`ceiling-${form}-${shape}-${chains}.wat`, moduleText(form, shape, chains), features);
  try {
    const bytes = new Uint8Array(parsed.toBinary({}).buffer);
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
    return instance.exports["run"] as (n: number, seed: number, mul: number, add: number) => number;
  } finally {
    parsed.destroy();
  }
}

/** Best of `repeats` timed runs (after a warm-up that lets V8 tier up to its optimising compiler). */
async function measureForm(form: MaddForm, repeats = 5): Promise<CeilingRow[]> {
  const rows: CeilingRow[] = [];
  for (const shape of ["chain", "stream"] as const) {
    for (const chains of CHAIN_COUNTS) {
      const run = await compile(form, shape, chains);
      const steps = Math.round(STEPS / chains);
      run(steps, 1, 0.999, 1e-3); // warm-up
      let best = Infinity;
      for (let r = 0; r < repeats; r++) {
        const t0 = performance.now();
        const out = run(steps, 1 + r, 0.999, 1e-3);
        const ms = performance.now() - t0;
        if (!Number.isFinite(out)) throw new Error(`ceiling ${form}: non-finite result`);
        best = Math.min(best, ms);
      }
      rows.push({ form, shape, chains, gflops: (steps * chains * 8) / best / 1e6 });
    }
  }
  return rows;
}

const best = (rows: CeilingRow[]): number => Math.max(...rows.map((r) => r.gflops));

/** Whether this process validates relaxed SIMD (Node 20: only with the flag). */
export async function relaxedSimdHere(): Promise<boolean> {
  try {
    await compile("relaxed_madd", "chain", 1);
    return true;
  } catch {
    return false;
  }
}

/** Plain SIMD here; relaxed SIMD here too if this process can, else in a child process with the flag. */
export async function measureCeiling(): Promise<Ceiling> {
  const plain = await measureForm("mul+add");
  let relaxed: Ceiling["relaxed"];
  if (await relaxedSimdHere()) {
    relaxed = await measureForm("relaxed_madd");
  } else {
    try {
      const out = execFileSync(process.execPath, [RELAXED_SIMD_FLAG, "--import", "tsx", SELF, "--relaxed"], { encoding: "utf8" });
      relaxed = JSON.parse(out.trim().split("\n").at(-1)!) as CeilingRow[];
    } catch (error) {
      relaxed = { unavailable: `node ${RELAXED_SIMD_FLAG}: ${String((error as Error).message).split("\n")[0]}` };
    }
  }
  return { plain, relaxed, plainBest: best(plain), relaxedBest: Array.isArray(relaxed) ? best(relaxed) : null };
}

/**
 * A short ceiling sample (~5 ms, 10 streamed chains of mul + add) to interleave with a kernel's samples, so
 * that the kernel's fraction of the ceiling is taken under the same load as the kernel itself.
 */
export async function ceilingSampler(): Promise<() => number> {
  const chains = 10; // the best streamed count here (12 and more ran slower)
  const run = await compile("mul+add", "stream", chains);
  const steps = 30_000;
  run(steps, 1, 0.999, 1e-3);
  return () => {
    const t0 = performance.now();
    run(steps, 1, 0.999, 1e-3);
    return (steps * chains * 8) / (performance.now() - t0) / 1e6;
  };
}

export function describeCeiling(ceiling: Ceiling): string[] {
  const line = (rows: CeilingRow[], shape: LoopShape): string =>
    rows.filter((r) => r.shape === shape).map((r) => `${r.chains}: ${r.gflops.toFixed(1)}`).join(", ");
  const lines = [`multiply-add ceiling, one thread, 128-bit wasm SIMD (GFLOP/s by independent accumulators; best over both shapes):`];
  for (const [rows, name, bestOf] of [[ceiling.plain, "f32x4.mul + f32x4.add", ceiling.plainBest], [ceiling.relaxed, "f32x4.relaxed_madd   ", ceiling.relaxedBest]] as const) {
    if (!Array.isArray(rows)) {
      lines.push(`  ${name}  unavailable: ${(rows as { unavailable: string }).unavailable}`);
      continue;
    }
    lines.push(`  ${name}  chain a = a·m + c:  ${line(rows, "chain")}`);
    lines.push(`  ${" ".repeat(name.length)}  stream a += x·m:    ${line(rows, "stream")}  → ${bestOf!.toFixed(1)}`);
  }
  return lines;
}

const SELF = fileURLToPath(import.meta.url);

if (process.argv[1] === SELF) {
  if (process.argv.includes("--relaxed")) console.log(JSON.stringify(await measureForm("relaxed_madd")));
  else for (const line of describeCeiling(await measureCeiling())) console.log(line);
}
