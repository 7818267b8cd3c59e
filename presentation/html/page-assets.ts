/**
 * What report.html inlines besides its data: Vega, Vega-Lite and vega-embed as classic scripts
 * (their UMD builds: Chromium runs no module script from file://), the page's own script bundled
 * from page/ by esbuild into one classic script, and the style sheet.
 *
 * Every file read here is named by `new URL("<literal>", import.meta.url)`, so the engine hashes
 * each into the report stage's code fingerprint (engine/code-fingerprint.ts): the page entry and,
 * followed from it, everything it imports; the libraries' builds byte for byte. Updating Vega or
 * editing the page's code therefore rebuilds the report.
 */
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { inlineScript } from "./html.ts";

const VENDOR_SCRIPTS = [
  { name: "vega", url: new URL("../../node_modules/vega/build/vega.min.js", import.meta.url) },
  { name: "vega-lite", url: new URL("../../node_modules/vega-lite/build/vega-lite.min.js", import.meta.url) },
  { name: "vega-embed", url: new URL("../../node_modules/vega-embed/build/vega-embed.min.js", import.meta.url) },
] as const;

const PAGE_ENTRY = new URL("./page/main.ts", import.meta.url);
const PAGE_TSCONFIG = new URL("./page/tsconfig.json", import.meta.url);
const STYLE = new URL("./style.css", import.meta.url);
// Not a `new URL` literal: that would name a folder as an asset.
const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface PageBundle {
  code: string;
  /** The files bundled, relative to the project root (esbuild's metafile). */
  inputs: string[];
}

/** The page's script: page/main.ts and its imports as one minified classic script (an IIFE). */
export async function pageBundle(): Promise<PageBundle> {
  const esbuild = await import("esbuild");
  const result = await esbuild.build({
    entryPoints: [fileURLToPath(PAGE_ENTRY)],
    absWorkingDir: PROJECT_ROOT,
    tsconfig: fileURLToPath(PAGE_TSCONFIG),
    bundle: true,
    write: false,
    format: "iife",
    platform: "browser",
    target: ["chrome109", "firefox115", "safari16"],
    minify: true,
    legalComments: "none",
    charset: "utf8",
    metafile: true,
    logLevel: "silent",
  });
  return { code: result.outputFiles[0]!.text, inputs: Object.keys(result.metafile.inputs).sort() };
}

/** The three libraries, in load order, as inline <script> elements, with their sizes in bytes. */
export async function vendorScripts(): Promise<{ html: string; bytes: Record<string, number> }> {
  const sources = await Promise.all(VENDOR_SCRIPTS.map(async ({ name, url }) => ({ name, source: await readFile(url, "utf8") })));
  return {
    html: sources.map(({ name, source }) => inlineScript(source, name)).join("\n"),
    bytes: Object.fromEntries(sources.map(({ name, source }) => [name, Buffer.byteLength(source)])),
  };
}

export async function styleSheet(): Promise<string> {
  return readFile(STYLE, "utf8");
}
