/**
 * What every chart shares: fonts, sizes, and the fixed colour scales. Colour domains and ranges are
 * spelled out instead of left to Vega's order-of-appearance assignment, so one experiment keeps its
 * colour in every chart of its study, and one study keeps its colour in every cross-study chart —
 * whichever subset of series a chart happens to contain.
 */
import type { Config } from "vega-lite";

/** Tableau 10: distinguishable, colour-blind-aware, and prints acceptably in grey. */
export const TABLEAU10 = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
/** For a study with more than ten experiments: Tableau 20's dark and light pairs. */
export const TABLEAU20 = [
  "#4e79a7", "#a0cbe8", "#f28e2b", "#ffbe7d", "#59a14f", "#8cd17d", "#b6992d", "#f1ce63", "#499894", "#86bcb6",
  "#e15759", "#ff9d9a", "#79706e", "#bab0ac", "#d37295", "#fabfd2", "#b07aa1", "#d4a6c8", "#9d7660", "#d7b5a6",
];

/** Every study the params schema allows, in report order; the colour of each is fixed by its position. */
export const STUDIES = ["000", "001", "002", "003", "004", "ours"] as const;

export interface ColorScale {
  domain: string[];
  range: string[];
}

/** Only the studies present are listed (a legend naming absent studies misleads); each keeps its fixed colour. */
export function studyColors(present: readonly string[]): ColorScale {
  const domain = STUDIES.filter((study) => present.includes(study));
  // A study the schema does not know yet gets a colour after the known ones.
  const unknown = [...new Set(present)].filter((study) => !(STUDIES as readonly string[]).includes(study)).sort();
  return {
    domain: [...domain, ...unknown],
    range: [...domain.map((study) => TABLEAU10[STUDIES.indexOf(study)]!), ...unknown.map((_, index) => TABLEAU10[(STUDIES.length + index) % TABLEAU10.length]!)],
  };
}

/** One colour per experiment of a study; `ids` in the canonical (sorted) order. */
export function experimentColors(ids: readonly string[]): ColorScale {
  const palette = ids.length <= TABLEAU10.length ? TABLEAU10 : TABLEAU20;
  return { domain: [...ids], range: ids.map((_, index) => palette[index % palette.length]!) };
}

/** The split of a curve: drawn solid for training, dashed for validation, dotted for test, in every chart. */
export const SPLIT_DASH = { domain: ["training", "validation", "test"], range: [[1, 0], [6, 3], [2, 2]] };

/**
 * The font is named first so the PNG renderer (which loads exactly this font, see render.ts) and
 * the text-width estimate agree; browsers without it fall back to their sans-serif.
 */
export const FONT = "DejaVu Sans, Verdana, Helvetica, Arial, sans-serif";

export const CHART_CONFIG: Config = {
  font: FONT,
  background: "white",
  padding: 8,
  title: { fontSize: 15, subtitleFontSize: 11, subtitleColor: "#555", anchor: "start", offset: 10 },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: "normal", gridColor: "#e6e6e6" },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: "normal", labelLimit: 260 },
  header: { labelFontSize: 12, titleFontSize: 12 },
  view: { stroke: "#ccc" },
};

export const VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json";
