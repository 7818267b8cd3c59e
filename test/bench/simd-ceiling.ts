/**
 * The multiply-add ceiling of one core for 128-bit wasm SIMD on this machine: what a kernel's
 * GFLOP/s is measured against. A generated module runs `chains` independent dependency chains
 * a = a·m + c in registers (no memory traffic, nothing the compiler can hoist or fold), either as
 * f32x4.mul + f32x4.add or as one f32x4.relaxed_madd (a fused multiply-add where the CPU has one).
 * Enough chains hide the instructions' latency, so the best of several chain counts is the
 * throughput bound. Each step of a chain is 2 FLOP per lane, 8 per vector.
 *
 * Node 20 validates relaxed SIMD only with --experimental-wasm-relaxed-simd, so `measureCeiling`
 * runs that part in a child process with the flag (`relaxed: null` with the reason if it cannot).
 *
 *   node --import tsx test/bench/simd-ceiling.ts [--relaxed]   prints the JSON of one process's part
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import wabtInit from "wabt";

export type MaddForm = "mul+add" | "relaxed_madd";

export interface CeilingRow {
  form: MaddForm;
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

function moduleText(form: MaddForm, chains: number): string {
  const locals = Array.from({ length: chains }, (_, k) => `(local $a${k} v128)`).join(" ");
  // Distinct starting values per chain, so no two chains are the same computation.
  const init = Array.from({ length: chains }, (_, k) => `(local.set $a${k} (f32x4.splat (f32.add (local.get $seed) (f32.const ${k}))))`).join("\n");
  const step = (k: number): string =>
    form === "relaxed_madd"
      ? `(local.set $a${k} (f32x4.relaxed_madd (local.get $a${k}) (local.get $m) (local.get $c)))`
      : `(local.set $a${k} (f32x4.add (f32x4.mul (local.get $a${k}) (local.get $m)) (local.get $c)))`;
  const body = Array.from({ length: chains }, (_, k) => step(k)).join("\n");
  const sum = Array.from({ length: chains }, (_, k) => `(local.get $a${k})`).reduce((acc, next) => `(f32x4.add ${acc} ${next})`);
  return `(module
  (func (export "run") (param $n i32) (param $seed f32) (param $mul f32) (param $add f32) (result f32)
    (local $m v128) (local $c v128) ${locals}
    (local.set $m (f32x4.splat (local.get $mul)))
    (local.set $c (f32x4.splat (local.get $add)))
    ${init}
    (loop $l
      ${body}
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (i32.gt_s (local.get $n) (i32.const 0))))
    (f32x4.extract_lane 0 ${sum})))`;
}

async function compile(form: MaddForm, chains: number): Promise<(n: number, seed: number, mul: number, add: number) => number> {
  const wabt = await wabtInit();
  const features = { simd: true, relaxed_simd: form === "relaxed_madd" };
  const parsed = wabt.parseWat(`ceiling-${form}-${chains}.wat`, moduleText(form, chains), features);
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
  for (const chains of CHAIN_COUNTS) {
    const run = await compile(form, chains);
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
    rows.push({ form, chains, gflops: (steps * chains * 8) / best / 1e6 });
  }
  return rows;
}

const best = (rows: CeilingRow[]): number => Math.max(...rows.map((r) => r.gflops));

/** Whether this process validates relaxed SIMD (Node 20: only with the flag). */
export async function relaxedSimdHere(): Promise<boolean> {
  try {
    await compile("relaxed_madd", 1);
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
 * A short ceiling sample (~5 ms, 12 chains of mul + add) to interleave with a kernel's samples, so
 * that the kernel's fraction of the ceiling is taken under the same load as the kernel itself.
 */
export async function ceilingSampler(): Promise<() => number> {
  const chains = 12;
  const run = await compile("mul+add", chains);
  const steps = 25_000;
  run(steps, 1, 0.999, 1e-3);
  return () => {
    const t0 = performance.now();
    run(steps, 1, 0.999, 1e-3);
    return (steps * chains * 8) / (performance.now() - t0) / 1e6;
  };
}

export function describeCeiling(ceiling: Ceiling): string[] {
  const line = (rows: CeilingRow[]): string => rows.map((r) => `${r.chains}: ${r.gflops.toFixed(1)}`).join(", ");
  return [
    `multiply-add ceiling, one thread, 128-bit wasm SIMD (GFLOP/s by independent chains):`,
    `  f32x4.mul + f32x4.add   ${line(ceiling.plain)}  → ${ceiling.plainBest.toFixed(1)}`,
    Array.isArray(ceiling.relaxed)
      ? `  f32x4.relaxed_madd      ${line(ceiling.relaxed)}  → ${ceiling.relaxedBest!.toFixed(1)} (child process, ${RELAXED_SIMD_FLAG})`
      : `  f32x4.relaxed_madd      unavailable: ${ceiling.relaxed.unavailable}`,
  ];
}

const SELF = fileURLToPath(import.meta.url);

if (process.argv[1] === SELF) {
  if (process.argv.includes("--relaxed")) console.log(JSON.stringify(await measureForm("relaxed_madd")));
  else for (const line of describeCeiling(await measureCeiling())) console.log(line);
}
