/**
 * What counts as a stage's code: the imports of the JavaScript that actually runs (compiled under the
 * project's tsconfig, so not type-only ones, nor anything in a comment or a string) and assets read
 * via `new URL(literal, import.meta.url)`. Each test is a small project in a temp dir.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { CodeFingerprinter, type CodeFingerprinterOptions } from "../../engine/code-fingerprint.ts";

const VERBATIM = JSON.stringify({ compilerOptions: { verbatimModuleSyntax: true } });

/** A temp project holding `files` (plus a tsconfig.json with verbatimModuleSyntax unless given); removed afterwards. */
async function withProject(files: Record<string, string | Uint8Array>, body: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "code-fingerprint-"));
  try {
    for (const [path, content] of Object.entries({ "tsconfig.json": VERBATIM, ...files })) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), content);
    }
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function filesOf(dir: string, options: CodeFingerprinterOptions = {}): string[] {
  return Object.keys(new CodeFingerprinter(dir, options).fingerprint(join(dir, "a.ts")).files).sort();
}

const B = "export const helper = 1;\nexport type A = number;\nexport type X = string;\n";

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

test("a multi-line import with a comment counts, and editing the imported file changes the fingerprint", async () => {
  const a = 'import {\n  helper, // the helper we need\n} from "./b.ts";\nexport const run = helper;\n';
  await withProject({ "a.ts": a, "b.ts": B }, async (dir) => {
    const first = new CodeFingerprinter(dir).fingerprint(join(dir, "a.ts"));
    assert.deepEqual(Object.keys(first.files).sort(), ["a.ts", "b.ts"]);
    await writeFile(join(dir, "b.ts"), B.replace("= 1", "= 2"));
    const second = new CodeFingerprinter(dir).fingerprint(join(dir, "a.ts"));
    assert.notEqual(second.files["b.ts"], first.files["b.ts"]);
    assert.equal(second.files["a.ts"], first.files["a.ts"]);
  });
});

for (const [where, a] of [
  ["a // comment", '// import { helper } from "./b.ts";\nexport const run = 1;\n'],
  ["a /* */ comment", '/*\nimport { helper } from "./b.ts";\nconst x = import("./b.ts");\n*/\nexport const run = 1;\n'],
  ["a string", 'export const text = \'import { helper } from "./b.ts"; import("./b.ts")\';\n'],
  ["a template string", 'export const text = `\nimport { helper } from "./b.ts";\nimport("./b.ts")`;\n'],
] as const) {
  test(`an import inside ${where} does not count`, async () => {
    await withProject({ "a.ts": a, "b.ts": B }, (dir) => assert.deepEqual(filesOf(dir), ["a.ts"]));
  });
}

test("import type and export type … from do not count (they vanish at run time)", async () => {
  const a = 'import type { A } from "./b.ts";\nexport type { X } from "./c.ts";\nexport const run: A = 1;\n';
  await withProject({ "a.ts": a, "b.ts": B, "c.ts": B }, (dir) => assert.deepEqual(filesOf(dir), ["a.ts"]));
});

test("import { type A } counts under verbatimModuleSyntax (the module is still loaded) and not without it", async () => {
  const a = 'import { type A } from "./b.ts";\nexport const run: A = 1;\n';
  await withProject({ "a.ts": a, "b.ts": B }, async (dir) => {
    assert.deepEqual(filesOf(dir), ["a.ts", "b.ts"]);
    // The project's tsconfig decides, comments and all (esbuild reads it as tsc does).
    await writeFile(join(dir, "tsconfig.json"), '{\n  // no verbatimModuleSyntax: unused imports are elided\n  "compilerOptions": {},\n}\n');
    assert.deepEqual(filesOf(dir), ["a.ts"]);
  });
});

test("a tsconfig.json that extends another is refused (esbuild would not see the base's options)", async () => {
  const files = { "tsconfig.json": '{ "extends": "./base.json" }', "base.json": VERBATIM, "a.ts": 'import { type A } from "./b.ts";\n', "b.ts": B };
  await withProject(files, (dir) => assert.throws(() => filesOf(dir), /tsconfig\.json: "extends" is not followed/));
});

test("export * from and export { x } from count", async () => {
  const a = 'export * from "./b.ts";\nexport { helper as other } from "./c.ts";\n';
  await withProject({ "a.ts": a, "b.ts": B, "c.ts": B }, (dir) => assert.deepEqual(filesOf(dir), ["a.ts", "b.ts", "c.ts"]));
});

test("a dynamic import with a literal path counts", async () => {
  const a = 'export async function run() {\n  return (await import(\n    "./b.ts" // lazily\n  )).helper;\n}\n';
  await withProject({ "a.ts": a, "b.ts": B }, (dir) => assert.deepEqual(filesOf(dir), ["a.ts", "b.ts"]));
});

test("new URL(literal, import.meta.url) over several lines counts; one inside a string does not", async () => {
  const a = [
    "export const kernel = new URL(",
    '  "./kernel.wasm", // the hand-written kernels',
    "  import.meta.url,",
    ");",
    'export const text = "new URL(\\"./other.wasm\\", import.meta.url)";',
    "export const here = import.meta.url;",
    "",
  ].join("\n");
  await withProject({ "a.ts": a, "kernel.wasm": Uint8Array.from([0, 0x61, 0x73, 0x6d]), "other.wasm": "x" }, (dir) =>
    assert.deepEqual(filesOf(dir), ["a.ts", "kernel.wasm"]),
  );
});

test("a computed dynamic import is ignored; a template naming project files is an error with file and line", async () => {
  const optional = 'export async function load(name: string) {\n  const specifier: string = name;\n  return import(specifier);\n}\n';
  await withProject({ "a.ts": optional }, (dir) => assert.deepEqual(filesOf(dir), ["a.ts"]));
  const templated = 'type Kernel = { run(): void };\n\nexport async function load(name: string): Promise<Kernel> {\n  return import(`./kernels/${name}.ts`);\n}\n';
  await withProject({ "a.ts": templated, "kernels/x.ts": B }, (dir) =>
    assert.throws(() => filesOf(dir), /a\.ts:4: a dynamic import with a computed path \("\.\/kernels\/\*\.ts"\)/),
  );
});

test("packages get their installed version, node: builtins are skipped, .js resolves to .ts", async () => {
  const a = [
    'import { readFileSync } from "node:fs";',
    'import { join } from "path";',
    'import { thing } from "some-pkg/sub/path.js";',
    'import scoped from "@scope/pkg";',
    'import { helper } from "./b.js";',
    "export const run = [readFileSync, join, thing, scoped, helper];",
    "export const optional = () => import(\"not-installed\");",
    "",
  ].join("\n");
  const files = {
    "a.ts": a,
    "b.ts": B,
    "node_modules/some-pkg/package.json": JSON.stringify({ name: "some-pkg", version: "1.2.3" }),
    "node_modules/@scope/pkg/package.json": JSON.stringify({ name: "@scope/pkg", version: "4.5.6" }),
  };
  await withProject(files, (dir) => {
    const fingerprint = new CodeFingerprinter(dir).fingerprint(join(dir, "a.ts"));
    assert.deepEqual(Object.keys(fingerprint.files).sort(), ["a.ts", "b.ts"]);
    assert.deepEqual(fingerprint.packages, { "some-pkg": "1.2.3", "@scope/pkg": "4.5.6", "not-installed": "absent" });
  });
});

test("the parse cache: entries written once, keyed by content and tsconfig, torn ones ignored, writes skippable", async () => {
  const a = 'import { type A } from "./b.ts";\nexport const run: A = 1;\n';
  await withProject({ "a.ts": a, "b.ts": B }, async (dir) => {
    const cacheDir = join(dir, "cache");
    assert.deepEqual(filesOf(dir, { cacheDir, writeCache: false }), ["a.ts", "b.ts"]);
    assert.equal(existsSync(cacheDir), false);
    assert.deepEqual(filesOf(dir, { cacheDir }), ["a.ts", "b.ts"]);
    assert.equal((await readdir(cacheDir)).length, 2); // a.ts and b.ts
    assert.deepEqual(filesOf(dir, { cacheDir }), ["a.ts", "b.ts"]);
    assert.equal((await readdir(cacheDir)).length, 2);
    // Half-written entries are misses, not answers.
    for (const name of await readdir(cacheDir)) {
      const text = await readFile(join(cacheDir, name), "utf8");
      await writeFile(join(cacheDir, name), text.slice(0, text.length >> 1));
    }
    assert.deepEqual(filesOf(dir, { cacheDir }), ["a.ts", "b.ts"]);
    // A new tsconfig or new content is a new key, so a stale entry is never read.
    await writeFile(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: {} }));
    assert.deepEqual(filesOf(dir, { cacheDir }), ["a.ts"]);
    await writeFile(join(dir, "tsconfig.json"), VERBATIM);
    await writeFile(join(dir, "a.ts"), `${a}import "./c.ts";\n`);
    await writeFile(join(dir, "c.ts"), B);
    assert.deepEqual(filesOf(dir, { cacheDir }), ["a.ts", "b.ts", "c.ts"]);
  });
});
