/**
 * Training curves of one study: every experiment of the study on one chart, so optimizers or
 * variants can be compared epoch by epoch. Pure spec builders: data in, Vega-Lite spec out.
 */
import type { TopLevelSpec } from "vega-lite";
import type { EpochMetrics } from "../train.ts";
import { CHART_CONFIG, SPLIT_DASH, VEGA_LITE_SCHEMA, type ColorScale } from "./chart-style.ts";

export interface CurveSeries {
  id: string;
  history: readonly EpochMetrics[];
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
  const values: { experiment: string; epoch: number; split: string; loss: number }[] = [];
  let dropped = 0;
  for (const { id, history } of series) {
    for (const record of history) {
      for (const [split, loss] of [["training", record.trainLoss], ["validation", record.valLoss]] as const) {
        if (loss === undefined) continue;
        // A log axis cannot show 0 or a diverged (NaN/∞) loss; say so instead of failing to render.
        if (finite(loss) && loss > 0) values.push({ experiment: id, epoch: record.epoch, split, loss });
        else dropped++;
      }
    }
  }
  const hasValidation = values.some((value) => value.split === "validation");
  const subtitle = [
    hasValidation
      ? "Training (solid, circles): mean over the epoch's batches while training · validation (dashed, triangles): after the epoch"
      : "Training loss: mean over the epoch's batches while training (no validation split in these experiments)",
    ...(dropped > 0 ? [`${dropped} non-finite or zero value(s) not drawn`] : []),
  ];
  return perEpochLineChart({
    title: `Study ${study}: ${hasValidation ? "training and validation loss" : "training loss"} per epoch`,
    subtitle,
    values,
    y: { field: "loss", type: "quantitative", title: "Cross-entropy loss per image (log scale)", ...logAxis(values.map((value) => value.loss)) },
    colors,
    showSplit: hasValidation,
  });
}

/**
 * Validation accuracy per epoch; an experiment without a validation split shows its training
 * accuracy instead, dashed vs solid so the two are never mistaken for each other.
 */
export function accuracyCurvesSpec(study: string, series: readonly CurveSeries[], colors: ColorScale): TopLevelSpec {
  const values: { experiment: string; epoch: number; split: string; accuracy: number }[] = [];
  let withValidation = 0;
  for (const { id, history } of series) {
    const hasValidation = history.some((record) => finite(record.valAccuracy));
    if (hasValidation) withValidation++;
    for (const record of history) {
      const accuracy = hasValidation ? record.valAccuracy : record.trainAccuracy;
      if (finite(accuracy)) values.push({ experiment: id, epoch: record.epoch, split: hasValidation ? "validation" : "training", accuracy: accuracy * 100 });
    }
  }
  const what =
    withValidation === series.length
      ? "validation accuracy per epoch"
      : withValidation === 0
        ? "training accuracy per epoch (no validation split)"
        : "validation accuracy per epoch (training accuracy where there is no split)";
  const subtitle =
    withValidation === series.length
      ? "Measured on the held-out validation split after each epoch"
      : withValidation === 0
        ? "No validation split in these experiments: accuracy on the training images during the epoch"
        : "Validation (dashed, triangles): after the epoch · training (solid, circles): during the epoch, for experiments without a split";
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

/** The frame both curve charts share: one coloured line per experiment over epochs, split by marker and dash. */
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
    mark: { type: "line", point: { filled: true, size: 60 }, strokeWidth: 2 },
    encoding: {
      x: EPOCH_AXIS,
      y: chart.y,
      color: { field: "experiment", type: "nominal", title: "Experiment", scale: chart.colors },
      ...splitEncodings(chart.showSplit),
    },
  } as TopLevelSpec;
}
