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

/** What a chart is and where it belongs: shared by its definition (with a spec) and its manifest entry (with files). */
export interface ChartDescription {
  /** File stem, unique within a report: `<name>.vl.json`, `<name>.svg`, `<name>.png`. */
  name: string;
  /** Alt text and caption. */
  title: string;
  scope: ChartScope;
  study?: string;
  experiment?: string;
  /** "link": too large to show inline (e.g. every kernel of a deep layer); the report links its files. */
  display?: "link";
}

export interface ChartManifestEntry extends ChartDescription {
  files: ChartFiles;
}

export interface ChartManifest {
  charts: ChartManifestEntry[];
  renderer: { vega: string; vegaLite: string; font: string };
}
