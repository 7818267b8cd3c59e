/** The committed kernel binaries are what ml/wasm/simd/build.ts makes of kernels.wat today. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { binaryUrl } from "../../ml/wasm/simd/binaries.ts";
import { assemble } from "../../ml/wasm/simd/build.ts";

for (const kind of ["plain", "shared"] as const) {
  test(`${kind}-memory kernels.wasm is up to date with kernels.wat`, async () => {
    const built = Buffer.from(await assemble(kind));
    const committed = readFileSync(binaryUrl(kind));
    assert.ok(built.equals(committed), `${binaryUrl(kind).pathname} is stale: run npm run build:wasm`);
    assert.ok(WebAssembly.validate(committed));
  });
}
