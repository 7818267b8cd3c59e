/**
 * Two experiments' settings side by side: their declared params flattened to dotted paths, and the
 * paths whose values differ. Shared by the page (the run table's comparison) and its tests.
 */
import type { ParamValue } from "./page-data.ts";

export interface ParamDifference {
  path: string;
  a: ParamValue | undefined;
  b: ParamValue | undefined;
}

/** `{ optimizer: { lr: 0.1 } }` → `{ "optimizer.lr": 0.1 }`; a list is one value (its JSON); undefined is left out. */
export function flattenParams(value: unknown, prefix = ""): Record<string, ParamValue> {
  const flat: Record<string, ParamValue> = {};
  const visit = (node: unknown, path: string): void => {
    if (node === undefined) return;
    if (node === null || typeof node === "string" || typeof node === "number" || typeof node === "boolean") {
      flat[path] = node;
    } else if (Array.isArray(node)) {
      flat[path] = JSON.stringify(node);
    } else if (typeof node === "object") {
      const entries = Object.entries(node as Record<string, unknown>);
      if (entries.length === 0 && path) flat[path] = "{}";
      for (const [key, child] of entries) visit(child, path ? `${path}.${key}` : key);
    }
  };
  visit(value, prefix);
  return flat;
}

/** The paths whose values differ (a path only one side declares included), in path order. */
export function paramsDiff(a: Record<string, ParamValue>, b: Record<string, ParamValue>): { differences: ParamDifference[]; same: number } {
  const paths = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const differences = paths.filter((path) => !Object.is(a[path], b[path])).map((path) => ({ path, a: a[path], b: b[path] }));
  return { differences, same: paths.length - differences.length };
}
