/**
 * The charts' stored Vega-Lite specs (the `.vl.json` files the chart stages write, the source of the
 * SVG and PNG in report.md) made interactive for report.html, without changing what they draw:
 *
 * - tooltips with the exact values of the datum under the pointer, on every mark (pictures: on
 *   their captions only — a tile's datum is a pixel position and a PNG data URL);
 * - zoom and pan (drag, wheel; double-click resets) on every plot whose x axis is `epoch`, the
 *   epoch axis made continuous for it (ticks stay on whole epochs);
 * - a legend that selects: clicking an entry of a nominal colour legend (an experiment, a study)
 *   fades every mark of the other entries; shift-click adds, double-click clears.
 *
 * Rules on the spec's structure, not on chart names, so charts added to presentation/charts/ get them too.
 * Pure: a new spec is returned, the input is not modified.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** How much of its opacity a mark keeps while a legend selection excludes it. */
export const FADED = 0.15;

const CHILD_LISTS = ["layer", "hconcat", "vconcat", "concat"] as const;

const isObject = (value: Json | undefined): value is JsonObject => typeof value === "object" && value !== null && !Array.isArray(value);

/** A unit spec (one mark) with the encodings its layer ancestors pass down to it. */
interface Unit {
  node: JsonObject;
  encoding: JsonObject;
  /** The outermost layer (or the unit itself) below a concat or the top: one plot, one set of scales. */
  plot: JsonObject;
}

function children(node: JsonObject): JsonObject[] {
  const found: JsonObject[] = [];
  for (const key of CHILD_LISTS) {
    const list = node[key];
    if (Array.isArray(list)) found.push(...list.filter(isObject));
  }
  if (isObject(node.spec)) found.push(node.spec);
  return found;
}

function units(root: JsonObject): Unit[] {
  const found: Unit[] = [];
  const visit = (node: JsonObject, inherited: JsonObject, plot: JsonObject | null): void => {
    const encoding = { ...inherited, ...(isObject(node.encoding) ? node.encoding : {}) };
    const ownPlot = plot ?? node;
    if (node.mark !== undefined) found.push({ node, encoding, plot: ownPlot });
    // Only a layer shares its encodings and scales with its children; concatenated views do not.
    if (Array.isArray(node.layer)) for (const child of node.layer.filter(isObject)) visit(child, encoding, ownPlot);
    for (const key of ["hconcat", "vconcat", "concat"] as const) {
      const list = node[key];
      if (Array.isArray(list)) for (const child of list.filter(isObject)) visit(child, {}, null);
    }
    if (isObject(node.spec)) visit(node.spec, {}, null);
  };
  visit(root, {}, null);
  return found;
}

function markType(node: JsonObject): string | undefined {
  return typeof node.mark === "string" ? node.mark : isObject(node.mark) && typeof node.mark.type === "string" ? node.mark.type : undefined;
}

function setMarkProperty(node: JsonObject, key: string, value: Json): void {
  node.mark = isObject(node.mark) ? { ...node.mark, [key]: value } : { type: node.mark ?? "point", [key]: value };
}

function addParam(node: JsonObject, param: JsonObject): void {
  node.params = [...(Array.isArray(node.params) ? node.params : []), param];
}

const field = (channel: Json | undefined): string | undefined => (isObject(channel) && typeof channel.field === "string" ? channel.field : undefined);

/** Placed in pixels (`scale: null` on x and y): a tile of a picture chart or its caption. */
function isPixelPlaced(unit: Unit): boolean {
  const { x, y } = unit.encoding;
  return isObject(x) && x.scale === null && isObject(y) && y.scale === null;
}

/** Tooltips: the whole datum everywhere, except on pictures, whose captions show their text alone. */
function tooltips(root: JsonObject, all: readonly Unit[]): void {
  const config = isObject(root.config) ? root.config : {};
  root.config = { ...config, mark: { ...(isObject(config.mark) ? config.mark : {}), tooltip: { content: "data" } } };
  for (const unit of all) {
    if (!isPixelPlaced(unit)) {
      // On the mark too, not only in the config: Vega-Lite makes a mark that has neither its own
      // selection nor its own tooltip deaf to the pointer once another mark has a selection.
      const ownTooltip = (isObject(unit.node.mark) && "tooltip" in unit.node.mark) || (isObject(unit.node.encoding) && unit.node.encoding.tooltip !== undefined);
      if (!ownTooltip) setMarkProperty(unit.node, "tooltip", { content: "data" });
      continue;
    }
    const text = field(unit.encoding.text);
    if (text !== undefined && isObject(unit.node.encoding)) {
      unit.node.encoding = { ...unit.node.encoding, tooltip: { field: text, type: "nominal" } };
    } else {
      setMarkProperty(unit.node, "tooltip", null);
    }
  }
}

/** The `epoch` values of the spec's inline data, sorted. */
function inlineEpochs(root: JsonObject): number[] {
  const epochs = new Set<number>();
  const visit = (node: JsonObject): void => {
    const values = isObject(node.data) ? node.data.values : undefined;
    if (Array.isArray(values)) for (const row of values) if (isObject(row) && typeof row.epoch === "number") epochs.add(row.epoch);
    for (const child of children(node)) visit(child);
  };
  visit(root);
  return [...epochs].sort((a, b) => a - b);
}

/**
 * Every `epoch` x channel made quantitative (an ordinal axis cannot zoom). Its ticks stay on the
 * epochs: Vega's tickMinStep still puts a tick at 1.5 between two epochs, so the epochs of the
 * data are the tick values when the spec has them inline.
 */
function continuousEpochs(node: JsonObject, epochs: readonly number[]): void {
  const encoding = node.encoding;
  if (isObject(encoding) && field(encoding.x) === "epoch" && isObject(encoding.x)) {
    const x = encoding.x;
    const axis = isObject(x.axis) ? x.axis : {};
    const scale = isObject(x.scale) ? x.scale : {};
    const ticks: JsonObject = epochs.length > 0 && epochs.length <= 60 ? { values: [...epochs] } : { tickMinStep: 1 };
    node.encoding = {
      ...encoding,
      x: { ...x, type: "quantitative", axis: { ...axis, ...ticks, format: "d" }, scale: { zero: false, nice: false, padding: 14, ...scale } },
    };
  }
  for (const child of children(node)) continuousEpochs(child, epochs);
}

/** One zoom/pan interval per plot drawn over epochs, bound to its scales. */
function epochZoom(root: JsonObject): void {
  continuousEpochs(root, inlineEpochs(root));
  const all = units(root);
  const plots = new Set(all.filter((unit) => field(unit.encoding.x) === "epoch").map((unit) => unit.plot));
  let index = 0;
  for (const plot of plots) {
    const members = all.filter((unit) => unit.plot === plot && field(unit.encoding.x) === "epoch");
    const host = members.find((unit) => markType(unit.node) === "line") ?? members[0]!;
    const y = host.encoding.y;
    const yContinuous = isObject(y) && (y.type === "quantitative" || y.type === "temporal") && y.scale !== null;
    addParam(host.node, { name: `zoom_${index++}`, select: { type: "interval", encodings: yContinuous ? ["x", "y"] : ["x"] }, bind: "scales" });
  }
}

/** A nominal colour legend that selects: the first unit showing one hosts it, every unit coloured by that field follows it. */
function legendSelection(root: JsonObject): void {
  const all = units(root);
  const coloured = (unit: Unit): string | undefined => {
    const color = unit.encoding.color;
    return isObject(color) && color.type === "nominal" && color.condition === undefined ? field(color) : undefined;
  };
  const host = all.find((unit) => coloured(unit) !== undefined && isObject(unit.encoding.color) && unit.encoding.color.legend !== null);
  if (!host) return;
  const name = "legend_pick";
  const fieldName = coloured(host)!;
  addParam(host.node, { name, select: { type: "point", fields: [fieldName] }, bind: "legend" });
  for (const unit of all) {
    if (coloured(unit) !== fieldName || unit.encoding.opacity !== undefined) continue;
    const own = isObject(unit.node.mark) && typeof unit.node.mark.opacity === "number" ? unit.node.mark.opacity : 1;
    const encoding = isObject(unit.node.encoding) ? unit.node.encoding : {};
    unit.node.encoding = { ...encoding, opacity: { condition: { param: name, value: own }, value: own * FADED } };
  }
}

export function interactiveSpec(spec: JsonObject, description: string): JsonObject {
  const copy = structuredClone(spec);
  copy.description = description;
  tooltips(copy, units(copy));
  epochZoom(copy);
  legendSelection(copy);
  return copy;
}
