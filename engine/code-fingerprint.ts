import { existsSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { fileURLToPath } from "node:url";
import { dirname, join, relative, resolve, sep } from "node:path";
import { sha256 } from "./canonical-json.ts";

/**
 * The code a stage runs: its own file plus every project file it imports at run time, transitively
 * (static and dynamic `import`), each with its SHA-256, plus the version of every package it imports.
 * A file a module reads through `new URL("./literal/path", import.meta.url)` (an asset: the
 * hand-written wasm kernels) counts as its code too, hashed byte for byte; write such URLs with a
 * literal path, since a computed one cannot be followed.
 * Type-only imports are skipped — they vanish at run time, so changing a type file must not rerun
 * training. The engine's own files are skipped too: it is the build tool, not the stage's code (as
 * DVC's version is not part of a stage's hash), so improving the engine never retrains anything;
 * a change in what fingerprints mean bumps FINGERPRINT_VERSION instead. Files are read and parsed
 * once per process and shared by all stages.
 */
export interface CodeFingerprint {
  /** Project-relative path (always with "/") → SHA-256 of the file's content. */
  files: Record<string, string>;
  /** Package name → installed version, or "absent" for an optional package that is not installed. */
  packages: Record<string, string>;
}

interface ParsedFile {
  hash: string;
  localImports: string[];
  packageImports: string[];
}

const STATIC_IMPORT = /(?:^|[\s;}])(import|export)\s+(type\s+)?(?:[\w*${}\s,]*?\s*from\s*)?["']([^"'\n]+)["']/g;
const DYNAMIC_IMPORT = /\bimport\(\s*["']([^"'\n]+)["']\s*\)/g;
const ASSET_URL = /\bnew\s+URL\(\s*["'](\.{1,2}\/[^"'\n]+)["']\s*,\s*import\.meta\.url\s*\)/g;
const RESOLVABLE_EXTENSIONS = ["", ".ts", "/index.ts"];
const ENGINE_DIR = dirname(fileURLToPath(import.meta.url)) + sep;

export class CodeFingerprinter {
  readonly #parsed = new Map<string, ParsedFile>();
  readonly #packageVersions = new Map<string, string>();
  readonly #closures = new Map<string, CodeFingerprint>();

  constructor(readonly root: string) {}

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
    const specifiers: string[] = [];
    const assets: string[] = [];
    if (/\.[cm]?[jt]s$/.test(file)) {
      const source = bytes.toString("utf8");
      for (const match of source.matchAll(STATIC_IMPORT)) {
        const isTypeOnly = match[2] !== undefined;
        if (!isTypeOnly && match[3]) specifiers.push(match[3]);
      }
      for (const match of source.matchAll(DYNAMIC_IMPORT)) if (match[1]) specifiers.push(match[1]);
      for (const match of source.matchAll(ASSET_URL)) if (match[1]) assets.push(match[1]);
    }
    const parsed: ParsedFile = { hash: sha256(bytes), localImports: [], packageImports: [] };
    for (const asset of assets) {
      const path = resolve(dirname(file), asset);
      if (!statSync(path, { throwIfNoEntry: false })?.isFile()) throw new Error(`${file}: the asset "${asset}" does not exist`);
      parsed.localImports.push(path);
    }
    for (const specifier of specifiers) {
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
