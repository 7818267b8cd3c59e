/**
 * Training curves of one study: every experiment of the study on one chart, so optimizers or
 * variants can be compared epoch by epoch. With several seeds an experiment is drawn as the mean
 * over its seeds (line) inside a band from its lowest to its highest seed. Pure spec builders: data
 * in, Vega-Lite spec out.
 */
import type { TopLevelSpec } from "vega-lite";
import type { EpochMetrics } from "../train.ts";
import { CHART_CONFIG, SPLIT_DASH, VEGA_LITE_SCHEMA, type ColorScale } from "./chart-style.ts";

export interface CurveSeries {
  id: string;
  /** One history per seed. */
  histories: readonly (readonly EpochMetrics[])[];
}

/** Per epoch: the mean over the seeds with a value, and their range. */
function acrossSeeds(histories: CurveSeries["histories"], pick: (record: EpochMetrics) => number | undefined): Array<{ epoch: number; mean: number; low: number; high: number; n: number }> {
  const byEpoch = new Map<number, number[]>();
  for (const history of histories) {
    for (const record of history) {
      const value = pick(record);
      if (value !== undefined) byEpoch.set(record.epoch, [...(byEpoch.get(record.epoch) ?? []), value]);
    }
  }
  return [...byEpoch.entries()]
    .sort(([a], [b]) => a - b)
    .map(([epoch, values]) => ({ epoch, mean: values.reduce((sum, value) => sum + value, 0) / values.length, low: Math.min(...values), high: Math.max(...values), n: values.length }));
}

/** "(mean of n seeds, band: lowest to highest)" when some series has several seeds. */
function seedNote(series: readonly CurveSeries[]): string | null {
  const most = Math.max(0, ...series.map((entry) => entry.histories.length));
  return most > 1 ? "Lines: mean over each experiment's seeds · shaded band: its lowest to highest seed" : null;
}

const finite = (value: number | undefined | null): value is number => typeof value === "number" && Number.isFinite(value);

// Epochs are few (1–10) and whole: an ordinal axis gives one tick per epoch and still joins points
// with lines; a quantitative axis would show 1.5 and break down with a single epoch.
const EPOCH_AXIS = { field: "epoch", type: "ordinal", title: "Epoch", axis: { labelAngle: 0 } } as const;

/**
 * Training vs validation is told apart twice — dashed line and triangle marker — because with a
 * single epoch there is no line to dash, only points.
 */
const SPLIT_SHAPE = { domain: ["training", "validation"], range: ["circle", "triangle-up"] };
const splitEncodings = (showLegend: boolean) =>
  ({
    strokeDash: { field: "split", type: "nominal", title: "Split", scale: SPLIT_DASH, legend: showLegend ? { symbolStrokeWidth: 2, symbolSize: 120 } : null },
    shape: { field: "split", type: "nominal", title: "Split", scale: SPLIT_SHAPE, legend: showLegend ? { symbolStrokeWidth: 2, symbolSize: 120 } : null },
  }) as const;

/**
 * A log axis with readable ticks over the data's own range. Vega would either round the domain out
 * to whole decades (squashing close curves into a line) or, without rounding, label only the ticks
 * of one decade — leaving points above 1 or below 0.1 next to an unlabelled stretch of axis.
 */
export function logAxis(data: readonly number[]): { scale: { type: "log"; domain: [number, number] }; axis: { values: number[]; format: string } } {
  if (data.length === 0) return { scale: { type: "log", domain: [0.01, 10] }, axis: { values: [0.01, 0.1, 1, 10], format: "~g" } };
  const low = Math.min(...data) / 1.08;
  const high = Math.max(...data) * 1.08;
  const ticksWith = (mantissas: readonly number[]): number[] => {
    const ticks: number[] = [];
    for (let exponent = Math.floor(Math.log10(low)); exponent <= Math.ceil(Math.log10(high)); exponent++) {
      for (const mantissa of mantissas) {
        const tick = Number((mantissa * 10 ** exponent).toPrecision(3));
        if (tick >= low && tick <= high) ticks.push(tick);
      }
    }
    return ticks;
  };
  // From fine to coarse: the finest set that still gives at most 8 labels.
  const candidates = [[1, 1.2, 1.4, 1.6, 1.8, 2, 2.5, 3, 4, 5, 6, 7, 8, 9], [1, 1.5, 2, 3, 4, 5, 7], [1, 2, 5], [1]];
  const values = candidates.map(ticksWith).find((ticks) => ticks.length <= 8 && ticks.length >= 2) ?? ticksWith([1, 2, 5]);
  return { scale: { type: "log", domain: [low, high] }, axis: { values, format: "~g" } };
}

export function lossCurvesSpec(study: string, series: readonly CurveSeries[], colors: ColorScale): TopLevelSpec {
  const values: { experiment: string; epoch: number; split: string; loss: number; low: number; high: number }[] = [];
  let dropped = 0;
  for (const { id, histories } of series) {
    for (const [split, pick] of [["training", (record: EpochMetrics) => record.trainLoss], ["validation", (record: EpochMetrics) => record.valLoss]] as const) {
      // A log axis cannot show 0 or a diverged (NaN/∞) loss; say so instead of failing to render.
      const usable = (record: EpochMetrics): number | undefined => {
        const loss = pick(record);
        if (loss === undefined) return undefined;
        if (finite(loss) && loss > 0) return loss;
        dropped++;
        return undefined;
      };
      for (const point of acrossSeeds(histories, usable)) values.push({ experiment: id, epoch: point.epoch, split, loss: point.mean, low: point.low, high: point.high });
    }
  }
  const hasValidation = values.some((value) => value.split === "validation");
  const subtitle = [
    hasValidation
      ? "Training (solid, circles): mean over the epoch's batches while training · validation (dashed, triangles): after the epoch"
      : "Training loss: mean over the epoch's batches while training (no validation split in these experiments)",
    ...(seedNote(series) ? [seedNote(series)!] : []),
    ...(dropped > 0 ? [`${dropped} non-finite or zero value(s) not drawn`] : []),
  ];
  return perEpochLineChart({
    title: `Study ${study}: ${hasValidation ? "training and validation loss" : "training loss"} per epoch`,
    subtitle,
    values,
    y: { field: "loss", type: "quantitative", title: "Cross-entropy loss per image (log scale)", ...logAxis(values.flatMap((value) => [value.low, value.high])) },
    colors,
    showSplit: hasValidation,
  });
}

/**
 * Validation accuracy per epoch; an experiment without a validation split shows its training
 * accuracy instead, dashed vs solid so the two are never mistaken for each other.
 */
export function accuracyCurvesSpec(study: string, series: readonly CurveSeries[], colors: ColorScale): TopLevelSpec {
  const values: { experiment: string; epoch: number; split: string; accuracy: number; low: number; high: number }[] = [];
  let withValidation = 0;
  for (const { id, histories } of series) {
    const hasValidation = histories.some((history) => history.some((record) => finite(record.valAccuracy)));
    if (hasValidation) withValidation++;
    const pick = (record: EpochMetrics): number | undefined => {
      const accuracy = hasValidation ? record.valAccuracy : record.trainAccuracy;
      return finite(accuracy) ? accuracy * 100 : undefined;
    };
    for (const point of acrossSeeds(histories, pick)) {
      values.push({ experiment: id, epoch: point.epoch, split: hasValidation ? "validation" : "training", accuracy: point.mean, low: point.low, high: point.high });
    }
  }
  const what =
    withValidation === series.length
      ? "validation accuracy per epoch"
      : withValidation === 0
        ? "training accuracy per epoch (no validation split)"
        : "validation accuracy per epoch (training accuracy where there is no split)";
  const subtitle = [
    withValidation === series.length
      ? "Measured on the held-out validation split after each epoch"
      : withValidation === 0
        ? "No validation split in these experiments: accuracy on the training images during the epoch"
        : "Validation (dashed, triangles): after the epoch · training (solid, circles): during the epoch, for experiments without a split",
    ...(seedNote(series) ? [seedNote(series)!] : []),
  ];
  return perEpochLineChart({
    title: `Study ${study}: ${what}`,
    subtitle,
    values,
    y: { field: "accuracy", type: "quantitative", title: "Accuracy (%)", scale: { zero: false, nice: true, padding: 12 } },
    colors,
    // The subtitle already says which split when all experiments share one.
    showSplit: withValidation !== 0 && withValidation !== series.length,
  });
}

/**
 * The frame both curve charts share: one coloured line per experiment over epochs, split by marker
 * and dash, over a band (`low`–`high`, drawn only where the seeds differ).
 */
function perEpochLineChart(chart: {
  title: string;
  subtitle: string | string[];
  values: object[];
  y: Record<string, unknown>;
  colors: ColorScale;
  showSplit: boolean;
}): TopLevelSpec {
  return {
    $schema: VEGA_LITE_SCHEMA,
    config: CHART_CONFIG,
    title: { text: chart.title, subtitle: chart.subtitle },
    width: 460,
    height: 280,
    data: { values: chart.values },
    encoding: { x: EPOCH_AXIS },
    layer: [
      {
        transform: [{ filter: "datum.high > datum.low" }],
        mark: { type: "area", opacity: 0.18 },
        // The legend is the lines' (a faded swatch would read as a missing series).
        encoding: { y: { ...chart.y, field: "low" }, y2: { field: "high" }, color: { field: "experiment", type: "nominal", scale: chart.colors, legend: null }, detail: { field: "split", type: "nominal" } },
      },
      {
        mark: { type: "line", point: { filled: true, size: 60 }, strokeWidth: 2 },
        encoding: { y: chart.y, color: { field: "experiment", type: "nominal", title: "Experiment", scale: chart.colors }, ...splitEncodings(chart.showSplit) },
      },
    ],
    // One colour scale, but only the lines' legend.
    resolve: { legend: { color: "independent" } },
  } as TopLevelSpec;
}
