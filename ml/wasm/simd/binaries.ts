/**
 * Where the assembled kernels live; shared by the loader (runtime) and build.ts (needs wabt).
 * Literal `new URL(...)` paths: the engine's code fingerprint follows them, so a rebuilt kernel
 * reruns the stages that train with it.
 */
export type MemoryKind = "plain" | "shared";

/**
 * How the products' multiply-adds are done (see build.ts): "separate" f32x4.mul then f32x4.add,
 * each rounded, the same on every machine; "relaxed" f32x4.relaxed_madd, which the engine may fuse
 * into one rounding (it does where the CPU has FMA). Only "separate" is built and trains; "relaxed"
 * is assembled on demand for the kernel benchmark.
 */
export type MaddVariant = "separate" | "relaxed";

export function binaryUrl(kind: MemoryKind): URL {
  return kind === "shared" ? new URL("./kernels-shared.wasm", import.meta.url) : new URL("./kernels.wasm", import.meta.url);
}
