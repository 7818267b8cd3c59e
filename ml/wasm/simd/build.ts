/**
 * Assembles kernels.wat into the two binaries the loader picks from (`npm run build:wasm`):
 * kernels.wasm imports a plain memory (the single-threaded backend's), kernels-shared.wasm a
 * shared one (the threaded backend's). The binaries are committed so that loading needs no
 * assembler; test/ml/wasm-simd-kernels.test.ts checks they are what this file makes of the source.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import wabtInit from "wabt";

import { binaryUrl, type MemoryKind } from "./binaries.ts";

const SOURCE = new URL("./kernels.wat", import.meta.url);

/** A shared memory import must state its maximum; the threaded backend's is 4 GiB (65536 pages). */
const MEMORY_LIMITS: Record<MemoryKind, string> = { plain: "", shared: "65536 shared" };

export async function assemble(kind: MemoryKind): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const source = readFileSync(SOURCE, "utf8").replace("@MEMORY_LIMITS@", MEMORY_LIMITS[kind]);
  const features = { simd: true, threads: true };
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
