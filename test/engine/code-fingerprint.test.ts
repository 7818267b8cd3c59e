/** What counts as a stage's code: imports (not type-only ones) and assets read via `new URL(literal, import.meta.url)`. */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { CodeFingerprinter } from "../../engine/code-fingerprint.ts";

test("an asset read through new URL(literal, import.meta.url) is hashed byte for byte", async () => {
  const dir = await mkdtemp(join(tmpdir(), "code-fingerprint-"));
  try {
    await writeFile(join(dir, "stage.ts"), 'import { load } from "./loader.ts";\nexport const run = load;\n');
    await writeFile(join(dir, "loader.ts"), 'export const load = () => new URL("./kernel.bin", import.meta.url);\n');
    // Two binaries that differ only in bytes that are not valid UTF-8 (a text decode would merge them).
    await writeFile(join(dir, "kernel.bin"), Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0xff]));
    const first = new CodeFingerprinter(dir).fingerprint(join(dir, "stage.ts"));
    assert.deepEqual(Object.keys(first.files).sort(), ["kernel.bin", "loader.ts", "stage.ts"]);
    await writeFile(join(dir, "kernel.bin"), Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0xfe]));
    const second = new CodeFingerprinter(dir).fingerprint(join(dir, "stage.ts"));
    assert.notEqual(second.files["kernel.bin"], first.files["kernel.bin"]);
    assert.equal(second.files["loader.ts"], first.files["loader.ts"]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a missing asset is an error naming the module and the path", async () => {
  const dir = await mkdtemp(join(tmpdir(), "code-fingerprint-"));
  try {
    await writeFile(join(dir, "stage.ts"), 'export const url = new URL("./gone.wasm", import.meta.url);\n');
    assert.throws(() => new CodeFingerprinter(dir).fingerprint(join(dir, "stage.ts")), /stage\.ts: the asset "\.\/gone\.wasm" does not exist/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
