/**
 * report.html: the interactive companion of report.md, written by the report stage beside it from
 * the same data — the markdown's text (rendered once by report-document.ts, converted here) with
 * live charts, a run table to sort, filter and compare, and the analyses per network. One file,
 * opened straight from disk: scripts, styles, chart specs and data are all inlined (no network,
 * no fetch; links to charts/ and analyses/ point beside it, like the markdown's).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { CHART_CONFIG } from "../charts/chart-style.ts";
import type { ReportChart, ReportInput } from "../report/report-parts.ts";
import { renderReport } from "../markdown/report-document.ts";
import type { ExperimentResults } from "../report/results.ts";
import { escapeHtml, jsonForScript } from "./html.ts";
import { interactiveSpec, type JsonObject } from "./interactive-spec.ts";
import { markdownPage, type HtmlSection } from "./markdown-html.ts";
import { networksSection } from "./networks.ts";
import { pageBundle, styleSheet, vendorScripts } from "./page-assets.ts";
import { PAGE_DATA_ID, type PageData, type PageExperiment } from "./page-data.ts";
import { flattenParams } from "./params-diff.ts";
import { provenancePlaceholderHtml } from "./provenance-html.ts";
import { runTableSection } from "./run-table.ts";

export interface HtmlReportInput {
  /** Exactly what report.md was rendered from. */
  report: ReportInput;
  /** Every experiment's results, every seed: the per-epoch curves and declared params the comparison shows. */
  experiments: readonly ExperimentResults[];
  /** The report's folder: the chart specs are read from the paths `report.charts` names, relative to it. */
  outDir: string;
}

/** Where the page's bytes go, for the size the report states. */
export interface HtmlReportSize {
  total: number;
  libraries: number;
  script: number;
  charts: number;
  data: number;
}

function experimentData(result: ExperimentResults): PageExperiment {
  const { id, study, title, dataset, reference, model, optimizer, training } = result.meta;
  return {
    id,
    study,
    params: flattenParams({ title, study, dataset, reference, model, optimizer, training, seeds: result.seeds.map((seed) => seed.seed) }),
    seeds: result.seeds.map((seed) => ({ seed: seed.seed, testAccuracy: seed.metrics.accuracy, epochs: seed.trained.history })),
  };
}

async function chartSpecs(charts: readonly ReportChart[], outDir: string): Promise<PageData["charts"]> {
  const entries = await Promise.all(
    charts.map(async (chart) => {
      const spec = JSON.parse(await readFile(join(outDir, chart.spec), "utf8")) as JsonObject;
      return [chart.name, { title: chart.title, spec: interactiveSpec(spec, chart.title) }] as const;
    }),
  );
  return Object.fromEntries(entries);
}

function navigation(sections: ReadonlyArray<{ id: string; heading: string }>): string {
  const links = sections.map((section) => `<li><a href="#${section.id}">${escapeHtml(section.heading)}</a></li>`).join("");
  return `<nav class="contents" aria-label="Sections"><ul>${links}</ul></nav>`;
}

/** A markdown section; its id is its heading's (what the contents link to). */
const sectionHtml = (section: HtmlSection): string =>
  section.heading === null ? `<section class="introduction">\n${section.html}</section>` : `<section aria-labelledby="${section.id}">\n${section.html}</section>`;

export async function renderHtmlReport(input: HtmlReportInput): Promise<{ html: string; size: HtmlReportSize }> {
  const { report, outDir } = input;
  const analyses = report.analyses ?? [];
  // A chart the report only links (too large to show, e.g. every kernel of a deep layer) stays out of the page too.
  const allCharts = [...report.charts, ...analyses.flatMap((entry) => entry.charts)].filter((chart) => chart.display !== "link");
  // The analyses get their own browser below; the markdown's folded section is left out.
  const markdown = renderReport({ ...report, analyses: [] });
  const usedIds = new Set(["runs", "runs-heading", "compare", "compare-heading", "inside-the-networks", "networks-heading", "main", "introduction"]);
  const page = markdownPage(markdown, new Map(report.charts.map((chart) => [chart.svg, { name: chart.name, title: chart.title }])), usedIds);

  const data: PageData = {
    chartConfig: CHART_CONFIG as JsonObject,
    charts: await chartSpecs(allCharts, outDir),
    experiments: Object.fromEntries(input.experiments.map((result) => [result.meta.id, experimentData(result)])),
  };
  const [vendor, bundle, style] = await Promise.all([vendorScripts(), pageBundle(), styleSheet()]);

  const introduction = page.sections.filter((section) => section.heading === null);
  const sections = page.sections.filter((section) => section.heading !== null);
  // The analyses go after the study sections, before the environment and file list (or last).
  const environment = sections.findIndex((section) => section.heading === "Environment");
  const split = environment < 0 ? sections.length : environment;
  const networks = networksSection(analyses);
  const body = [
    ...introduction.map(sectionHtml),
    runTableSection(report.rows),
    ...sections.slice(0, split).map(sectionHtml),
    networks,
    ...sections.slice(split).map(sectionHtml),
  ];
  const contents = [
    { id: "runs", heading: "Runs" },
    ...sections.slice(0, split).map((section) => ({ id: section.id, heading: section.heading! })),
    ...(networks ? [{ id: "inside-the-networks", heading: "Inside the networks" }] : []),
    ...sections.slice(split).map((section) => ({ id: section.id, heading: section.heading! })),
  ];
  const dataJson = jsonForScript(data);
  const html = [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(page.title)}</title>`,
    `<style>\n${style}</style>`,
    "</head>",
    "<body>",
    '<a class="skip-link" href="#main">Skip to the report</a>',
    "<header>",
    `<h1>${escapeHtml(page.title)}</h1>`,
    navigation(contents),
    "</header>",
    '<main id="main">',
    `<aside class="provenance" aria-label="Provenance">\n${provenancePlaceholderHtml()}\n</aside>`,
    ...body.filter((part) => part !== ""),
    "</main>",
    vendor.html,
    `<script type="application/json" id="${PAGE_DATA_ID}">${dataJson}</script>`,
    `<script>${bundle.code.replace(/<\/(script)/gi, "<\\/$1")}</script>`,
    "</body>",
    "</html>",
    "",
  ].join("\n");
  const chartBytes = Buffer.byteLength(JSON.stringify(data.charts));
  const libraries = Object.values(vendor.bytes).reduce((sum, bytes) => sum + bytes, 0);
  return {
    html,
    size: { total: Buffer.byteLength(html), libraries, script: Buffer.byteLength(bundle.code), charts: chartBytes, data: Buffer.byteLength(dataJson) - chartBytes },
  };
}
