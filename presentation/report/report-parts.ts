/**
 * What every section of report.md shares: the report's input, the chart links, small cell formats.
 * Each section is a function of a ReportInput returning markdown blocks (report-document.ts puts
 * them in order), so a section can be added in a file of its own.
 */
import { signedPoints, percent } from "./format.ts";
import type { AnalysisReportEntry } from "../markdown/analyses-section.ts";
import type { Commentary } from "./commentary.ts";
import type { SummarySource } from "../markdown/layer-summary.ts";
import { escapeCell, linkTarget } from "./markdown.ts";
import type { ExperimentRow } from "./rows.ts";

/** A chart as the report links it: paths relative to report.md. */
export interface ReportChart {
  name: string;
  title: string;
  scope: "experiment" | "study" | "all";
  study?: string;
  experiment?: string;
  /** "link": linked from the report, not shown inline. */
  display?: "link";
  svg: string;
  png?: string;
  spec: string;
}

export interface TrainingEnvironment {
  id: string;
  backend: string;
  versions: Record<string, string>;
}

export interface ReportInput {
  rows: readonly ExperimentRow[];
  commentary: Commentary;
  summaries: readonly SummarySource[];
  charts: readonly ReportChart[];
  environments: readonly TrainingEnvironment[];
  /** The analysis stages' findings and charts (none when params has no analyses section). */
  analyses?: readonly AnalysisReportEntry[];
  renderer?: { vega: string; vegaLite: string; font: string };
}

export const code = (text: string): string => `\`${text}\``;

/** A chart the report links instead of showing: its title and its files. */
export function chartLink(chart: ReportChart): string {
  const links = [chart.png ? `[PNG](${linkTarget(chart.png)})` : null, `[SVG](${linkTarget(chart.svg)})`, `[Vega-Lite spec](${linkTarget(chart.spec)})`].filter(Boolean).join(" · ");
  return `<sub>${escapeCell(chart.title)}: ${links}</sub>`;
}

export function chartBlock(chart: ReportChart): string {
  const links = [chart.png ? `[PNG](${linkTarget(chart.png)})` : null, `[Vega-Lite spec](${linkTarget(chart.spec)})`].filter(Boolean).join(" · ");
  return `![${escapeCell(chart.title)}](${linkTarget(chart.svg)})\n<sub>${escapeCell(chart.title)} — ${links}</sub>`;
}

export function reference(row: ExperimentRow): string {
  return row.referenceAccuracy === null ? "—" : percent(row.referenceAccuracy);
}

export function delta(row: ExperimentRow): string {
  return row.deltaPoints === null ? "—" : signedPoints(row.deltaPoints);
}

