import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";
import type { Page } from "playwright-core";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { CodeFingerprinter } from "../../engine/code-fingerprint.ts";
import { executeStages } from "../../engine/executor.ts";
import { Session } from "../../engine/session.ts";
import { publishReport } from "../../presentation/report/publish.ts";
import { compareCurvesSpec, seedValues } from "../../presentation/html/compare-spec.ts";
import { interactiveSpec, type JsonObject } from "../../presentation/html/interactive-spec.ts";
import { pageBundle } from "../../presentation/html/page-assets.ts";
import { PAGE_DATA_ID, type PageData } from "../../presentation/html/page-data.ts";
import { paramsDiff } from "../../presentation/html/params-diff.ts";
import { project } from "../../stages/index.ts";
import { CHROMIUM_PACKAGE, chromiumMissing, launchChromium, type Chromium } from "../helpers/chromium.ts";
import { tinyProfileBase, tinyWorkDir } from "../helpers/tiny-profile.ts";

/**
 * report.html on a tiny real profile — three experiments in two studies (LeNet with two seeds),
 * every analysis on the two conv1 networks, trained, evaluated and analysed for real through the
 * engine — then published (stamped) and opened from disk in a real browser: Debian's chromium
 * driven by playwright-core. Screenshots go to a temp folder named in the output.
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

function tinyParams(): unknown {
  const lenet = { arch: "lenet", loss: "log-softmax-nll" };
  return {
    ...tinyProfileBase({ train: 600, test: 200, validation: 100, epochs: 2 }),
    experiments: {
      "conv1-sgd": { title: "conv1, SGD", study: "001", dataset: "tiny-raw", reference: { accuracy: 0.939, note: "at least this" }, model: { arch: "conv1" }, optimizer: { name: "sgd", lr: 0.05 } },
      "conv1-adam": { title: "conv1, Adam", study: "001", dataset: "tiny-raw", reference: { accuracy: null }, model: { arch: "conv1" }, optimizer: { name: "adam", lr: 0.001 } },
      lenet: { title: "LeNet", study: "003", dataset: "tiny", reference: { accuracy: 0.9811 }, model: lenet, optimizer: { name: "sgd", lr: 0.01, momentum: 0.5 }, training: { seeds: 2 } },
    },
    analyses: {
      experiments: ["conv1-sgd", "conv1-adam"],
      seed: 1,
      layerSummary: {},
      predictionGrid: { count: 12 },
      filters: { layers: 1 },
      activationMaps: { testRow: 0 },
      occlusion: { images: 2, patchSizes: [3, 14], stride: 1, fillPixel: 0.5 },
      adversarial: { noiseMean: 128, noiseStd: 1, step: 0.05, iterations: 15, clampMin: 0, clampMax: 255, beta: 0.001 },
      misclassified: { count: 8 },
    },
  };
}

interface MetricsRow {
  id: string;
  verdict: string;
  n: number;
  testAccuracy: number;
  seeds: number[];
  runs: Array<{ seed: number; history: Array<{ epoch: number; valAccuracy?: number }> }>;
}

let workDir = "";
let reportDir = "";
let publishedDir = "";
let cachedHtml = "";
let html = "";
let markdown = "";
let data: PageData;
let metrics: MetricsRow[] = [];

function pageData(page: string): PageData {
  const match = new RegExp(`<script type="application/json" id="${PAGE_DATA_ID}">(.*?)</script>`, "s").exec(page);
  assert.ok(match, "the page inlines its data");
  return JSON.parse(match[1]!) as PageData;
}

before(async () => {
  workDir = await tinyWorkDir("html-report-");
  const paramsFile = join(workDir, "params.json");
  await writeFile(paramsFile, JSON.stringify(tinyParams()));
  const summary = await executeStages(await Session.open(project, { paramsFile, workDir }), { jobs: 2 });
  assert.equal(summary.ok, true, JSON.stringify(summary.outcomes));
  const session = await Session.open(project, { paramsFile, workDir });
  reportDir = join(workDir, session.lock.stages.report!.artifact, "out");
  publishedDir = join(workDir, "published");
  await publishReport(reportDir, publishedDir, { lockFile: session.lockPath });
  cachedHtml = await readFile(join(reportDir, "report.html"), "utf8");
  html = await readFile(join(publishedDir, "report.html"), "utf8");
  markdown = await readFile(join(reportDir, "report.md"), "utf8");
  data = pageData(html);
  metrics = (JSON.parse(await readFile(join(reportDir, "metrics.json"), "utf8")) as { experiments: MetricsRow[] }).experiments;
});

after(async () => {
  if (workDir && !process.env.KEEP_RIGS) await rm(workDir, { recursive: true, force: true });
});

/** Every legend of a compiled Vega spec, as JSON. */
function legends(spec: { legends?: unknown[]; marks?: unknown[] }): string[] {
  return [...(spec.legends ?? []).map((legend) => JSON.stringify(legend)), ...(spec.marks ?? []).flatMap((mark) => legends(mark as typeof spec))];
}

const unescape = (text: string): string => text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&");

/** A run-table cell's text, from the page's HTML. */
function runCell(id: string, key: string): string {
  const row = new RegExp(`<tr data-id="${id}"[^>]*>(.*?)</tr>`, "s").exec(html)?.[1];
  assert.ok(row, `the run table has ${id}`);
  const cell = new RegExp(`data-key="${key}"[^>]*>(.*?)</t[dh]>`, "s").exec(row)?.[1];
  assert.ok(cell !== undefined, `${id}'s row has a ${key} cell`);
  return unescape(cell.replace(/<[^>]+>/g, ""));
}

/** A cell of report.md's summary table: the row of `id`, the column at `index`. */
function summaryCell(id: string, index: number): string {
  const line = markdown.split("\n").find((entry) => entry.startsWith(`| \`${id}\` |`));
  assert.ok(line, `report.md's summary lists ${id}`);
  return line.split(" | ")[index]!.trim();
}

test("publishing fills report.html's slots with report.md's values (params file, Δ since the last committed report, draft banner)", async () => {
  const slotsOf = (text: string): Record<string, string> => Object.fromEntries([...text.matchAll(/<!--slot:([^>]+?)-->([\s\S]*?)<!--\/slot-->/g)].map((match) => [match[1]!, match[2]!]));
  const asText = (text: string): string => unescape(text.replace(/<[^>]+>/g, "")).replace(/[`*]|^\s*>/g, "").replace(/\s+/g, " ").trim();
  const fromMarkdown = slotsOf(await readFile(join(publishedDir, "report.md"), "utf8"));
  const fromHtml = slotsOf(html);
  assert.deepEqual(Object.keys(fromHtml).sort(), Object.keys(fromMarkdown).sort(), "the page has the markdown's slots");
  assert.match(fromHtml["params-file"]!, /<code>params\.json<\/code>/);
  assert.notEqual(fromHtml["delta-base"], slotsOf(cachedHtml)["delta-base"], "the placeholder was replaced");
  for (const [name, value] of Object.entries(fromMarkdown)) assert.equal(asText(fromHtml[name]!), asText(value), `slot ${name}`);
});

test("report.html sits beside report.md, with the markdown's sections and the same numbers", (t) => {
  t.diagnostic(`report.html: ${(Buffer.byteLength(html) / 1024).toFixed(0)} KiB for ${metrics.length} experiments and ${Object.keys(data.charts).length} charts`);
  assert.equal((html.match(/<h1[ >]/g) ?? []).length, 1, "one h1");
  for (const heading of markdown.split("\n").filter((line) => line.startsWith("## "))) {
    const text = heading.slice(3).replace(/`/g, "");
    assert.ok(unescape(html.replace(/<[^>]+>/g, "")).includes(text), `the page has the markdown's section "${text}"`);
  }
  for (const row of metrics) {
    assert.equal(runCell(row.id, "accuracy"), summaryCell(row.id, 2), `${row.id}: test accuracy as report.md prints it`);
    assert.equal(runCell(row.id, "published"), summaryCell(row.id, 3), `${row.id}: published value`);
    assert.equal(runCell(row.id, "delta"), summaryCell(row.id, 4), `${row.id}: Δ`);
    assert.equal(data.experiments[row.id]!.seeds.length, row.n, `${row.id}: every seed's curves are in the page`);
  }
  const pictured = [...markdown.matchAll(/!\[[^\]]*\]\(charts\/([^)]+)\.svg\)/g)].map((match) => match[1]!);
  assert.ok(pictured.length >= 8, `report.md shows charts (${pictured.length})`);
  for (const name of pictured) {
    assert.ok(data.charts[name], `the page has the spec of ${name}`);
    assert.match(html, new RegExp(`class="chart-slot" data-chart="${name}"`), `the page shows ${name} where the markdown does`);
  }
  const analysisCharts = Object.keys(data.charts).filter((name) => /conv1-(sgd|adam)$/.test(name) && !name.startsWith("confusion-"));
  assert.ok(analysisCharts.length >= 14, `the analyses' charts of both networks are in the page (${analysisCharts.length})`);
  assert.doesNotMatch(html, /<details>\s*<summary>Charts for/, "the analyses are not folded");
  assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=/, "no script or style sheet is loaded from elsewhere");
});

test("the cached page says its provenance is not stamped; the published one carries report.md's stamp", async () => {
  assert.match(cachedHtml, /Provenance not stamped/);
  const commit = execFileSync("git", ["-C", ROOT, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
  assert.doesNotMatch(html, /Provenance not stamped/);
  assert.match(html, new RegExp(`<code>${commit}</code>`), "the commit");
  assert.match(html, /\.lock\.json<\/code> SHA-256 <code>[0-9a-f]{64}<\/code>/, "the lock file's hash");
  const publishedMarkdown = await readFile(join(publishedDir, "report.md"), "utf8");
  const machine = /\| trained on \| (.*) \|/.exec(publishedMarkdown)?.[1];
  assert.ok(machine, "report.md names the machine");
  assert.ok(unescape(html).includes(machine.split("<br>")[0]!), "and so does report.html");
});

test("every file bundled into the page, and every library inlined, is part of the report stage's code fingerprint", async () => {
  const fingerprint = new CodeFingerprinter(ROOT).fingerprint(join(ROOT, "stages", "report.ts"));
  const { inputs } = await pageBundle();
  assert.ok(inputs.some((input) => input.endsWith("page/main.ts")) && inputs.length >= 6, `the bundle: ${inputs.join(", ")}`);
  for (const input of inputs) assert.ok(input in fingerprint.files, `${input} is in the report stage's fingerprint`);
  for (const file of ["node_modules/vega/build/vega.min.js", "node_modules/vega-lite/build/vega-lite.min.js", "node_modules/vega-embed/build/vega-embed.min.js", "presentation/html/style.css", "presentation/html/page/tsconfig.json"]) {
    assert.ok(file in fingerprint.files, `${file} is in the report stage's fingerprint`);
  }
});

test("the stored specs are made interactive without being modified, and every one still compiles and runs", async () => {
  const stored = JSON.parse(await readFile(join(reportDir, "charts", "study-003-accuracy.vl.json"), "utf8")) as JsonObject;
  const copy = structuredClone(stored);
  interactiveSpec(stored, "title");
  assert.deepEqual(stored, copy, "the input spec is left as it was");

  // Vega-Lite drops a legend binding silently when the legend shown is another unit's: check the compiled legends.

  for (const [name, chart] of Object.entries(data.charts)) {
    const compiled = compile(chart.spec as unknown as TopLevelSpec).spec;
    if (JSON.stringify(chart.spec).includes('"bind":"legend"')) assert.ok(legends(compiled).some((legend) => legend.includes('"interactive":true')), `${name}: the legend its selection is bound to is interactive`);
    const view = new vega.View(vega.parse(compiled), { renderer: "none" });
    await view.runAsync();
    view.finalize();
    assert.equal(chart.spec.description, chart.title, `${name}: its title is its description (the drawing's aria-label)`);
  }
  const text = (name: string): string => JSON.stringify(data.charts[name]!.spec);
  for (const name of ["study-001-loss", "study-001-accuracy", "study-003-loss", "study-003-accuracy"]) {
    assert.match(text(name), /"bind":"scales"/, `${name} zooms and pans`);
    assert.match(text(name), /"field":"epoch","type":"quantitative"[^}]*"axis":\{[^}]*"values":\[1,2\]/, `${name}: a continuous epoch axis, ticks on the epochs`);
    assert.match(text(name), /"bind":"legend"/, `${name}: its legend selects`);
  }
  assert.match(text("test-accuracy"), /"bind":"legend"/, "the study legend selects");
  assert.match(text("prediction-grid-conv1-sgd"), /"type":"image"[^}]*"tooltip":null/, "picture tiles have no tooltip (their datum is a position and a PNG)");
});

test("two experiments' params diff and the comparison chart's values", () => {
  const compared = compile(compareCurvesSpec([data.experiments["conv1-sgd"]!, data.experiments.lenet!], data.chartConfig) as unknown as TopLevelSpec).spec;
  assert.ok(legends(compared).some((legend) => legend.includes('"title":"Experiment"') && legend.includes('"interactive":true')), "the comparison's experiment legend selects");
  const { differences, same } = paramsDiff(data.experiments["conv1-sgd"]!.params, data.experiments["conv1-adam"]!.params);
  assert.deepEqual(
    differences.map((difference) => difference.path),
    ["optimizer.lr", "optimizer.name", "reference.accuracy", "reference.note", "title"],
  );
  assert.deepEqual(differences.find((difference) => difference.path === "reference.note"), { path: "reference.note", a: "at least this", b: undefined });
  assert.ok(same >= 10, `the rest is the same (${same})`);
  const lenet = data.experiments.lenet!;
  const values = seedValues([lenet]);
  assert.equal(values.length, 2 * 2 * 2 * 2, "2 seeds × 2 epochs × (training, validation) × (accuracy, loss)");
  const row = metrics.find((entry) => entry.id === "lenet")!;
  const validation = values.find((value) => value.seed === row.seeds[1] && value.epoch === 2 && value.split === "validation" && value.metric === "accuracy")!;
  assert.equal(validation.value, row.runs[1]!.history[1]!.valAccuracy! * 100);
});

const missing = chromiumMissing();
if (missing !== undefined && process.env.CI === "true") {
  test(`the browser tests of report.html need ${CHROMIUM_PACKAGE} under CI=true`, () => assert.fail(missing));
}

describe("report.html in Chromium, opened from disk", { skip: missing }, () => {
  let chromium: Chromium;
  let page: Page;
  let shots = "";
  const errors: string[] = [];
  const requests: string[] = [];
  const shot = async (name: string, target?: { screenshot(options: { path: string }): Promise<unknown> }): Promise<void> => {
    await (target ?? page).screenshot({ path: join(shots, `${name}.png`) });
  };
  const rows = async (): Promise<string[]> => page.locator("#run-table tbody tr:not([hidden])").evaluateAll((all) => all.map((row) => (row as HTMLElement).dataset.id!));
  const noSidewaysScroll = async (when: string): Promise<void> => {
    const [scroll, client] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    assert.ok(scroll <= client, `no horizontal scroll ${when}: the page is ${scroll} px wide in a ${client} px window`);
  };
  const chart = (name: string) => page.locator(`.chart-slot[data-chart="${name}"]`);
  const rendered = async (name: string) => {
    await chart(name).scrollIntoViewIfNeeded();
    await page.waitForSelector(`.chart-slot[data-chart="${name}"][data-state="rendered"]`);
    return chart(name);
  };

  before(async () => {
    shots = await mkdtemp(join(tmpdir(), "report-html-screenshots-"));
    chromium = await launchChromium({ width: 1366, height: 768 });
    page = await chromium.context.newPage();
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(message.text());
    });
    page.on("pageerror", (error) => errors.push(error.message));
    page.on("request", (request) => requests.push(request.url()));
  });

  after(async () => {
    await chromium?.close();
  });

  test("loads from file:// with no console error and no network request", async (t) => {
    const started = performance.now();
    await page.goto(pathToFileURL(join(publishedDir, "report.html")).href);
    await page.waitForSelector("html[data-ready]");
    t.diagnostic(`loaded and ready in ${(performance.now() - started).toFixed(0)} ms; screenshots in ${shots}`);
    await shot("01-top");
    assert.deepEqual(errors, []);
    assert.deepEqual(requests.filter((url) => !url.startsWith("file:") && !url.startsWith("data:")), [], "nothing but the file itself is requested");
    await noSidewaysScroll("on load");
  });

  test("every chart renders with marks, analyses included (each network's tab)", async () => {
    await page.evaluate(() => document.querySelectorAll("details").forEach((details) => (details.open = true)));
    const tabs = page.locator('.network-tabs [role="tab"]');
    assert.equal(await tabs.count(), 2, "one tab per analysed network");
    const seen = new Set<string>();
    for (let index = 0; index < 2; index++) {
      await tabs.nth(index).click();
      for (const name of await page.locator(".chart-slot[data-chart]:visible").evaluateAll((all) => all.map((slot) => (slot as HTMLElement).dataset.chart!))) {
        if (seen.has(name)) continue;
        seen.add(name);
        const slot = await rendered(name);
        const marks = await slot.locator(".role-mark > *").count();
        assert.ok(marks > 0, `${name} has marks (${marks})`);
        assert.equal(await slot.locator(".chart-wrapper").getAttribute("aria-label"), data.charts[name]!.title, `${name}'s drawing is labelled with its title`);
      }
      await shot(`02-network-${index + 1}`, page.locator("#inside-the-networks"));
      await noSidewaysScroll(`with network ${index + 1}'s analyses drawn`);
    }
    assert.deepEqual([...seen].sort(), Object.keys(data.charts).sort(), "every chart in the page's data was drawn");
    assert.deepEqual(errors, []);
  });

  test("hovering a point of a curve shows its exact value in a tooltip", async () => {
    const slot = await rendered("study-003-accuracy");
    const row = metrics.find((entry) => entry.id === "lenet")!;
    const seeds = row.runs.map((run) => run.history.find((epoch) => epoch.epoch === 2)!.valAccuracy! * 100);
    const expected = seeds.reduce((sum, value) => sum + value, 0) / seeds.length;
    await slot.locator('g.mark-symbol path[aria-label*="Epoch: 2;"][aria-label*="lenet"][aria-label*="validation"]').hover();
    const tooltip = page.locator("#vg-tooltip-element.visible");
    await tooltip.waitFor();
    const shown = Object.fromEntries(
      await tooltip.locator("tr").evaluateAll((all) => all.map((row) => [row.querySelector(".key")?.textContent ?? "", row.querySelector(".value")?.textContent ?? ""])),
    );
    assert.equal(shown.experiment, "lenet");
    assert.equal(shown.epoch, "2");
    assert.ok(Math.abs(Number(shown.accuracy) - expected) < 1e-9, `the tooltip says ${shown.accuracy}; the two seeds' mean validation accuracy is ${expected}`);
    await shot("03-tooltip");
  });

  test("a bar's tooltip holds its values only: no empty fields, none of the stack's helpers", async () => {
    const slot = await rendered("test-accuracy");
    await slot.locator("g.mark-rect path").first().hover();
    const tooltip = page.locator("#vg-tooltip-element.visible");
    await tooltip.waitFor();
    const shown = Object.fromEntries(
      await tooltip.locator("tr").evaluateAll((all) => all.map((row) => [row.querySelector(".key")?.textContent ?? "", row.querySelector(".value")?.textContent ?? ""])),
    );
    assert.ok(Object.keys(shown).length > 0, "the tooltip lists the bar's fields");
    assert.deepEqual(Object.entries(shown).filter(([, value]) => value === "null" || value === "undefined"), []);
    assert.deepEqual(Object.keys(shown).filter((key) => /_(start|end)$/.test(key)), []);
    const box = (await tooltip.boundingBox())!;
    assert.ok(box.y >= 0 && box.x >= 0 && box.y + box.height <= 768, `the tooltip fits the screen: ${JSON.stringify(box)}`);
    await page.mouse.move(0, 0);
  });

  test("zoom and pan on a per-epoch chart; its legend selects an experiment", async () => {
    const slot = await rendered("study-001-loss");
    // Where conv1-adam's two epochs are drawn (a point outside the zoomed domain is clipped, not removed).
    const epochs = async (): Promise<number[]> =>
      slot.locator('g.mark-symbol path[aria-label*="conv1-adam"]').evaluateAll((all) => all.map((point) => Number(/translate\(([-\d.]+)/.exec(point.getAttribute("transform") ?? "")?.[1])));
    const [first, second] = await epochs();
    const plot = (await slot.locator("path.background").first().boundingBox())!;
    await page.mouse.move(plot.x + plot.width / 2, plot.y + plot.height / 2);
    await page.mouse.wheel(0, -400);
    await page.waitForTimeout(200);
    const [zoomedFirst, zoomedSecond] = await epochs();
    assert.ok(zoomedSecond! - zoomedFirst! > (second! - first!) * 1.3, `zoomed in: epochs 1 and 2 ${second! - first!} → ${zoomedSecond! - zoomedFirst!} px apart`);
    await page.mouse.down();
    await page.mouse.move(plot.x + plot.width / 2 + 60, plot.y + plot.height / 2, { steps: 4 });
    await page.mouse.up();
    const [pannedFirst] = await epochs();
    assert.ok(Math.abs(pannedFirst! - zoomedFirst! - 60) < 3, `dragged 60 px: the curve moved ${pannedFirst! - zoomedFirst!} px`);
    await page.mouse.dblclick(plot.x + plot.width / 2, plot.y + plot.height / 2);
    await page.waitForTimeout(100);
    assert.deepEqual(await epochs(), [first, second], "a double-click resets the view");

    const accuracy = await rendered("study-001-accuracy");
    const opacity = async (id: string): Promise<string | null> => accuracy.locator(`g.mark-line path[aria-label*="${id}"]`).first().getAttribute("opacity");
    assert.equal(await opacity("conv1-adam"), "1");
    await accuracy.locator("g.role-legend-entry text", { hasText: "conv1-sgd" }).click();
    await page.waitForTimeout(100);
    assert.equal(Number(await opacity("conv1-adam")), 0.15, "the other experiment fades");
    assert.equal(await opacity("conv1-sgd"), "1", "the chosen one stays");
    await shot("04-legend-selection", accuracy);
  });

  test("the filters narrow the run table to the expected rows; headings sort it", async () => {
    await page.locator("#runs").scrollIntoViewIfNeeded();
    assert.deepEqual(await rows(), ["conv1-adam", "conv1-sgd", "lenet"]);
    await page.selectOption('select[data-filter="study"]', "003");
    assert.deepEqual(await rows(), ["lenet"]);
    assert.equal(await page.locator("#run-status").textContent(), "1 of 3 runs shown.");
    await page.selectOption('select[data-filter="study"]', "");
    await page.selectOption('select[data-filter="architecture"]', "conv1");
    assert.deepEqual(await rows(), ["conv1-adam", "conv1-sgd"]);
    await page.selectOption('select[data-filter="verdict"]', "no reference");
    assert.deepEqual(await rows(), ["conv1-adam"], "conv1 and no published value");
    await page.selectOption('select[data-filter="architecture"]', "");
    // Each verdict the report gave (on a subset of MNIST, the others have none to give).
    for (const verdict of new Set(metrics.map((row) => row.verdict))) {
      await page.selectOption('select[data-filter="verdict"]', verdict);
      assert.deepEqual(await rows(), metrics.filter((row) => row.verdict === verdict).map((row) => row.id), `verdict "${verdict}"`);
    }
    await page.getByRole("button", { name: "Show all" }).click();
    await page.waitForFunction(() => document.querySelectorAll("#run-table tbody tr:not([hidden])").length === 3);

    const byAccuracy = [...metrics].sort((a, b) => a.testAccuracy - b.testAccuracy).map((row) => row.id);
    await page.locator('button[data-sort-key="accuracy"]').click();
    assert.deepEqual(await rows(), byAccuracy);
    assert.equal(await page.locator('th[data-key="accuracy"]').getAttribute("aria-sort"), "ascending");
    await page.locator('button[data-sort-key="accuracy"]').click();
    assert.deepEqual(await rows(), [...byAccuracy].reverse());
    await page.locator('button[data-sort-key="id"]').click();
    assert.deepEqual(await rows(), ["conv1-adam", "conv1-sgd", "lenet"]);
  });

  test("ticking two rows shows their params diff and their curves overlaid; a third replaces the oldest", async () => {
    await page.locator('#run-table input[value="conv1-sgd"]').check();
    assert.match((await page.locator("#compare-hint").textContent())!, /conv1-sgd is ticked/);
    await page.locator('#run-table input[value="lenet"]').check();
    await page.waitForSelector('#compare-chart[data-state="rendered"]');
    const diff = Object.fromEntries(
      await page.locator("#compare-diff-table tbody tr").evaluateAll((all) => all.map((row) => [row.querySelector("th")!.textContent, [...row.querySelectorAll("td")].map((cell) => cell.textContent)])),
    );
    assert.deepEqual(diff["model.arch"], ["conv1", "lenet"]);
    assert.deepEqual(diff["optimizer.lr"], ["0.05", "0.01"]);
    assert.deepEqual(diff["seeds"], ["[3]", "[3,4]"]);
    assert.equal(diff["training.epochs"], undefined, "equal settings are not listed");
    // conv1-sgd: 1 seed × 2 epochs × training only (no validation split) × 2 metrics; lenet: 2 × 2 × 2 × 2.
    assert.equal(await page.locator("#compare-chart g.role-mark.mark-symbol path").count(), 4 + 16, "every seed's value is a dot");
    const line = (id: string) => page.locator(`#compare-chart g.mark-line path[aria-label*="${id}"]`).first();
    await page.locator("#compare-chart g.role-legend-entry text", { hasText: "lenet" }).click();
    await page.waitForTimeout(100);
    assert.equal(Number(await line("conv1-sgd").getAttribute("opacity")), 0.15, "the legend picks lenet: conv1-sgd fades");
    assert.equal(await line("lenet").getAttribute("opacity"), "1");
    await page.locator("#compare").scrollIntoViewIfNeeded();
    await shot("05-compare", page.locator("#runs"));
    await noSidewaysScroll("with a comparison shown");

    await page.locator('#run-table input[value="conv1-adam"]').check();
    assert.equal(await page.locator('#run-table input[value="conv1-sgd"]').isChecked(), false, "the oldest tick is undone");
    await page.waitForFunction(() => document.querySelector("#compare-diff-table caption")?.textContent?.startsWith("Settings of lenet and conv1-adam"));
    await page.waitForSelector('#compare-chart[data-state="rendered"]');
  });

  test("controls are reachable from the keyboard; images have alt text", async () => {
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.locator(".skip-link").focus();
    const reached: string[] = [];
    for (let step = 0; step < 40; step++) {
      await page.keyboard.press("Tab");
      reached.push(
        await page.evaluate(() => {
          const element = document.activeElement as HTMLElement | null;
          return element ? `${element.tagName.toLowerCase()}${element.dataset.filter ? `[${element.dataset.filter}]` : ""}${element.dataset.sortKey ? `[sort]` : ""}${(element as HTMLInputElement).type === "checkbox" ? "[checkbox]" : ""}` : "";
        }),
      );
    }
    for (const wanted of ["a", "select[study]", "select[verdict]", "button[sort]", "input[checkbox]"]) assert.ok(reached.includes(wanted), `Tab reaches ${wanted}: ${reached.join(" ")}`);

    const first = page.locator('.network-tabs [role="tab"]').first();
    await first.focus();
    await page.keyboard.press("ArrowRight");
    assert.equal(await page.locator('.network-tabs [role="tab"]').nth(1).getAttribute("aria-selected"), "true", "arrow keys move between the network tabs");
    assert.equal(await page.locator(".network-panel").first().isHidden(), true, "the first network's panel is hidden");
    assert.equal(await page.locator("img:not([alt]), img[alt='']").count(), 0, "every picture has alt text");
  });

  test("no console error, no network request, no horizontal scroll at 1366×768 over the whole session", async () => {
    assert.deepEqual(errors, []);
    assert.deepEqual(requests.filter((url) => !url.startsWith("file:") && !url.startsWith("data:")), []);
    assert.deepEqual(
      requests.filter((url) => url.startsWith("file:")).map((url) => url.split("/").at(-1)),
      ["report.html"],
      "nothing beside the page is read either",
    );
    await noSidewaysScroll("at the end");
    assert.ok((await readdir(shots)).length >= 5, "screenshots were written");
  });
});
