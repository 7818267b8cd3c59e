import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { dirname, join, relative, resolve, sep } from "node:path";
import type { TransformOptions } from "esbuild";
import { fingerprintOf, sha256 } from "./canonical-json.ts";

/**
 * The code a stage runs: its own file plus every project file it imports at run time, transitively,
 * each with its SHA-256, plus the version of every package it imports.
 *
 * Imports are read from the JavaScript that actually runs: each .ts/.js file is compiled with
 * esbuild (the compiler tsx runs it with) under the project root's tsconfig.json, and the output is
 * lexed with es-module-lexer. So the compiler decides, not a pattern: `import type` and
 * `export type … from` vanish and do not count, `import { type A } from "./b.ts"` still loads b.ts
 * under verbatimModuleSyntax and counts, and nothing inside a comment or a string counts. Static
 * imports, `export … from`, `export * from` and `import("literal")` count. A tsconfig.json using
 * "extends" is refused, since esbuild would not follow it.
 *
 * A file a module reads through `new URL("./literal/path", import.meta.url)` (an asset: the
 * hand-written wasm kernels) counts as its code too, hashed byte for byte. A computed path cannot be
 * followed, so write project files' paths as literals: `import(expression)` and
 * `new URL(expression, import.meta.url)` are ignored (they exist to load optional packages, like the
 * native TensorFlow backends, whose absence must not be an error), while a template that names a
 * project folder, `import(\`./kernels/${name}.ts\`)`, is an error naming the file and line, as it
 * surely loads project code the fingerprint cannot list.
 *
 * The engine's own files are skipped: it is the build tool, not the stage's code (as DVC's version
 * is not part of a stage's hash), so improving the engine never retrains anything; a change in what
 * fingerprints mean bumps FINGERPRINT_VERSION instead. Files are read and parsed once per process
 * and shared by all stages.
 */
export interface CodeFingerprint {
  /** Project-relative path (always with "/") → SHA-256 of the file's content. */
  files: Record<string, string>;
  /** Package name → installed version, or "absent" for an optional package that is not installed. */
  packages: Record<string, string>;
}

export interface CodeFingerprinterOptions {
  /**
   * Where each file's compiled imports are kept between processes, keyed by the file's SHA-256, the
   * tsconfig and the compiler and lexer versions: compiling this project's ~95 stage files takes
   * ~0.25 s (esbuild's start-up included), reading their entries back a few ms. Without it every
   * process compiles every file it fingerprints.
   */
  cacheDir?: string;
  /** false: read the cache but never write it (a command that must write nothing). Default true. */
  writeCache?: boolean;
}

/** What a file's compiled JavaScript loads, before resolution: the part worth caching. */
interface ModuleRequests {
  /** Specifiers of static imports, re-exports and literal dynamic imports. */
  imports: string[];
  /** Paths read through new URL(literal, import.meta.url), relative to the file. */
  assets: string[];
}

interface ParsedFile {
  hash: string;
  localImports: string[];
  packageImports: string[];
}

type Esbuild = typeof import("esbuild");
type Lexer = typeof import("es-module-lexer");

/** Part of every cache key: bump when the compile options or what is read from the output change. */
const REQUESTS_FORMAT = 1;
const SCRIPT = /\.[cm]?[jt]s$/;
/** `new URL(<literal>, ` right before an `import.meta`, in esbuild's comment-free output. */
const ASSET_URL_HEAD = /\bnew\s+URL\(\s*("[^"\n]*"|'[^'\n]*'|`[^`\n$]*`)\s*,\s*$/;
const ASSET_URL_TAIL = /^\.url\s*\)/;
const RESOLVABLE_EXTENSIONS = ["", ".ts", "/index.ts"];
const ENGINE_DIR = dirname(fileURLToPath(import.meta.url)) + sep;
// esbuild takes ~50 ms to load and ~100 ms to start its service: loaded only when a file is not in the cache.
const require = createRequire(import.meta.url);
let esbuild: Esbuild | undefined;
let lexer: Lexer | undefined;

export class CodeFingerprinter {
  readonly #parsed = new Map<string, ParsedFile>();
  readonly #packageVersions = new Map<string, string>();
  readonly #closures = new Map<string, CodeFingerprint>();
  readonly #cacheDir: string | undefined;
  readonly #writeCache: boolean;
  /** Cache entry file names this instance read or wrote: what `gc` keeps. */
  readonly #entriesUsed = new Set<string>();
  #compiler: { tsconfig: string | undefined; key: string } | undefined;
  /** Cache entries waiting for `releaseCacheWrites` (undefined: written at once). */
  #heldWrites: Array<{ path: string; entry: ModuleRequests & { key: string } }> | undefined;

  constructor(
    readonly root: string,
    options: CodeFingerprinterOptions = {},
  ) {
    this.#cacheDir = options.cacheDir;
    this.#writeCache = options.writeCache ?? true;
  }

  /**
   * Keeps new cache entries in memory until `releaseCacheWrites`: a command that fails before it
   * starts (bad params) must leave nothing behind, while one that goes on keeps what it compiled.
   */
  holdCacheWrites(): void {
    this.#heldWrites ??= [];
  }

  releaseCacheWrites(): void {
    const held = this.#heldWrites ?? [];
    this.#heldWrites = undefined;
    for (const { path, entry } of held) writeCacheEntry(path, entry);
  }

  /**
   * The cache's entry file names the given modules' code uses now (fingerprinting them first):
   * every other entry was compiled from file contents this checkout no longer has.
   */
  cacheEntriesInUse(modulePaths: readonly string[]): ReadonlySet<string> {
    for (const modulePath of modulePaths) this.fingerprint(modulePath);
    return this.#entriesUsed;
  }

  fingerprint(modulePath: string): CodeFingerprint {
    const cached = this.#closures.get(modulePath);
    if (cached) return cached;
    const files: Record<string, string> = {};
    const packages: Record<string, string> = {};
    const pending = [resolve(modulePath)];
    while (pending.length > 0) {
      const file = pending.pop()!;
      const key = relative(this.root, file).split(sep).join("/");
      if (key in files || file.startsWith(ENGINE_DIR)) continue;
      const parsed = this.#parse(file);
      files[key] = parsed.hash;
      pending.push(...parsed.localImports);
      for (const name of parsed.packageImports) packages[name] = this.#packageVersion(name);
    }
    const fingerprint = { files, packages };
    this.#closures.set(modulePath, fingerprint);
    return fingerprint;
  }

  #parse(file: string): ParsedFile {
    const cached = this.#parsed.get(file);
    if (cached) return cached;
    const bytes = readFileSync(file); // hashed as bytes: assets need not be text
    const parsed: ParsedFile = { hash: sha256(bytes), localImports: [], packageImports: [] };
    const { imports, assets } = SCRIPT.test(file) ? this.#requests(file, bytes, parsed.hash) : { imports: [], assets: [] };
    for (const asset of assets) {
      const path = resolve(dirname(file), asset);
      if (!statSync(path, { throwIfNoEntry: false })?.isFile()) throw new Error(`${file}: the asset "${asset}" does not exist`);
      parsed.localImports.push(path);
    }
    for (const specifier of imports) {
      if (specifier.startsWith("node:") || builtinModules.includes(specifier)) continue;
      if (specifier.startsWith(".") || specifier.startsWith("/")) {
        parsed.localImports.push(resolveLocal(file, specifier));
      } else {
        parsed.packageImports.push(packageNameOf(specifier));
      }
    }
    this.#parsed.set(file, parsed);
    return parsed;
  }

  /** The file's requests from the cache, or compiled and lexed (and then cached). */
  #requests(file: string, bytes: Buffer, hash: string): ModuleRequests {
    const loader = /\.[cm]?ts$/.test(file) ? "ts" : "js";
    const compiler = this.#compilerIdentity();
    const key = sha256(`${compiler.key}\n${loader}\n${hash}`);
    const entryPath = this.#cacheDir === undefined ? undefined : join(this.#cacheDir, `${key}.json`);
    this.#entriesUsed.add(`${key}.json`);
    if (entryPath) {
      const entry = readCacheEntry(entryPath, key);
      if (entry) return entry;
    }
    const requests = compileAndLex(file, bytes.toString("utf8"), loader, compiler.tsconfig);
    if (entryPath && this.#writeCache) {
      if (this.#heldWrites) this.#heldWrites.push({ path: entryPath, entry: { key, ...requests } });
      else writeCacheEntry(entryPath, { key, ...requests });
    }
    return requests;
  }

  /** The project root's tsconfig.json as esbuild reads it (comments allowed), and what makes a cache key. */
  #compilerIdentity(): { tsconfig: string | undefined; key: string } {
    if (!this.#compiler) {
      const tsconfigPath = join(this.root, "tsconfig.json");
      const tsconfig = existsSync(tsconfigPath) ? readFileSync(tsconfigPath, "utf8") : undefined;
      // esbuild ignores "extends" in a raw tsconfig while tsx follows it: options from a base file
      // (verbatimModuleSyntax keeps imports alive) would make the fingerprint miss files.
      if (tsconfig !== undefined && /"extends"\s*:/.test(tsconfig)) {
        throw new Error(`${tsconfigPath}: "extends" is not followed when fingerprinting code; put the compilerOptions in this file itself`);
      }
      const esbuildVersion = (require("esbuild/package.json") as { version: string }).version;
      // es-module-lexer's exports map hides its package.json; its main file sits in dist/.
      const lexerManifest = join(dirname(require.resolve("es-module-lexer")), "..", "package.json");
      const lexerVersion = (JSON.parse(readFileSync(lexerManifest, "utf8")) as { version: string }).version;
      this.#compiler = {
        tsconfig,
        key: fingerprintOf({ format: REQUESTS_FORMAT, tsconfig: tsconfig ?? null, esbuild: esbuildVersion, lexer: lexerVersion }),
      };
    }
    return this.#compiler;
  }

  #packageVersion(name: string): string {
    let version = this.#packageVersions.get(name);
    if (version === undefined) {
      version = "absent";
      for (let dir = this.root; ; dir = dirname(dir)) {
        const manifest = join(dir, "node_modules", name, "package.json");
        if (existsSync(manifest)) {
          version = (JSON.parse(readFileSync(manifest, "utf8")) as { version?: string }).version ?? "unknown";
          break;
        }
        if (dirname(dir) === dir) break;
      }
      this.#packageVersions.set(name, version);
    }
    return version;
  }
}

function compileAndLex(file: string, source: string, loader: "ts" | "js", tsconfig: string | undefined): ModuleRequests {
  esbuild ??= require("esbuild") as Esbuild;
  // es-module-lexer compiles its wasm synchronously on the first parse when init() was not awaited.
  lexer ??= require("es-module-lexer") as Lexer;
  let code: string;
  try {
    // Whitespace minified, comments dropped (esbuild otherwise keeps some inside argument lists) and
    // non-ASCII left unescaped, so `new URL("./x", import.meta.url)` always reads the same.
    const options: TransformOptions = { loader, sourcefile: file, logLevel: "silent", minifyWhitespace: true, legalComments: "none", charset: "utf8" };
    if (tsconfig !== undefined) options.tsconfigRaw = tsconfig;
    code = esbuild.transformSync(source, options).code;
  } catch (error) {
    throw new Error(`${file}: cannot be compiled to find its imports: ${(error as Error).message}`);
  }
  const requests: ModuleRequests = { imports: [], assets: [] };
  for (const request of lexer.parse(code, file)[0]) {
    if (request.type === "static" || request.type === "reexport-star") {
      requests.imports.push(request.specifier);
    } else if (request.type === "dynamic") {
      if (request.specifier === undefined) continue; // computed: see CodeFingerprint
      if (!request.glob) requests.imports.push(request.specifier);
      else if (request.specifier.startsWith(".")) throw unfollowableImport(file, source, request.specifier);
    } else {
      const head = ASSET_URL_HEAD.exec(code.slice(Math.max(0, request.start - 1024), request.start));
      const path = head?.[1]?.slice(1, -1);
      if (path !== undefined && /^\.{1,2}\//.test(path) && ASSET_URL_TAIL.test(code.slice(request.end))) requests.assets.push(path);
    }
  }
  return requests;
}

/** A template import of project files, located in the source (the compiled text has other line numbers). */
function unfollowableImport(file: string, source: string, glob: string): Error {
  let line: number | undefined;
  try {
    const match = lexer!.parse(source, file)[0].find((request) => request.type === "dynamic" && request.specifier === glob);
    if (match) line = source.slice(0, match.start).split("\n").length;
  } catch {
    // Lexing TypeScript directly is only for the line number; the error stands without it.
  }
  return new Error(
    `${file}${line === undefined ? "" : `:${line}`}: a dynamic import with a computed path ("${glob}") loads project files ` +
      `the code fingerprint cannot list; import each file with a literal path, e.g. a map of name → () => import("./x.ts")`,
  );
}

function readCacheEntry(path: string, key: string): ModuleRequests | undefined {
  try {
    const entry = JSON.parse(readFileSync(path, "utf8")) as Partial<ModuleRequests & { key: string }>;
    // A torn or foreign file is a miss, never an answer.
    if (entry.key === key && isStrings(entry.imports) && isStrings(entry.assets)) return { imports: entry.imports, assets: entry.assets };
  } catch {
    // Missing or unreadable: compile instead.
  }
  return undefined;
}

/** Best effort: a failed write only costs the next run a compile. Temp file + rename, so readers never see half an entry. */
function writeCacheEntry(path: string, entry: ModuleRequests & { key: string }): void {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(temp, JSON.stringify(entry));
    renameSync(temp, path);
  } catch {
    try {
      rmSync(temp, { force: true });
    } catch {
      // A stray temp file is never read as an entry.
    }
  }
}

function isStrings(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

function resolveLocal(importer: string, specifier: string): string {
  const base = resolve(dirname(importer), specifier);
  const candidates = RESOLVABLE_EXTENSIONS.map((ext) => base + ext);
  if (base.endsWith(".js")) candidates.unshift(base.slice(0, -3) + ".ts");
  const found = candidates.find((candidate) => statSync(candidate, { throwIfNoEntry: false })?.isFile());
  if (!found) throw new Error(`${importer}: cannot resolve the import "${specifier}"`);
  return found;
}

/** "@scope/name/sub" → "@scope/name"; "name/sub" → "name". */
function packageNameOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier);
}
