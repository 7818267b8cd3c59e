import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { chromiumMissing, launchChromium } from "../helpers/chromium.ts";

/**
 * `node --import tsx test/bench/html-report.ts [report.html ...] [--runs N]`: a published
 * report.html's size (what its bytes are: libraries, the page's script, chart specs, the rest) and,
 * in Debian's chromium at 1366×768, how long it takes to open from disk — to ready (script run) and
 * to its first screen drawn (median of N loads) — and to draw every chart (each scrolled to, folds
 * opened, each network's tab shown), with the slowest charts. Default: reports/report.html.
 */
const { values, positionals } = parseArgs({ options: { runs: { type: "string" } }, allowPositionals: true });
const runs = Number(values.runs ?? 3);
const files = positionals.length > 0 ? positionals : ["reports/report.html"];
const missing = chromiumMissing();
if (missing) {
  console.error(missing);
  process.exit(1);
}

const MiB = 1024 * 1024;
const median = (numbers: number[]): number => [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)]!;

function sizes(html: string): Record<string, number> {
  const scripts = [...html.matchAll(/<script( type="application\/json"[^>]*)?>([\s\S]*?)<\/script>/g)];
  const bytes = (text: string): number => Buffer.byteLength(text);
  const classic = scripts.filter((match) => match[1] === undefined).map((match) => bytes(match[2]!));
  const data = scripts.find((match) => match[1] !== undefined)?.[2] ?? "";
  const charts = /"charts":(\{.*?\}),"experiments":/s.exec(data)?.[1] ?? "";
  return {
    total: bytes(html),
    "vega + vega-lite + vega-embed": classic.slice(0, 3).reduce((sum, value) => sum + value, 0),
    "page script": classic[3] ?? 0,
    "chart specs": bytes(charts),
    "other data (curves, params)": bytes(data) - bytes(charts),
  };
}

const chromium = await launchChromium({ width: 1366, height: 768 });
try {
  for (const file of files) {
    const html = await readFile(file, "utf8");
    console.log(`${file}`);
    for (const [part, size] of Object.entries(sizes(html))) console.log(`  ${part.padEnd(32)} ${size >= MiB / 10 ? `${(size / MiB).toFixed(2)} MiB` : `${(size / 1024).toFixed(1)} KiB`}`);
    const ready: number[] = [];
    const firstScreen: number[] = [];
    let everything = 0;
    let slowest: Array<[string, number]> = [];
    for (let run = 0; run < runs; run++) {
      const page = await chromium.context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      const started = performance.now();
      await page.goto(pathToFileURL(resolve(file)).href);
      await page.waitForSelector("html[data-ready]");
      ready.push(performance.now() - started);
      // The first screen: every chart slot above the fold drawn (charts below are drawn as they come near).
      await page.waitForFunction(() =>
        [...document.querySelectorAll<HTMLElement>(".chart-slot[data-chart]")]
          .filter((slot) => {
            const box = slot.getBoundingClientRect();
            return box.height > 0 && box.top < window.innerHeight; // shown (not folded, not another network's tab) and above the fold
          })
          .every((slot) => slot.dataset.state === "rendered"),
      );
      firstScreen.push(performance.now() - started);
      if (run === 0) {
        // Every chart: folds opened, each network's tab in turn, each chart scrolled to and waited for.
        const began = performance.now();
        await page.evaluate(() => document.querySelectorAll("details").forEach((details) => (details.open = true)));
        const timings: Array<[string, number]> = [];
        const tabs = page.locator('.network-tabs [role="tab"]');
        for (let tab = 0; tab < Math.max(1, await tabs.count()); tab++) {
          if ((await tabs.count()) > 0) await tabs.nth(tab).click();
          for (const name of await page.locator(".chart-slot[data-chart]:visible:not([data-state='rendered'])").evaluateAll((all) => all.map((slot) => (slot as HTMLElement).dataset.chart!))) {
            const slot = page.locator(`.chart-slot[data-chart="${name}"]`);
            const at = performance.now();
            await slot.scrollIntoViewIfNeeded();
            await page.waitForSelector(`.chart-slot[data-chart="${name}"][data-state="rendered"]`);
            timings.push([name, performance.now() - at]);
          }
        }
        everything = performance.now() - began;
        slowest = timings.sort((a, b) => b[1] - a[1]).slice(0, 3);
        const drawn = await page.locator('.chart-slot[data-state="rendered"]').count();
        console.log(`  charts drawn                     ${drawn} of ${await page.locator(".chart-slot[data-chart]").count()}`);
      }
      if (errors.length > 0) console.log(`  page errors: ${errors.join("; ")}`);
      await page.close();
    }
    console.log(`  ready (script run)               ${median(ready).toFixed(0)} ms (median of ${runs}; ${ready.map((value) => value.toFixed(0)).join(", ")})`);
    console.log(`  first screen drawn               ${median(firstScreen).toFixed(0)} ms (median of ${runs})`);
    console.log(`  every chart drawn, one by one    ${(everything / 1000).toFixed(1)} s; slowest: ${slowest.map(([name, ms]) => `${name} ${ms.toFixed(0)} ms`).join(", ")}`);
  }
} finally {
  await chromium.close();
}
