/**
 * What report.html carries for its script, as one JSON document inlined in the page
 * (`<script type="application/json" id="report-data">`): Chromium runs no `fetch()` and no module
 * script from file://, so nothing is loaded beside the page. Types only: the Node side
 * (html-report.ts) writes it, the page (page/) reads it.
 */

export const PAGE_DATA_ID = "report-data";

/** A Vega-Lite spec as JSON (interactive-spec.ts). */
export type ChartSpec = { [key: string]: unknown };

export interface PageChart {
  title: string;
  spec: ChartSpec;
}

/** One epoch of one seed's training, as history.json records it (validation and test only when measured). */
export interface EpochPoint {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  testLoss?: number;
  testAccuracy?: number;
}

export interface SeedCurves {
  seed: number;
  /** Final test accuracy of this seed, 0..1 (metrics.json). */
  testAccuracy: number;
  epochs: EpochPoint[];
}

/** A setting's value in the params diff: numbers, strings and booleans as declared; lists as JSON. */
export type ParamValue = string | number | boolean | null;

export interface PageExperiment {
  id: string;
  study: string;
  /** The experiment's declared params, flattened to dotted paths ("optimizer.lr"). */
  params: Record<string, ParamValue>;
  seeds: SeedCurves[];
}

export interface PageData {
  /** Fonts and sizes shared by every chart (presentation/charts/chart-style.ts), for the charts the page builds itself. */
  chartConfig: ChartSpec;
  /** Chart name → its interactive spec: the report's charts and the analyses'. */
  charts: Record<string, PageChart>;
  /** Experiment id → its params and per-epoch curves: what comparing two rows of the run table shows. */
  experiments: Record<string, PageExperiment>;
}
