/**
 * The run table of report.html: one row per experiment with the cells report.md prints (the same
 * format functions, so the same text), each with the raw value it sorts by; the filters above it;
 * the panel where two selected rows are compared. Written as plain HTML — readable without the
 * script — which page/run-table.ts makes sortable, filterable and selectable.
 */
import { formatSeconds, meanSd } from "../report/format.ts";
import { integer } from "../report/markdown.ts";
import { delta, reference } from "../report/report-parts.ts";
import type { ExperimentRow } from "../report/rows.ts";
import { attributes, escapeHtml } from "./html.ts";

/** The filters: row attribute → label. The page filters on `data-<key>`. */
export const RUN_FILTERS = [
  { key: "study", label: "Study" },
  { key: "architecture", label: "Architecture" },
  { key: "optimizer", label: "Optimizer" },
  { key: "verdict", label: "Verdict" },
] as const;

export type RunFilterKey = (typeof RUN_FILTERS)[number]["key"];

interface Cell {
  text: string;
  /** What the column sorts by: a number, a string, or null (sorted last). */
  sort: number | string | null;
  /** Wrap the text in <code> (experiment ids, as in the markdown). */
  code?: boolean;
  numeric?: boolean;
}

interface Column {
  key: string;
  label: string;
  cell(row: ExperimentRow): Cell;
}

/**
 * Verdicts as words (report.md adds ✅ / ❌), what the verdict filter offers. Keyed by string, not
 * by the Verdict union, so a verdict added in presentation/report/verdicts.ts shows as its own name until
 * it is worded here.
 */
const VERDICT_WORDS: Readonly<Record<string, string>> = {
  consistent: "consistent",
  above: "above",
  below: "below",
  "single run": "single run (difference only)",
  "no reference": "no published value",
  subset: "subset run: no verdict",
};

const verdictWords = (verdict: string): string => VERDICT_WORDS[verdict] ?? verdict;

/** The verdict cell: the words, with n where seeds were judged. */
export function verdictText(row: ExperimentRow): string {
  return ["consistent", "above", "below"].includes(row.verdict) ? `${row.verdict} (n = ${row.n})` : verdictWords(row.verdict);
}

export const RUN_COLUMNS: readonly Column[] = [
  { key: "id", label: "Experiment", cell: (row) => ({ text: row.id, sort: row.id, code: true }) },
  { key: "study", label: "Study", cell: (row) => ({ text: row.study, sort: row.study }) },
  { key: "architecture", label: "Architecture", cell: (row) => ({ text: row.architecture, sort: row.architecture }) },
  { key: "optimizer", label: "Optimizer", cell: (row) => ({ text: row.optimizer, sort: row.optimizer }) },
  { key: "variant", label: "Variant", cell: (row) => ({ text: row.variant, sort: row.variant }) },
  { key: "epochs", label: "Epochs × batch", cell: (row) => ({ text: `${row.epochs} × ${row.batchSize ?? "?"}`, sort: row.epochs * 1e6 + (row.batchSize ?? 0), numeric: true }) },
  { key: "accuracy", label: "Test accuracy, mean ± SD (n)", cell: (row) => ({ text: meanSd(row), sort: row.testAccuracy, numeric: true }) },
  { key: "published", label: "Published", cell: (row) => ({ text: reference(row), sort: row.referenceAccuracy, numeric: true }) },
  { key: "delta", label: "Δ mean (points)", cell: (row) => ({ text: delta(row), sort: row.deltaPoints, numeric: true }) },
  { key: "verdict", label: "Verdict", cell: (row) => ({ text: verdictText(row), sort: verdictText(row) }) },
  {
    key: "time",
    label: "Training time per run",
    cell: (row) => ({ text: row.trainingSeconds === null ? "—" : formatSeconds(row.trainingSeconds), sort: row.trainingSeconds, numeric: true }),
  },
  { key: "throughput", label: "Images/s", cell: (row) => ({ text: row.imagesPerSecond === null ? "—" : integer(row.imagesPerSecond), sort: row.imagesPerSecond, numeric: true }) },
];

/** The value a row is filtered on, per filter. */
export function filterValue(row: ExperimentRow, key: RunFilterKey): string {
  switch (key) {
    case "study":
      return row.study;
    case "architecture":
      return row.architecture;
    case "optimizer":
      return row.optimizerName;
    case "verdict":
      return row.verdict;
  }
}

function filterControls(rows: readonly ExperimentRow[]): string {
  const selects = RUN_FILTERS.map(({ key, label }) => {
    const values = [...new Set(rows.map((row) => filterValue(row, key)))];
    if (key !== "study") values.sort();
    const options = values.map((value) => `<option${attributes({ value })}>${escapeHtml(key === "verdict" ? verdictWords(value).replace(/ \(.*\)$/, "") : value)}</option>`);
    return `<label>${label} <select${attributes({ "data-filter": key, name: key })}><option value="">all</option>${options.join("")}</select></label>`;
  });
  return `<form class="run-filters" aria-label="Filter the runs">${selects.join("")}<button type="reset">Show all</button></form>`;
}

function rowHtml(row: ExperimentRow): string {
  const data = Object.fromEntries(RUN_FILTERS.map(({ key }) => [`data-${key}`, filterValue(row, key)]));
  const cells = RUN_COLUMNS.map((column) => {
    const cell = column.cell(row);
    const text = cell.code ? `<code>${escapeHtml(cell.text)}</code>` : escapeHtml(cell.text);
    const verdict = column.key === "verdict" ? ` verdict-${row.verdict.replace(/\s+/g, "-")}` : "";
    const attrs = attributes({ "data-key": column.key, "data-sort": cell.sort === null ? "" : String(cell.sort), class: `${cell.numeric ? "num" : ""}${verdict}`.trim() || null });
    return column.key === "id" ? `<th scope="row"${attrs}>${text}</th>` : `<td${attrs}>${text}</td>`;
  });
  const select = `<td class="pick"><input type="checkbox"${attributes({ "aria-label": `Compare ${row.id}`, value: row.id })}></td>`;
  return `<tr${attributes({ "data-id": row.id, ...data, title: row.title })}>${select}${cells.join("")}</tr>`;
}

export function runTableSection(rows: readonly ExperimentRow[]): string {
  const headers = RUN_COLUMNS.map(
    (column) => `<th scope="col" aria-sort="none"${attributes({ "data-key": column.key })}><button type="button"${attributes({ "data-sort-key": column.key })}>${escapeHtml(column.label)}</button></th>`,
  );
  const seeds = rows.reduce((sum, row) => sum + row.n, 0);
  return [
    '<section id="runs" aria-labelledby="runs-heading">',
    '<h2 id="runs-heading">Runs</h2>',
    `<p>Every experiment of this report (${rows.length}, ${seeds} training run${seeds === 1 ? "" : "s"} with their seeds), with the numbers of the tables below. ` +
      "Sort by a column's heading, filter with the menus, and tick two rows to compare their settings and their curves epoch by epoch.</p>",
    filterControls(rows),
    `<p class="run-status" id="run-status" role="status">${rows.length} of ${rows.length} runs shown.</p>`,
    '<div class="table-wrap" tabindex="0">',
    '<table id="run-table">',
    "<caption>Runs: one row per experiment; test accuracy is the mean over its seeds (n), Δ the mean minus the published value</caption>",
    `<thead><tr><th scope="col"><span class="visually-hidden">Compare</span></th>${headers.join("")}</tr></thead>`,
    `<tbody>${rows.map(rowHtml).join("\n")}</tbody>`,
    "</table>",
    "</div>",
    '<section id="compare" aria-labelledby="compare-heading" aria-live="polite">',
    '<h3 id="compare-heading">Compare two runs</h3>',
    '<p id="compare-hint">Tick two rows of the table to see the settings that differ and their per-epoch curves overlaid.</p>',
    '<div id="compare-diff"></div>',
    '<div id="compare-chart" class="chart-host"></div>',
    "</section>",
    "</section>",
  ].join("\n");
}
