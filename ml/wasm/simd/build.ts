/**
 * Assembles kernels.wat into the two binaries the loader picks from (`npm run build:wasm`):
 * kernels.wasm imports a plain memory (the single-threaded backend's), kernels-shared.wasm a
 * shared one (the threaded backend's). The binaries are committed so that loading needs no
 * assembler; test/ml/wasm-simd-build.test.ts checks they are what this file makes of the source.
 *
 * The products' inner loops write an accumulator's step as `MADD($acc, $a, $b)` (three v128
 * locals), which this file expands:
 *   separate: acc = f32x4.add(acc, f32x4.mul(a, b))     two roundings, the same on every machine
 *   relaxed:  acc = f32x4.relaxed_madd(a, b, acc)        one rounding where the engine fuses it
 * Only "separate" is committed and trains. "relaxed" is assembled on demand by the kernel
 * benchmark: on this project's machine it is no faster (the kernels are bound by multiply and add
 * throughput, which FMA does not raise there; `npm run bench -- --only kernels`), and its results
 * would depend on the CPU.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import wabtInit from "wabt";

import { binaryUrl, type MaddVariant, type MemoryKind } from "./binaries.ts";

const SOURCE = new URL("./kernels.wat", import.meta.url);

/** A shared memory import must state its maximum; the threaded backend's is 4 GiB (65536 pages). */
const MEMORY_LIMITS: Record<MemoryKind, string> = { plain: "", shared: "65536 shared" };

const MADD = /MADD\((\$\w+), (\$\w+), (\$\w+)\)/g;

export function expand(source: string, kind: MemoryKind, variant: MaddVariant): string {
  return source
    .replace("@MEMORY_LIMITS@", MEMORY_LIMITS[kind])
    .replace(MADD, (_, acc: string, a: string, b: string) =>
      variant === "relaxed"
        ? `(local.set ${acc} (f32x4.relaxed_madd (local.get ${a}) (local.get ${b}) (local.get ${acc})))`
        : `(local.set ${acc} (f32x4.add (local.get ${acc}) (f32x4.mul (local.get ${a}) (local.get ${b}))))`,
    );
}

export async function assemble(kind: MemoryKind, variant: MaddVariant = "separate"): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const source = expand(readFileSync(SOURCE, "utf8"), kind, variant);
  const features = { simd: true, threads: true, bulk_memory: true, relaxed_simd: variant === "relaxed" };
  const module = wabt.parseWat(fileURLToPath(SOURCE), source, features);
  try {
    // validate() takes the features too (its .d.ts omits the argument; the JS reads it).
    (module.validate as (options: typeof features) => void)(features);
    return module.toBinary({}).buffer;
  } finally {
    module.destroy();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const kind of ["plain", "shared"] as const) {
    const bytes = await assemble(kind);
    writeFileSync(binaryUrl(kind), bytes);
    console.log(`${fileURLToPath(binaryUrl(kind))}: ${bytes.length} bytes`);
  }
}
