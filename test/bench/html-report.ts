import { readFile } from "node:fs/promises";
import { mkdir } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { chromiumMissing, launchChromium } from "../helpers/chromium.ts";

/**
 * `node --import tsx test/bench/html-report.ts [report.html ...] [--runs N]`: a published
 * report.html's size (what its bytes are: libraries, the page's script, chart specs, the rest) and,
 * in Debian's chromium at 1366×768, how long it takes to open from disk — to ready (script run) and
 * to its first screen drawn (median of N loads) — and to draw every chart (each scrolled to, folds
 * opened, each network's tab shown), with the slowest charts. Default: reports/report.html.
 * `--screenshots DIR` also saves, for people to look at, the first screen, the run table, a chart
 * with its tooltip, two runs compared and each network's tab (full-page, every chart drawn).
 */
const { values, positionals } = parseArgs({ options: { runs: { type: "string" }, screenshots: { type: "string" } }, allowPositionals: true });
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

type Page = Awaited<ReturnType<Awaited<ReturnType<typeof launchChromium>>["context"]["newPage"]>>;

async function screenshots(page: Page, dir: string, prefix: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const saved: string[] = [];
  const shot = async (name: string, action: () => Promise<unknown>): Promise<void> => {
    try {
      await action();
      saved.push(name);
    } catch (error) {
      console.log(`  screenshot ${name} not taken: ${(error as Error).message.split("\n")[0]}`);
    }
  };
  const path = (name: string): string => join(dir, `${prefix}-${name}.png`);
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot("first-screen", () => page.screenshot({ path: path("first-screen") }));
  await shot("full-page", () => page.screenshot({ path: path("full-page"), fullPage: true }));
  const table = page.locator("#run-table");
  await shot("run-table", async () => {
    await table.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path("run-table") });
  });
  await shot("compare-two-runs", async () => {
    const boxes = page.locator('#run-table input[type="checkbox"]');
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    await page.waitForTimeout(500);
    await page.screenshot({ path: path("compare-two-runs"), fullPage: false });
  });
  await shot("chart-tooltip", async () => {
    // The first bar of the first chart (vega's SVG renderer draws a rect mark's items as paths).
    const mark = page.locator('.chart-slot[data-state="rendered"] svg g.mark-rect path').first();
    await mark.scrollIntoViewIfNeeded();
    const box = (await mark.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForTimeout(300);
    await page.screenshot({ path: path("chart-tooltip") });
  });
  const tabs = page.locator('.network-tabs [role="tab"]');
  for (let tab = 0; tab < (await tabs.count()); tab++) {
    await shot(`network-${tab + 1}`, async () => {
      await tabs.nth(tab).click();
      await tabs.nth(tab).scrollIntoViewIfNeeded();
      await page.screenshot({ path: path(`network-${tab + 1}`) });
    });
  }
  console.log(`  screenshots                      ${saved.length} in ${dir}`);
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
        if (values.screenshots) await screenshots(page, values.screenshots, basename(file, ".html"));
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
