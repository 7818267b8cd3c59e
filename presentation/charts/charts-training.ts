/**
 * Training curves of one study: every experiment of the study on one chart, so optimizers or
 * variants can be compared epoch by epoch. With several seeds an experiment is drawn as the mean
 * over its seeds (line) inside a band from its lowest to its highest seed. Pure spec builders: data
 * in, Vega-Lite spec out.
 */
import type { TopLevelSpec } from "vega-lite";
import type { EpochMetrics } from "../../ml/train.ts";
import { CHART_CONFIG, SPLIT_DASH, VEGA_LITE_SCHEMA, type ColorScale } from "./chart-style.ts";

/** What a study printed for one epoch, as a point on our curve of the same split (fractions for accuracies). */
export interface PrintedPoint {
  epoch: number;
  split: Split;
  loss?: number;
  accuracy?: number;
}

export interface CurveSeries {
  id: string;
  /** One history per seed. */
  histories: readonly (readonly EpochMetrics[])[];
  /** The values the study printed for this experiment (study-printed-values.json), drawn over our curves. */
  printed?: readonly PrintedPoint[];
}

export type Split = "training" | "validation" | "test";

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
 * Training, validation and test are told apart twice — line dash and marker shape — because with a
 * single epoch there is no line to dash, only points. The legend shows the markers and names the
 * dash, so it matches both marks.
 */
const SPLIT_SHAPE = { domain: ["training", "validation", "test"], range: ["circle", "triangle-up", "square"] };
const DASH_NAMES = "{'training': ' (solid)', 'validation': ' (dashed)', 'test': ' (dotted)'}";
/** The fixed dash and shape of each split, restricted to the splits drawn (a legend naming absent splits misleads). */
function splitScales(splits: readonly Split[]): { dash: { domain: string[]; range: number[][] }; shape: { domain: string[]; range: string[] } } {
  const keep = <T>(scale: { domain: readonly string[]; range: readonly T[] }) => {
    const indices = scale.domain.flatMap((split, index) => (splits.includes(split as Split) ? [index] : []));
    return { domain: indices.map((index) => scale.domain[index]!), range: indices.map((index) => scale.range[index]!) };
  };
  return { dash: keep(SPLIT_DASH), shape: keep(SPLIT_SHAPE) };
}

const splitEncodings = (splits: readonly Split[]) => {
  const legend = splits.length > 1 ? { symbolStrokeWidth: 2, symbolSize: 120, labelExpr: `datum.label + ${DASH_NAMES}[datum.label]` } : null;
  const scales = splitScales(splits);
  return {
    strokeDash: { field: "split", type: "nominal", title: "Split", scale: scales.dash, legend },
    shape: { field: "split", type: "nominal", title: "Split", scale: scales.shape, legend },
  } as const;
};

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

const SPLIT_WORDS: Record<Split, string> = { training: "training", validation: "validation", test: "test" };

function joinSplits(splits: readonly Split[]): string {
  const words = splits.map((split) => SPLIT_WORDS[split]);
  return words.length <= 1 ? (words[0] ?? "") : `${words.slice(0, -1).join(", ")} and ${words.at(-1)}`;
}

const LOSS_PICKS: ReadonlyArray<readonly [Split, (record: EpochMetrics) => number | undefined]> = [
  ["training", (record) => record.trainLoss],
  ["validation", (record) => record.valLoss],
  ["test", (record) => record.testLoss],
];

export function lossCurvesSpec(study: string, series: readonly CurveSeries[], colors: ColorScale): TopLevelSpec {
  const values: { experiment: string; epoch: number; split: Split; loss: number; low: number; high: number }[] = [];
  let dropped = 0;
  for (const { id, histories } of series) {
    for (const [split, pick] of LOSS_PICKS) {
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
  const shown = new Set(values.map((value) => `${value.experiment}:${value.split}`));
  // A printed value is drawn where we have the same split to compare it with.
  const printed = series.flatMap(({ id, printed: points }) =>
    (points ?? [])
      .filter((point) => finite(point.loss) && point.loss! > 0 && shown.has(`${id}:${point.split}`))
      .map((point) => ({ experiment: id, epoch: point.epoch, split: point.split, loss: point.loss! })),
  );
  const splits = (["training", "validation", "test"] as const).filter((split) => values.some((value) => value.split === split));
  const subtitle = [
    [
      splits.includes("training") ? "Training (solid, circles): mean over the epoch's batches while training" : null,
      splits.includes("validation") ? "validation (dashed, triangles): after the epoch" : null,
      splits.includes("test") ? "test (dotted, squares): after the epoch" : null,
    ]
      .filter(Boolean)
      .join(" · ") + (splits.length === 1 ? " (no validation split or per-epoch test in these experiments)" : ""),
    ...(printed.length > 0 ? [PRINTED_NOTE] : []),
    ...(seedNote(series) ? [seedNote(series)!] : []),
    ...(dropped > 0 ? [`${dropped} non-finite or zero value(s) not drawn`] : []),
  ];
  return perEpochLineChart({
    title: `Study ${study}: ${joinSplits(splits)} loss per epoch`,
    subtitle,
    values,
    printed,
    y: { field: "loss", type: "quantitative", title: "Cross-entropy loss per image (log scale)", ...logAxis([...values.flatMap((value) => [value.low, value.high]), ...printed.map((point) => point.loss)]) },
    colors,
    splits,
  });
}

const PRINTED_NOTE = "Open markers: the values the study printed, on the curve of the same split";

/**
 * Accuracy per epoch on held-out images: validation and, where the experiment records it, the test
 * set after each epoch (003's rows); training accuracy only for an experiment with neither. The
 * axis ends at 100%.
 */
export function accuracyCurvesSpec(study: string, series: readonly CurveSeries[], colors: ColorScale): TopLevelSpec {
  const values: { experiment: string; epoch: number; split: Split; accuracy: number; low: number; high: number }[] = [];
  for (const { id, histories } of series) {
    const has = (pick: (record: EpochMetrics) => number | undefined): boolean => histories.some((history) => history.some((record) => finite(pick(record))));
    const picks: Array<[Split, (record: EpochMetrics) => number | undefined]> = [];
    if (has((record) => record.valAccuracy)) picks.push(["validation", (record) => record.valAccuracy]);
    if (has((record) => record.testAccuracy)) picks.push(["test", (record) => record.testAccuracy]);
    if (picks.length === 0) picks.push(["training", (record) => record.trainAccuracy]);
    for (const [split, pick] of picks) {
      const percent = (record: EpochMetrics): number | undefined => {
        const accuracy = pick(record);
        return finite(accuracy) ? accuracy * 100 : undefined;
      };
      for (const point of acrossSeeds(histories, percent)) values.push({ experiment: id, epoch: point.epoch, split, accuracy: point.mean, low: point.low, high: point.high });
    }
  }
  const shown = new Set(values.map((value) => `${value.experiment}:${value.split}`));
  // A printed value is drawn where we have the same split to compare it with.
  const printed = series.flatMap(({ id, printed: points }) =>
    (points ?? []).filter((point) => finite(point.accuracy) && shown.has(`${id}:${point.split}`)).map((point) => ({ experiment: id, epoch: point.epoch, split: point.split, accuracy: point.accuracy! * 100 })),
  );
  const splits = (["training", "validation", "test"] as const).filter((split) => values.some((value) => value.split === split));
  const subtitle = [
    [
      splits.includes("validation") ? "Validation (dashed, triangles): held-out split after each epoch" : null,
      splits.includes("test") ? "test (dotted, squares): the test set after each epoch" : null,
      splits.includes("training") ? "training (solid, circles): during the epoch, for experiments with neither" : null,
    ]
      .filter(Boolean)
      .join(" · "),
    ...(printed.length > 0 ? [PRINTED_NOTE] : []),
    ...(seedNote(series) ? [seedNote(series)!] : []),
  ];
  const lowest = Math.min(100, ...values.map((value) => value.low), ...printed.map((point) => point.accuracy));
  // From a round value below the data to exactly 100: an accuracy axis never runs past 100%.
  const floor = Math.max(0, Math.floor((lowest - 0.5) / 5) * 5);
  return perEpochLineChart({
    title: `Study ${study}: ${joinSplits(splits)} accuracy per epoch`,
    subtitle,
    values,
    printed,
    y: { field: "accuracy", type: "quantitative", title: "Accuracy (%)", scale: { domain: [floor, 100], nice: false, zero: false } },
    colors,
    splits,
  });
}

/**
 * The frame both curve charts share: one coloured line per experiment over epochs, split by marker
 * and dash, over a band (`low`–`high`, drawn only where the seeds differ), and the study's printed
 * values as open markers of the same colour and shape. Legends: the experiments as line swatches,
 * the splits as their markers with the dash named, the printed values as an open marker.
 */
function perEpochLineChart(chart: {
  title: string;
  subtitle: string | string[];
  values: object[];
  printed: object[];
  y: Record<string, unknown>;
  colors: ColorScale;
  /** The splits drawn: one gets no legend (the subtitle names it). */
  splits: readonly Split[];
}): TopLevelSpec {
  const color = { field: "experiment", type: "nominal", title: "Experiment", scale: chart.colors };
  return {
    $schema: VEGA_LITE_SCHEMA,
    config: CHART_CONFIG,
    title: { text: chart.title, subtitle: chart.subtitle },
    width: 460,
    height: 280,
    encoding: { x: EPOCH_AXIS },
    layer: [
      {
        data: { values: chart.values },
        transform: [{ filter: "datum.high > datum.low" }],
        mark: { type: "area", opacity: 0.18 },
        // The legend is the lines' (a faded swatch would read as a missing series).
        encoding: { y: { ...chart.y, field: "low" }, y2: { field: "high" }, color: { ...color, legend: null }, detail: { field: "split", type: "nominal" } },
      },
      {
        data: { values: chart.values },
        mark: { type: "line", point: { filled: true, size: 60 }, strokeWidth: 2 },
        encoding: { y: chart.y, color: { ...color, legend: { symbolType: "stroke", symbolStrokeWidth: 3 } }, ...splitEncodings(chart.splits) },
      },
      ...(chart.printed.length === 0
        ? []
        : [
            {
              data: { values: chart.printed },
              mark: { type: "point", filled: false, size: 150, strokeWidth: 2.2 },
              encoding: {
                y: chart.y,
                color: { ...color, legend: null },
                shape: { field: "split", type: "nominal", scale: splitScales(chart.splits).shape, legend: null },
                // A one-entry legend for what the open markers are.
                opacity: {
                  datum: "printed by the study",
                  type: "nominal",
                  scale: { range: [1] },
                  legend: { title: null, symbolType: "circle", symbolFillColor: "transparent", symbolStrokeColor: "#333", symbolStrokeWidth: 2, symbolSize: 120 },
                },
              },
            },
          ]),
    ],
    // One colour scale, but only the lines' legend.
    resolve: { legend: { color: "independent" } },
  } as TopLevelSpec;
}
