/**
 * "Inside the networks" in report.html: the analyses (layer summary, prediction grid, filters,
 * activation maps, occlusion, adversarial inputs, mistakes) browsed one network at a time — a tab
 * per analysed network, every analysis of it open on its panel, nothing folded. The text is the
 * stages' findings, as report.md prints them; page/networks.ts makes the tabs work (without the
 * script every panel is shown).
 */
import { Marked } from "marked";
import type { AnalysisReportEntry } from "../markdown/analyses-section.ts";
import { attributes, escapeHtml, slug } from "./html.ts";
import { chartSlot } from "./markdown-html.ts";

const inline = new Marked({ gfm: true });
const markdownInline = (text: string): string => inline.parseInline(text) as string;

function entryHtml(entry: AnalysisReportEntry, id: string): string {
  const files = entry.files.map((file) => `<a${attributes({ href: file })}>${escapeHtml(file.split("/").at(-1)!)}</a>`).join(" · ");
  const figures = entry.charts
    .filter((chart) => chart.display !== "link")
    .map((chart) => `<figure class="chart">${chartSlot(chart.name, chart.title)}<figcaption>${escapeHtml(chart.title)}</figcaption></figure>`);
  // Charts too large to show (as report.md, only linked).
  const linked = entry.charts
    .filter((chart) => chart.display === "link")
    .map((chart) => {
      const links = [chart.png ? ["PNG", chart.png] : null, ["SVG", chart.svg], ["Vega-Lite spec", chart.spec]].filter((link): link is string[] => link !== null);
      return `<p class="chart-links">${escapeHtml(chart.title)}: ${links.map(([label, href]) => `<a${attributes({ href })}>${label}</a>`).join(" · ")}</p>`;
    });
  return [
    `<section class="analysis"${attributes({ "aria-labelledby": id })}>`,
    `<h3${attributes({ id })}>${escapeHtml(entry.title)}</h3>`,
    `<p class="method">${markdownInline(entry.method)}</p>`,
    entry.sentences.length > 0 ? `<ul>${entry.sentences.map((sentence) => `<li>${markdownInline(sentence)}</li>`).join("")}</ul>` : "",
    files ? `<p class="data-files">Data: ${files}</p>` : "",
    ...figures,
    ...linked,
    "</section>",
  ].join("\n");
}

export function networksSection(entries: readonly AnalysisReportEntry[]): string {
  if (entries.length === 0) return "";
  const networks = [...new Set(entries.map((entry) => entry.experiment))];
  const tabs = networks.map(
    (network, index) =>
      `<button type="button" role="tab"${attributes({
        id: `network-tab-${slug(network)}`,
        "aria-controls": `network-${slug(network)}`,
        "aria-selected": index === 0 ? "true" : "false",
        tabindex: index === 0 ? "0" : "-1",
        "data-network": network,
      })}>${escapeHtml(network)}</button>`,
  );
  const panels = networks.map((network) => {
    const members = entries.filter((entry) => entry.experiment === network);
    const ids = members.map((entry) => `${slug(network)}-${slug(entry.kind)}`);
    const contents = members.map((entry, index) => `<li><a href="#${ids[index]}">${escapeHtml(entry.title)}</a></li>`).join("");
    return [
      `<div role="tabpanel" class="network-panel"${attributes({ id: `network-${slug(network)}`, "aria-labelledby": `network-tab-${slug(network)}`, "data-network": network })}>`,
      `<nav class="analysis-contents"${attributes({ "aria-label": `Analyses of ${network}` })}><ul>${contents}</ul></nav>`,
      ...members.map((entry, index) => entryHtml(entry, ids[index]!)),
      "</div>",
    ].join("\n");
  });
  return [
    '<section id="inside-the-networks" aria-labelledby="networks-heading">',
    '<h2 id="networks-heading">Inside the networks</h2>',
    `<p>Analyses of ${networks.length} trained network${networks.length === 1 ? "" : "s"}, each a cached pipeline stage (which networks get which analysis, and every setting, ` +
      "is in <code>params.json</code> under <code>analyses</code>); the sentences are generated from each stage's data. Pick a network:</p>",
    `<div class="network-tabs" role="tablist" aria-label="Analysed network">${tabs.join("")}</div>`,
    ...panels,
    "</section>",
  ].join("\n");
}
