/**
 * The comparison under the run table: for the two ticked rows, the settings that differ (their
 * declared params, flattened) and their per-epoch curves overlaid (compare-spec.ts).
 */
import { compareCurvesSpec } from "../compare-spec.ts";
import type { PageData, ParamValue } from "../page-data.ts";
import { paramsDiff } from "../params-diff.ts";
import type { ChartRenderer } from "./charts.ts";

const shown = (value: ParamValue | undefined): string => (value === undefined ? "— (not set)" : value === null ? "null" : String(value));

function element<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function diffTable(a: string, b: string, data: PageData): HTMLElement {
  const { differences, same } = paramsDiff(data.experiments[a]!.params, data.experiments[b]!.params);
  const table = element("table", undefined, "params-diff");
  table.id = "compare-diff-table";
  table.append(element("caption", `Settings of ${a} and ${b}: ${differences.length} differ, ${same} are the same`));
  const head = table.createTHead().insertRow();
  for (const label of ["setting", a, b]) {
    const cell = element("th", label);
    cell.scope = "col";
    head.append(cell);
  }
  const body = table.createTBody();
  for (const difference of differences) {
    const row = body.insertRow();
    const path = element("th", difference.path);
    path.scope = "row";
    row.append(path, element("td", shown(difference.a)), element("td", shown(difference.b)));
  }
  if (differences.length === 0) {
    const cell = body.insertRow().insertCell();
    cell.colSpan = 3;
    cell.textContent = "Every declared setting is the same.";
  }
  const wrap = element("div", undefined, "table-wrap");
  wrap.tabIndex = 0;
  wrap.append(table);
  return wrap;
}

export function showComparison(ids: readonly string[], data: PageData, charts: ChartRenderer): void {
  const hint = document.getElementById("compare-hint");
  const diff = document.getElementById("compare-diff");
  const chart = document.getElementById("compare-chart");
  if (!hint || !diff || !chart) return;
  if (ids.length < 2) {
    diff.replaceChildren();
    charts.clear(chart);
    hint.textContent = ids.length === 0 ? "Tick two rows of the table to see the settings that differ and their per-epoch curves overlaid." : `${ids[0]} is ticked: tick one more row to compare.`;
    return;
  }
  const [a, b] = ids as [string, string];
  hint.textContent = `Comparing ${a} and ${b}.`;
  diff.replaceChildren(diffTable(a, b, data));
  void charts.draw(chart, compareCurvesSpec([data.experiments[a]!, data.experiments[b]!], data.chartConfig), `compare-${a}-${b}`);
}
