/**
 * The run table's behaviour: sort by a column (its heading is a button; aria-sort says how),
 * filter with the menus (rows hidden, the count announced), tick rows to compare — the last two
 * ticked are compared, a third tick unticks the oldest.
 */
import type { PageData } from "../page-data.ts";
import type { ChartRenderer } from "./charts.ts";
import { showComparison } from "./compare.ts";

type Direction = "ascending" | "descending";

function sortValue(row: HTMLTableRowElement, key: string): string | number | null {
  const raw = row.querySelector<HTMLElement>(`[data-key="${key}"]`)?.dataset.sort ?? "";
  if (raw === "") return null;
  const number = Number(raw);
  return Number.isFinite(number) ? number : raw;
}

/** Missing values last in either direction; ties keep the report's order. */
function compareRows(key: string, direction: Direction, order: Map<HTMLTableRowElement, number>) {
  return (a: HTMLTableRowElement, b: HTMLTableRowElement): number => {
    const x = sortValue(a, key);
    const y = sortValue(b, key);
    if (x === null || y === null) return x === y ? order.get(a)! - order.get(b)! : x === null ? 1 : -1;
    const sign = direction === "ascending" ? 1 : -1;
    const difference = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y), "en", { numeric: true });
    return difference === 0 ? order.get(a)! - order.get(b)! : sign * difference;
  };
}

export function setUpRunTable(data: PageData, charts: ChartRenderer): void {
  const table = document.querySelector<HTMLTableElement>("#run-table");
  const form = document.querySelector<HTMLFormElement>("form.run-filters");
  const status = document.getElementById("run-status");
  const body = table?.tBodies[0];
  if (!table || !form || !status || !body) return;
  const rows = [...body.rows];
  const order = new Map(rows.map((row, index) => [row, index]));

  const filter = (): void => {
    const wanted = [...form.querySelectorAll<HTMLSelectElement>("select[data-filter]")].map((select) => [select.dataset.filter!, select.value] as const);
    let shown = 0;
    for (const row of rows) {
      row.hidden = !wanted.every(([key, value]) => value === "" || row.dataset[key] === value);
      if (!row.hidden) shown++;
    }
    status.textContent = `${shown} of ${rows.length} runs shown.`;
  };
  form.addEventListener("change", filter);
  form.addEventListener("submit", (event) => event.preventDefault());
  // The reset event comes before the fields are reset.
  form.addEventListener("reset", () => setTimeout(filter));

  for (const button of table.querySelectorAll<HTMLButtonElement>("thead button[data-sort-key]")) {
    button.addEventListener("click", () => {
      const heading = button.closest("th")!;
      const direction: Direction = heading.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
      for (const other of table.querySelectorAll("thead th[aria-sort]")) other.setAttribute("aria-sort", "none");
      heading.setAttribute("aria-sort", direction);
      body.append(...[...rows].sort(compareRows(button.dataset.sortKey!, direction, order)));
    });
  }

  const picked: string[] = [];
  const boxes = new Map(rows.map((row) => [row.dataset.id!, row.querySelector<HTMLInputElement>('input[type="checkbox"]')!]));
  body.addEventListener("change", (event) => {
    const box = event.target;
    if (!(box instanceof HTMLInputElement) || box.type !== "checkbox") return;
    const id = box.value;
    const at = picked.indexOf(id);
    if (box.checked && at < 0) picked.push(id);
    if (!box.checked && at >= 0) picked.splice(at, 1);
    while (picked.length > 2) boxes.get(picked.shift()!)!.checked = false;
    for (const row of rows) row.classList.toggle("picked", picked.includes(row.dataset.id!));
    showComparison(picked, data, charts);
  });
}
