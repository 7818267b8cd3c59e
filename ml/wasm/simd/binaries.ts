/**
 * Where the assembled kernels live; shared by the loader (runtime) and build.ts (needs wabt).
 * Literal `new URL(...)` paths: the engine's code fingerprint follows them, so a rebuilt kernel
 * reruns the stages that train with it.
 */
export type MemoryKind = "plain" | "shared";

export function binaryUrl(kind: MemoryKind): URL {
  return kind === "shared" ? new URL("./kernels-shared.wasm", import.meta.url) : new URL("./kernels.wasm", import.meta.url);
}
