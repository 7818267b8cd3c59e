/**
 * The report's "Inside the networks" section: one subsection per analysis (layer summary,
 * predictions, filters, ...) in pipeline order, each with its method once and, per analysed
 * experiment, the generated findings and the charts. The first experiment's charts are shown
 * open; the others fold, so the page stays readable with five analysed networks.
 */
import { chartLink, type ReportChart } from "../report/report-parts.ts";

export interface AnalysisReportEntry {
  kind: string;
  experiment: string;
  title: string;
  method: string;
  sentences: string[];
  charts: ReportChart[];
  /** Data files copied beside the report, relative to report.md. */
  files: string[];
}

export function analysesSection(entries: readonly AnalysisReportEntry[], chartBlock: (chart: ReportChart) => string): string[] {
  if (entries.length === 0) return [];
  const kinds = [...new Set(entries.map((entry) => entry.kind))];
  const experiments = [...new Set(entries.map((entry) => entry.experiment))];
  const blocks: string[] = [
    "## Inside the networks",
    `Analyses of ${experiments.length} trained network${experiments.length === 1 ? "" : "s"} (${experiments.map((id) => `\`${id}\``).join(", ")}), each a cached pipeline stage; ` +
      "which networks get which analysis, and every setting, is in `params.json` under `analyses`. Sentences are generated from each stage's data.",
  ];
  for (const kind of kinds) {
    const members = entries.filter((entry) => entry.kind === kind);
    blocks.push(`### ${members[0]!.title}`, members[0]!.method);
    members.forEach((entry, index) => {
      const files = entry.files.map((file) => `[${file.split("/").at(-1)}](${file})`).join(" · ");
      blocks.push(`**\`${entry.experiment}\`**${files ? ` (data: ${files})` : ""}`, entry.sentences.map((sentence) => `- ${sentence}`).join("\n"));
      if (entry.charts.length === 0) return;
      // Charts too large to show inline (every kernel of a deep layer) are linked after the others.
      const charts = [...entry.charts.filter((chart) => chart.display !== "link").map(chartBlock), ...entry.charts.filter((chart) => chart.display === "link").map(chartLink)].join("\n\n");
      blocks.push(index === 0 ? charts : ["<details>", `<summary>Charts for ${entry.experiment} (${entry.charts.length})</summary>`, "", charts, "", "</details>"].join("\n"));
    });
  }
  return blocks;
}
