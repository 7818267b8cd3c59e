/**
 * Charts across experiments: test accuracy against the published value (bars, and a dot plot of
 * every seed per study), training cost, and per-class F1. Pure spec builders; rows are prepared by the caller (chart-sets.ts).
 */
import type { TopLevelSpec } from "vega-lite";
import { CHART_CONFIG, VEGA_LITE_SCHEMA, type ColorScale } from "./chart-style.ts";
import { formatSeconds, percent, signedPoints } from "../report/format.ts";


export interface AccuracyRow {
  id: string;
  study: string;
  /** Mean over the seeds, 0..1. */
  accuracy: number;
  /** Every seed's accuracy (one value for one seed). */
  seeds: ReadonlyArray<{ seed: number; accuracy: number }>;
  /** 95% prediction interval for one more run (null for one seed), 0..1. */
  prediction: { low: number; high: number } | null;
  /** 0..1, null when the study printed none. */
  reference: number | null;
  /** A threshold to reach (004's 99.5%), 0..1: drawn as a target, never as a published value. */
  target?: number | null;
  /** Trained or tested on a subset of MNIST: not compared with the studies' full-data values. */
  subset?: boolean;
}

export interface AccuracyChartOptions {
  title: string;
  /** Colour the bars by experiment (one study) or by study (all experiments). */
  colorBy: "experiment" | "study";
  colors: ColorScale;
}

const nLabel = (row: AccuracyRow): string => `n = ${row.seeds.length}`;

/** The right panel's range: differences beyond it are drawn at its edge and labelled with their value. */
export const DELTA_CLIP_POINTS = 3;

const clip = (points: number): number => Math.max(-DELTA_CLIP_POINTS, Math.min(DELTA_CLIP_POINTS, points));

/**
 * Left: horizontal bars of the mean accuracy sorted, from 0 to 100% (honest lengths), a black tick
 * at the published value (a grey one at a target), the numbers spelled out. Right: mean − published
 * on ±3 points with our 95% prediction interval for one more run around it (none for a single run) —
 * near 99% the left panel cannot show a 0.3-point gap; a larger difference is drawn at the panel's
 * edge as an arrowhead with its value beside it, so one far-off row does not squash the others.
 */
export function testAccuracySpec(rows: readonly AccuracyRow[], options: AccuracyChartOptions): TopLevelSpec {
  const sorted = [...rows].sort((a, b) => b.accuracy - a.accuracy || (a.id < b.id ? -1 : 1));
  const values = sorted.map((row) => {
    const delta = row.reference === null ? null : (row.accuracy - row.reference) * 100;
    const low = row.reference === null || row.prediction === null ? null : (row.prediction.low - row.reference) * 100;
    const high = row.reference === null || row.prediction === null ? null : (row.prediction.high - row.reference) * 100;
    const clipped = delta !== null && Math.abs(delta) > DELTA_CLIP_POINTS;
    const target = row.target ?? null;
    return {
      experiment: row.id,
      study: row.study,
      accuracy: row.accuracy * 100,
      reference: row.reference === null ? null : row.reference * 100,
      target: target === null ? null : target * 100,
      delta,
      shownDelta: delta === null ? null : clip(delta),
      // The interval is ours, moved by the published value: the zero line inside it means consistent.
      low: low === null ? null : clip(low),
      high: high === null ? null : clip(high),
      clipped,
      direction: delta !== null && delta > 0 ? "right" : "left",
      clipLabel: clipped ? signedPoints(delta!) : null,
      label:
        row.reference !== null
          ? `${percent(row.accuracy)} vs ${percent(row.reference)} (${signedPoints(delta!)}; ${nLabel(row)})`
          : target !== null
            ? `${percent(row.accuracy)} (${nLabel(row)}; target ${percent(target, 1)}, not a published value)`
            : row.subset
              ? `${percent(row.accuracy)} (${nLabel(row)}; subset run, not compared)`
              : `${percent(row.accuracy)} (${nLabel(row)}; no published value)`,
    };
  });
  const y = { field: "experiment", type: "nominal", title: null, sort: sorted.map((row) => row.id) } as const;
  const colorField = options.colorBy === "study" ? "study" : "experiment";
  const color = {
    field: colorField,
    type: "nominal",
    title: options.colorBy === "study" ? "Study" : "Experiment",
    scale: options.colors,
    // With one study, the bar's own axis label already names the experiment. Below the chart: on
    // the right it would sit on top of the labels. Square swatches: the marks are bars and squares.
    legend: options.colorBy === "study" ? { orient: "bottom", direction: "horizontal", symbolType: "square" } : null,
  } as const;
  const withReference = { filter: "datum.reference != null" };
  const deltaX = { type: "quantitative", title: `Ours − published (points; beyond ±${DELTA_CLIP_POINTS} drawn at the edge)`, scale: { domain: [-DELTA_CLIP_POINTS, DELTA_CLIP_POINTS], clamp: true } } as const;
  return {
    $schema: VEGA_LITE_SCHEMA,
    config: CHART_CONFIG,
    title: {
      text: options.title,
      subtitle: [
        "Left: our mean test accuracy over the seeds (bars, sorted), the study's published value (black tick) or a target (grey tick) · labels: ours vs published (difference in points; seeds)",
        `Right: our mean − published in points (squares); grey bar: our 95% prediction interval for one more run (a single run has none); zero inside it: consistent; beyond ±${DELTA_CLIP_POINTS} points: arrowhead at the edge with the value`,
      ],
    },
    data: { values },
    hconcat: [
      {
        width: 360,
        height: { step: 22 },
        encoding: { y },
        layer: [
          {
            mark: { type: "bar", height: { band: 0.7 } },
            encoding: { x: { field: "accuracy", type: "quantitative", title: "Test accuracy, mean (%)", scale: { domain: [0, 100] } }, color },
          },
          {
            transform: [withReference],
            mark: { type: "tick", color: "black", thickness: 3, size: 20 },
            encoding: { x: { field: "reference", type: "quantitative" } },
          },
          {
            transform: [{ filter: "datum.target != null" }],
            mark: { type: "tick", color: "#888888", thickness: 3, size: 20 },
            encoding: { x: { field: "target", type: "quantitative" } },
          },
          {
            mark: { type: "text", align: "left", dx: 8, fontSize: 11 },
            encoding: { x: { datum: 100 }, text: { field: "label" } },
          },
        ],
      },
      {
        width: 220,
        height: { step: 22 },
        encoding: { y: { ...y, axis: null } },
        layer: [
          {
            transform: [withReference, { filter: "datum.low != null" }],
            mark: { type: "rule", strokeWidth: 9, color: "#dddddd" },
            encoding: { x: { field: "low", ...deltaX }, x2: { field: "high" } },
          },
          { mark: { type: "rule", color: "#333", strokeWidth: 1.5 }, encoding: { x: { datum: 0, ...deltaX } } },
          {
            transform: [withReference, { filter: "!datum.clipped" }],
            mark: { type: "point", shape: "square", filled: true, size: 70, opacity: 1 },
            encoding: { x: { field: "shownDelta", ...deltaX }, color },
          },
          {
            transform: [withReference, { filter: "datum.clipped && datum.direction == 'right'" }],
            mark: { type: "point", shape: "triangle-right", filled: true, size: 110, opacity: 1 },
            encoding: { x: { field: "shownDelta", ...deltaX }, color },
          },
          {
            transform: [withReference, { filter: "datum.clipped && datum.direction == 'left'" }],
            mark: { type: "point", shape: "triangle-left", filled: true, size: 110, opacity: 1 },
            encoding: { x: { field: "shownDelta", ...deltaX }, color },
          },
          {
            transform: [withReference, { filter: "datum.clipped && datum.direction == 'right'" }],
            mark: { type: "text", align: "right", dx: -9, fontSize: 10 },
            encoding: { x: { field: "shownDelta", ...deltaX }, text: { field: "clipLabel" } },
          },
          {
            transform: [withReference, { filter: "datum.clipped && datum.direction == 'left'" }],
            mark: { type: "text", align: "left", dx: 9, fontSize: 10 },
            encoding: { x: { field: "shownDelta", ...deltaX }, text: { field: "clipLabel" } },
          },
        ],
      },
    ],
    resolve: { scale: { x: "independent" } },
  } as TopLevelSpec;
}

/**
 * One study's rows seed by seed, on the scale of the difference to the published value (points),
 * where differences of tenths of a point are visible: every seed (open circle), the mean (black
 * tick), our 95% prediction interval for one more run (grey bar) and the published value (the zero
 * line). Rows without a published value have no zero to stand on and are named in the subtitle.
 */
export function seedDotPlotSpec(study: string, rows: readonly AccuracyRow[], colors: ColorScale): TopLevelSpec {
  const placed = rows.filter((row) => row.reference !== null);
  const left = rows.filter((row) => row.reference === null);
  const order = placed.map((row) => row.id);
  const points = (value: number, reference: number): number => (value - reference) * 100;
  const seeds = placed.flatMap((row) => row.seeds.map((entry) => ({ experiment: row.id, seed: entry.seed, delta: points(entry.accuracy, row.reference!), accuracy: entry.accuracy * 100 })));
  const summaries = placed.map((row) => ({
    experiment: row.id,
    mean: points(row.accuracy, row.reference!),
    low: row.prediction === null ? null : points(row.prediction.low, row.reference!),
    high: row.prediction === null ? null : points(row.prediction.high, row.reference!),
    label: `${percent(row.accuracy)} vs ${percent(row.reference!)} (${nLabel(row)})`,
  }));
  const y = { field: "experiment", type: "nominal", title: null, sort: order } as const;
  const x = { type: "quantitative", title: "Test accuracy − published (points)" } as const;
  return {
    $schema: VEGA_LITE_SCHEMA,
    config: CHART_CONFIG,
    title: {
      text: `Study ${study}: every seed against the published value`,
      subtitle: [
        "Circles: each seed · black tick: the mean · grey bar: 95% prediction interval for one more run · 0: the published value",
        ...(left.length > 0 ? [`Not shown (no published value): ${left.map((row) => `${row.id} ${percent(row.accuracy)} (${nLabel(row)})`).join(", ")}`] : []),
      ],
    },
    width: 420,
    height: { step: 26 },
    layer: [
      { data: { values: summaries }, transform: [{ filter: "datum.low != null" }], mark: { type: "rule", strokeWidth: 10, color: "#dddddd" }, encoding: { y, x: { field: "low", ...x }, x2: { field: "high" } } },
      { data: { values: [{ zero: 0 }] }, mark: { type: "rule", color: "#333", strokeWidth: 1.5 }, encoding: { x: { field: "zero", type: "quantitative" } } },
      {
        data: { values: seeds },
        mark: { type: "point", filled: false, size: 55, strokeWidth: 1.8, opacity: 0.9 },
        encoding: {
          y,
          x: { field: "delta", ...x },
          color: { field: "experiment", type: "nominal", title: "Experiment", scale: colors, legend: null },
          tooltip: [{ field: "experiment" }, { field: "seed" }, { field: "accuracy", format: ".2f", title: "accuracy (%)" }],
        },
      },
      { data: { values: summaries }, mark: { type: "tick", color: "black", thickness: 2.5, size: 18 }, encoding: { y, x: { field: "mean", ...x } } },
      { data: { values: summaries }, mark: { type: "text", align: "left", dx: 6, dy: -9, fontSize: 10, color: "#555" }, encoding: { y, x: { field: "mean", ...x }, text: { field: "label" } } },
    ],
  } as TopLevelSpec;
}

export interface CostRow {
  id: string;
  study: string;
  seconds: number;
  imagesPerSecond: number;
  epochs: number | null;
  /** Pipeline stages running when the training started, itself included (null: not recorded). */
  concurrentStages: number | null;
}

/**
 * Wall-clock training time and throughput side by side, one row per experiment in report order.
 * Each time label names how many stages shared the machine, so unlike runs are not compared blindly.
 */
export function trainingCostSpec(rows: readonly CostRow[], colors: ColorScale, backend: string): TopLevelSpec {
  const beside = (row: CostRow): string => (row.concurrentStages === null ? "" : `, ${row.concurrentStages} at once`);
  const values = rows.map((row) => ({
    experiment: row.id,
    study: row.study,
    seconds: row.seconds,
    imagesPerSecond: row.imagesPerSecond,
    secondsLabel: `${formatSeconds(row.seconds)}${row.epochs === null ? "" : ` (${row.epochs} ep.${beside(row)})`}`,
    throughputLabel: `${Math.round(row.imagesPerSecond).toLocaleString("en-US")}`,
  }));
  const y = { field: "experiment", type: "nominal", title: null, sort: rows.map((row) => row.id) } as const;
  const color = { field: "study", type: "nominal", title: "Study", scale: colors, legend: { symbolType: "square" } } as const;
  const panel = (field: "seconds" | "imagesPerSecond", title: string, label: string, showY: boolean) => ({
    width: 260,
    height: { step: 22 },
    encoding: { y: showY ? y : { ...y, axis: null } },
    layer: [
      { mark: { type: "bar", height: { band: 0.7 } }, encoding: { x: { field, type: "quantitative", title }, color } },
      { mark: { type: "text", align: "left", dx: 4, fontSize: 10 }, encoding: { x: { field, type: "quantitative" }, text: { field: label } } },
    ],
  });
  return {
    $schema: VEGA_LITE_SCHEMA,
    config: CHART_CONFIG,
    title: {
      text: "Training time and throughput per experiment",
      subtitle: [
        `Backend: ${backend} · time: all epochs, validation and per-epoch test passes included · throughput: training images per second, mean over epochs`,
        `"at once": pipeline stages running on the machine when the training started, itself included; compare times at equal counts`,
      ],
    },
    data: { values },
    hconcat: [panel("seconds", "Training time (s)", "secondsLabel", true), panel("imagesPerSecond", "Throughput (images/s)", "throughputLabel", false)],
    // Both panels list the same experiments in the same order; their x scales measure different things.
    resolve: { scale: { x: "independent" } },
  } as TopLevelSpec;
}

export interface ClassF1Row {
  id: string;
  /** F1 per digit 0..9, each 0..1. */
  f1: readonly number[];
}

/**
 * Experiments × digits heatmap of F1. The colour scale starts at a round value just below most of
 * the data (and clamps what is lower), otherwise one chance-level experiment would flatten every
 * other difference into the same dark blue; the numbers in the cells stay exact.
 */
export function perClassF1Spec(rows: readonly ClassF1Row[]): TopLevelSpec {
  const values = rows.flatMap((row) => row.f1.map((f1, digit) => ({ experiment: row.id, digit, f1: f1 * 100 })));
  const sorted = values.map((value) => value.f1).sort((a, b) => a - b);
  const tenth = sorted[Math.floor(sorted.length * 0.1)] ?? 0;
  const low = Math.max(0, Math.min(90, Math.floor(tenth / 5) * 5));
  const middle = (low + 100) / 2;
  return {
    $schema: VEGA_LITE_SCHEMA,
    config: CHART_CONFIG,
    title: {
      text: "Per-class F1 on the test set",
      subtitle: `F1 (%) per digit and experiment · colour scale from ${low}%${low > 0 ? " (lower values share the lightest colour)" : ""} to 100%`,
    },
    data: { values },
    width: { step: 40 },
    height: { step: 22 },
    encoding: {
      x: { field: "digit", type: "ordinal", title: "Digit (class)", axis: { labelAngle: 0, orient: "top" } },
      y: { field: "experiment", type: "nominal", title: null, sort: rows.map((row) => row.id) },
    },
    layer: [
      {
        mark: { type: "rect" },
        encoding: {
          color: { field: "f1", type: "quantitative", title: "F1 (%)", scale: { scheme: "blues", domain: [low, 100], clamp: true } },
        },
      },
      {
        mark: { type: "text", fontSize: 10 },
        encoding: {
          text: { field: "f1", type: "quantitative", format: ".1f" },
          color: { condition: { test: `datum.f1 >= ${middle}`, value: "white" }, value: "black" },
        },
      },
    ],
  };
}
