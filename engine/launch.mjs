// @ts-check
/**
 * Starts a TypeScript entry point (pipeline.ts) from an esbuild bundle cached in
 * node_modules/.cache/ts-launch/ instead of through tsx's loader. On Node 20, `--import tsx` costs
 * ~0.3 s of CPU at every start (its loader thread, then a transform-cache lookup per module across
 * threads): more than a no-op run's work. Plain JavaScript, because nothing may need a TypeScript
 * loader before it.
 *
 * The .ts sources stay the truth. The bundle records the SHA-256 of every file it was built from (the
 * entry's whole import graph, static and dynamic, plus this file, tsconfig.json and esbuild's
 * version) and is rebuilt when any differs. Each bundled module keeps its source's identity:
 * `import.meta.url`, `.dirname`, `.filename` and relative `import.meta.resolve()` answer for the .ts
 * file, so stage module paths, code fingerprints and asset URLs are the ones tsx gives. Every project
 * module is bundled once — those only imported with `import()` too, as chunks loaded when first
 * needed — so there is one copy of each (`instanceof` holds between the engine and the code it
 * loads). Packages stay external, loaded by Node as usual. With --verbose, source maps are on, so
 * stack traces name the .ts files.
 *
 * When no bundle can be built or stored (a syntax error, a read-only node_modules) or esbuild warns
 * about the code, the entry runs through tsx as `node --import tsx <entry>` would, and tsx reports
 * any error. Builds unused for two days are deleted.
 *
 * Usage: `node engine/launch.mjs <entry.ts> [args…]`, or `launch(entryPath)` from a launcher file.
 * `TS_LAUNCH=tsx` skips the bundle (to compare); `TS_LAUNCH_DEBUG=1` says when and why it rebuilds;
 * `TS_LAUNCH_CACHE=DIR` keeps the bundles in DIR (tests keep them with their temporary projects).
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, extname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const LAUNCHER = fileURLToPath(import.meta.url);
const CACHE_DIR = process.env.TS_LAUNCH_CACHE ? resolve(process.env.TS_LAUNCH_CACHE) : fileURLToPath(new URL("../node_modules/.cache/ts-launch/", import.meta.url));
const PROJECT_ROOT = fileURLToPath(new URL("../", import.meta.url));
/** Builds not started from for this long are deleted; one a running command uses is never that old. */
const PRUNE_AFTER_MS = 2 * 24 * 3600 * 1000;
const LOADERS = /** @type {const} */ ({ ".ts": "ts", ".mts": "ts", ".cts": "ts", ".js": "js", ".mjs": "js", ".cjs": "js", ".json": "json" });

/**
 * @typedef {{ dir: string | null; main: string; node: string; inputs: Record<string, string>; stats: Record<string, string> }} BuildRecord
 * `dir`: the build's folder in CACHE_DIR, null to run through tsx; `main`: the entry's file in it;
 * `node`: the Node.js version it targets; `inputs`: path → SHA-256 of every file it depends on;
 * `stats`: path → size, mtime, ctime and inode when hashed. A file whose stat is unchanged is not
 * read again (a write changes its ctime, which no tool can set back); one whose stat changed is
 * hashed, so a checkout that rewrites files with the same content costs no rebuild.
 */

/** Runs `entry` (a .ts file) with `process.argv[1]` set to it, as if Node had been given it directly. */
export async function launch(/** @type {string} */ entry) {
  const entryPath = resolve(entry);
  process.argv[1] = entryPath;
  const debug = process.env.TS_LAUNCH_DEBUG === "1";
  const main = process.env.TS_LAUNCH === "tsx" ? undefined : await bundledEntry(entryPath, debug);
  if (main === undefined) {
    await import(/** @type {string} */ ("tsx")); // registers tsx's loader, as --import tsx does (the package ships no types for it)
    await import(pathToFileURL(entryPath).href);
    return;
  }
  // Mapped stack traces cost a scan of every module loaded (10-20 ms a start), and the CLI prints a
  // stack only with --verbose. (`node --enable-source-maps` maps them always.)
  if (process.argv.includes("--verbose")) process.setSourceMapsEnabled(true);
  await import(pathToFileURL(main).href);
}

/** The bundle's entry file — the cached one when every input is unchanged, else a fresh build — or undefined to run through tsx. */
async function bundledEntry(/** @type {string} */ entryPath, /** @type {boolean} */ debug) {
  const checkStarted = performance.now();
  const recordPath = join(CACHE_DIR, `${sha256(entryPath).slice(0, 16)}.json`);
  const record = readRecord(recordPath);
  const fresh = record !== undefined && record.node === process.versions.node && inputsUnchanged(record, recordPath);
  if (debug) process.stderr.write(`ts-launch: ${fresh ? "fresh" : "stale"} record, checked in ${(performance.now() - checkStarted).toFixed(1)} ms\n`);
  if (record && fresh) {
    if (record.dir === null) return undefined;
    const dir = join(CACHE_DIR, record.dir);
    try {
      const now = new Date();
      utimesSync(dir, now, now); // marks the build as in use, so pruning spares it
      return join(dir, record.main);
    } catch {
      // the build folder is gone: build again
    }
  }
  const name = relative(process.cwd(), entryPath);
  try {
    const started = performance.now();
    const { record: built, warnings } = await build(entryPath, recordPath);
    if (warnings.length > 0) {
      // A warning may mean the bundle behaves otherwise than tsx would: not worth a faster start.
      process.stderr.write(`${warnings.join("\n")}\nts-launch: esbuild warned about ${name}'s code (above); it runs through tsx until its sources change\n`);
    }
    if (debug) process.stderr.write(`ts-launch: rebuilt ${name} (${Object.keys(built.inputs).length} files) in ${(performance.now() - started).toFixed(0)} ms\n`);
    return built.dir === null ? undefined : join(CACHE_DIR, built.dir, built.main);
  } catch (error) {
    if (debug) process.stderr.write(`ts-launch: no bundle, running through tsx: ${error instanceof Error ? error.message : String(error)}\n`);
    return undefined;
  }
}

/** @returns {Promise<{ record: BuildRecord; warnings: string[] }>} */
async function build(/** @type {string} */ entryPath, /** @type {string} */ recordPath) {
  const esbuild = await import("esbuild");
  const dirName = `${sha256(entryPath).slice(0, 16)}-${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
  // Hashed before building and as read by it: a file edited during the build leaves a stale record, never a wrong one.
  /** @type {Record<string, string>} */
  const inputs = {};
  /** @type {Record<string, string>} */
  const stats = {};
  for (const path of [LAUNCHER, join(PROJECT_ROOT, "tsconfig.json"), esbuildManifest()]) {
    stats[path] = statKey(path);
    inputs[path] = hashFile(path);
  }
  mkdirSync(CACHE_DIR, { recursive: true });
  const result = await esbuild.build({
    entryPoints: { main: entryPath },
    outdir: join(CACHE_DIR, dirName),
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    // The exact version, as tsx does: for "node20" esbuild drops import attributes (`with { type: "json" }`) Node 20.20 needs.
    target: `node${process.versions.node}`,
    packages: "external",
    tsconfig: join(PROJECT_ROOT, "tsconfig.json"),
    sourcemap: "linked",
    sourcesContent: false,
    metafile: true,
    logLevel: "silent",
    // Each module declares its own source identity (sourceIdentity below); esbuild renames the declarations apart.
    define: {
      "import.meta.url": "__source_url",
      "import.meta.dirname": "__source_dirname",
      "import.meta.filename": "__source_filename",
      "import.meta.resolve": "__source_resolve",
    },
    banner: { js: "const __resolve_from = (specifier, from) => import.meta.resolve(/^\\.{1,2}\\//.test(specifier) ? new URL(specifier, from).href : specifier);" },
    plugins: [sourceIdentity(inputs, stats)],
  });
  for (const input of Object.keys(result.metafile.inputs).map((path) => resolve(path))) {
    if (inputs[input] !== undefined) continue;
    stats[input] = statKey(input);
    inputs[input] = hashFile(input);
  }
  const warnings = await esbuild.formatMessages(result.warnings, { kind: "warning", color: false });
  /** @type {BuildRecord} */
  const built = { dir: warnings.length > 0 ? null : dirName, main: "main.js", node: process.versions.node, inputs, stats };
  writeRecord(recordPath, built);
  prune(dirName);
  return { record: built, warnings };
}

/**
 * Loads each project file, records the SHA-256 of the bytes bundled, and puts in front of each
 * script the source identity `define` points import.meta at (on its first line: line numbers stay).
 */
function sourceIdentity(/** @type {Record<string, string>} */ inputs, /** @type {Record<string, string>} */ stats) {
  return {
    name: "source-identity",
    setup(/** @type {import("esbuild").PluginBuild} */ builder) {
      builder.onLoad({ filter: /\.([cm]?[jt]s|json)$/ }, (args) => {
        stats[args.path] = statKey(args.path); // before reading: a write in between shows as a changed stat
        const bytes = readFileSync(args.path);
        inputs[args.path] = sha256(bytes);
        const loader = LOADERS[/** @type {keyof typeof LOADERS} */ (extname(args.path))];
        if (loader === "json") return { contents: bytes, loader };
        const source = bytes.toString("utf8");
        const identity =
          `var __source_url = ${JSON.stringify(pathToFileURL(args.path).href)}, __source_dirname = ${JSON.stringify(dirname(args.path))}, ` +
          `__source_filename = ${JSON.stringify(args.path)}, __source_resolve = (specifier) => __resolve_from(specifier, __source_url);`;
        const shebangEnd = source.startsWith("#!") ? source.indexOf("\n") + 1 : 0;
        return { contents: (shebangEnd > 0 ? "\n" : "") + identity + source.slice(shebangEnd), loader, resolveDir: dirname(args.path) };
      });
    },
  };
}

function esbuildManifest() {
  return join(dirname(fileURLToPath(import.meta.resolve("esbuild"))), "..", "package.json");
}

/** Deletes builds (other than `keep`) no launch has started from for PRUNE_AFTER_MS, and records whose build is gone. */
function prune(/** @type {string} */ keep) {
  const cutoff = Date.now() - PRUNE_AFTER_MS;
  const names = readdirSync(CACHE_DIR);
  for (const name of names) {
    if (name === keep || name.endsWith(".json") || name.endsWith(".tmp")) continue;
    try {
      if (statSync(join(CACHE_DIR, name)).mtimeMs < cutoff) rmSync(join(CACHE_DIR, name), { recursive: true, force: true });
    } catch {
      // removed meanwhile by another launch
    }
  }
  for (const name of names) {
    const record = name.endsWith(".json") ? readRecord(join(CACHE_DIR, name)) : undefined;
    if (record?.dir && record.dir !== keep && !statSync(join(CACHE_DIR, record.dir), { throwIfNoEntry: false })) rmSync(join(CACHE_DIR, name), { force: true });
  }
}

/** Whether every input still has the content the bundle was built from; refreshes stats that changed with the content kept. */
function inputsUnchanged(/** @type {BuildRecord} */ record, /** @type {string} */ recordPath) {
  let restated = false;
  for (const [path, hash] of Object.entries(record.inputs)) {
    const stat = statKey(path);
    if (stat === record.stats?.[path]) continue;
    if (hashFile(path) !== hash) return false;
    (record.stats ??= {})[path] = stat;
    restated = true;
  }
  if (restated) {
    try {
      writeRecord(recordPath, record);
    } catch {
      // read-only: the next start hashes those files again
    }
  }
  return true;
}

function statKey(/** @type {string} */ path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  return stat ? `${stat.size}/${stat.mtimeMs}/${stat.ctimeMs}/${stat.ino}` : "missing";
}

function writeRecord(/** @type {string} */ path, /** @type {BuildRecord} */ record) {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(record, null, 1));
  renameSync(temporary, path);
}

/** @returns {BuildRecord | undefined} */
function readRecord(/** @type {string} */ path) {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}

function hashFile(/** @type {string} */ path) {
  try {
    return sha256(readFileSync(path));
  } catch {
    return "missing";
  }
}

function sha256(/** @type {string | Buffer} */ data) {
  return createHash("sha256").update(data).digest("hex");
}

if (process.argv[1] && resolve(process.argv[1]) === LAUNCHER) {
  const [entry] = process.argv.splice(2, 1);
  if (!entry) {
    process.stderr.write("usage: node engine/launch.mjs <entry.ts> [args…]\n");
    process.exit(2);
  }
  await launch(entry);
}
