/**
 * Two experiments' per-epoch curves overlaid, the chart the run table shows for two selected rows:
 * accuracy and loss side by side, for each experiment and split (training, validation, test where
 * measured) the mean over its seeds (line), the band from its lowest to its highest seed, and every
 * seed as a dot with its exact value in the tooltip. Zoom and pan on both panels; the legend selects
 * an experiment. Built in the page (the pair is chosen there), shared with the tests.
 */
import type { ChartSpec, EpochPoint, SeedCurves } from "./page-data.ts";

export interface CompareRun {
  id: string;
  seeds: readonly SeedCurves[];
}

type Metric = "accuracy" | "loss";
type Split = "training" | "validation" | "test";

const PICKS: ReadonlyArray<{ metric: Metric; split: Split; value: (point: EpochPoint) => number | undefined }> = [
  { metric: "accuracy", split: "training", value: (point) => point.trainAccuracy },
  { metric: "accuracy", split: "validation", value: (point) => point.valAccuracy },
  { metric: "accuracy", split: "test", value: (point) => point.testAccuracy },
  { metric: "loss", split: "training", value: (point) => point.trainLoss },
  { metric: "loss", split: "validation", value: (point) => point.valLoss },
  { metric: "loss", split: "test", value: (point) => point.testLoss },
];

/** Two colours far apart in Tableau 10 (the charts' palette): blue and orange. */
const PAIR_COLORS = ["#4e79a7", "#f28e2b"];
const SPLITS: ReadonlyArray<{ split: Split; dash: number[]; shape: string }> = [
  { split: "training", dash: [1, 0], shape: "circle" },
  { split: "validation", dash: [6, 3], shape: "triangle-up" },
  { split: "test", dash: [2, 2], shape: "square" },
];

export interface SeedValue {
  experiment: string;
  seed: number;
  metric: Metric;
  split: Split;
  epoch: number;
  value: number;
}

export interface EpochSummary {
  experiment: string;
  metric: Metric;
  split: Split;
  epoch: number;
  mean: number;
  low: number;
  high: number;
  n: number;
}

/** Every seed's value per metric, split and epoch (accuracy in %); values not measured or not finite are left out. */
export function seedValues(runs: readonly CompareRun[]): SeedValue[] {
  const values: SeedValue[] = [];
  for (const run of runs) {
    for (const seed of run.seeds) {
      for (const point of seed.epochs) {
        for (const pick of PICKS) {
          const value = pick.value(point);
          if (typeof value !== "number" || !Number.isFinite(value)) continue;
          values.push({ experiment: run.id, seed: seed.seed, metric: pick.metric, split: pick.split, epoch: point.epoch, value: pick.metric === "accuracy" ? value * 100 : value });
        }
      }
    }
  }
  return values;
}

/** Mean, lowest and highest over the seeds, per experiment, metric, split and epoch. */
export function epochSummaries(values: readonly SeedValue[]): EpochSummary[] {
  const groups = new Map<string, SeedValue[]>();
  for (const value of values) {
    const key = JSON.stringify([value.experiment, value.metric, value.split, value.epoch]);
    groups.set(key, [...(groups.get(key) ?? []), value]);
  }
  return [...groups.values()].map((group) => {
    const numbers = group.map((entry) => entry.value);
    const { experiment, metric, split, epoch } = group[0]!;
    return { experiment, metric, split, epoch, mean: numbers.reduce((sum, value) => sum + value, 0) / numbers.length, low: Math.min(...numbers), high: Math.max(...numbers), n: numbers.length };
  });
}

export function compareCurvesSpec(runs: readonly [CompareRun, CompareRun], config: ChartSpec): ChartSpec {
  const seeds = seedValues(runs);
  const summaries = epochSummaries(seeds);
  const ids = runs.map((run) => run.id);
  const experimentColor = { field: "experiment", type: "nominal", title: "Experiment", scale: { domain: ids, range: PAIR_COLORS } };
  // Only the splits drawn, so the legend names no split that is not there.
  const splits = SPLITS.filter((entry) => seeds.some((value) => value.split === entry.split));
  const dashes = { domain: splits.map((entry) => entry.split), range: splits.map((entry) => entry.dash) };
  const shapes = { domain: splits.map((entry) => entry.split), range: splits.map((entry) => entry.shape) };
  const faded = { condition: { param: "compare_pick", value: 1 }, value: 0.15 };
  // Ticks on the epochs themselves (Vega's tickMinStep alone still puts one at 1.5).
  const epochs = [...new Set(seeds.map((value) => value.epoch))].sort((a, b) => a - b);
  const x = { field: "epoch", type: "quantitative", title: "Epoch", axis: { values: epochs, format: "d" }, scale: { zero: false, nice: false, padding: 14 } };
  const panel = (metric: Metric, title: string) => {
    const only = { filter: { field: "metric", equal: metric } };
    // The experiments' legend once: the accuracy panel's lines', where the legend selection is
    // bound (Vega-Lite binds a selection to the legend of the very unit that defines it; the band
    // and dots, and the loss panel, draw none).
    const color = { ...experimentColor, legend: null };
    const lineColor = metric === "accuracy" ? experimentColor : color;
    return {
      width: 360,
      height: 240,
      title: { text: metric === "accuracy" ? "Accuracy per epoch" : "Loss per epoch", fontSize: 13 },
      layer: [
        {
          data: { values: summaries },
          transform: [only, { filter: "datum.high > datum.low" }],
          mark: { type: "area", opacity: 0.18, tooltip: null },
          encoding: { x, y: { field: "low", type: "quantitative", title }, y2: { field: "high" }, color, detail: { field: "split" }, opacity: { ...faded, condition: { ...faded.condition, value: 0.18 }, value: 0.03 } },
        },
        {
          data: { values: summaries },
          transform: [only],
          mark: { type: "line", strokeWidth: 2, tooltip: null },
          encoding: {
            x,
            y: { field: "mean", type: "quantitative", title, scale: { zero: false } },
            color: lineColor,
            strokeDash: { field: "split", type: "nominal", title: "Split", scale: dashes },
            opacity: faded,
          },
          params: [
            { name: `zoom_${metric}`, select: { type: "interval", encodings: ["x", "y"] }, bind: "scales" },
            ...(metric === "accuracy" ? [{ name: "compare_pick", select: { type: "point", fields: ["experiment"] }, bind: "legend" }] : []),
          ],
        },
        {
          data: { values: seeds },
          transform: [only],
          mark: { type: "point", filled: true, size: 45 },
          encoding: {
            x,
            y: { field: "value", type: "quantitative", title },
            color,
            shape: { field: "split", type: "nominal", title: "Split", scale: shapes },
            opacity: faded,
            tooltip: [
              { field: "experiment", title: "experiment" },
              { field: "seed", title: "seed" },
              { field: "split", title: "split" },
              { field: "epoch", title: "epoch" },
              { field: "value", title: metric === "accuracy" ? "accuracy (%)" : "loss" },
            ],
          },
        },
      ],
      resolve: { legend: { color: "independent" } },
    };
  };
  const most = Math.max(...runs.map((run) => run.seeds.length));
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    config,
    description: `Per-epoch accuracy and loss of ${ids.join(" and ")}, every seed`,
    title: {
      text: `${ids[0]} vs ${ids[1]}: per epoch`,
      subtitle: [
        most > 1 ? "Lines: mean over the seeds · band: lowest to highest seed · dots: each seed" : "Lines and dots: the one seed's values",
        "Training: during the epoch · validation and test: after it · drag or scroll to zoom, double-click to reset",
      ],
    },
    hconcat: [panel("accuracy", "Accuracy (%)"), panel("loss", "Cross-entropy loss")],
    resolve: { scale: { y: "independent" }, legend: { color: "independent" } },
  };
}
