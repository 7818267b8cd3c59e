/** Minimal GitHub-flavoured Markdown helpers: tables and escaping. */

/** Escape what would break a table cell or start markup; code spans are left to the caller. */
export function escapeCell(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\n/g, " ");
}

export type Align = "left" | "right" | "center";

export function table(headers: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[] = []): string {
  const rule = headers.map((_, index) => {
    const side = align[index] ?? "left";
    return side === "right" ? "---:" : side === "center" ? ":---:" : "---";
  });
  const line = (cells: readonly string[]): string => `| ${cells.join(" | ")} |`;
  return [line(headers), line(rule), ...rows.map(line)].join("\n");
}

export function integer(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

/** Link targets with spaces or parentheses must be wrapped in <> to survive GitHub's parser. */
export function linkTarget(path: string): string {
  return /[\s()<>]/.test(path) ? `<${path}>` : path;
}
