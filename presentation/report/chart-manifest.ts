/**
 * `charts.json`, written by each chart stage beside its files: the report finds charts through it,
 * so the report stage never imports chart code (nor vega) and is not rerun when only chart code
 * changes but the charts come out identical.
 */
export const CHART_MANIFEST = "charts.json";

export type ChartScope = "experiment" | "study" | "all";

export interface ChartFiles {
  spec: string;
  svg: string;
  png?: string;
}

export interface ChartManifestEntry {
  name: string;
  title: string;
  scope: ChartScope;
  study?: string;
  experiment?: string;
  /** "link": the report links the chart's files instead of showing it inline. */
  display?: "link";
  files: ChartFiles;
}

export interface ChartManifest {
  charts: ChartManifestEntry[];
  renderer: { vega: string; vegaLite: string; font: string };
}
