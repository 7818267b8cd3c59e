/** Plain-text and markdown tables for CLI output. */
export function renderTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>, format: "text" | "markdown"): string {
  if (format === "markdown") {
    const line = (cells: readonly string[]): string => `| ${cells.map((cell) => cell.replace(/\|/g, "\\|")).join(" | ")} |`;
    return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
  }
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: readonly string[]): string => cells.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd();
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join("\n");
}

export function formatNumber(value: number | null | undefined, signed = false): string {
  if (value === null || value === undefined) return "—";
  const text = Math.abs(value) >= 1000 ? value.toFixed(1) : value.toPrecision(5).replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, "");
  return signed && value > 0 ? `+${text}` : text;
}
