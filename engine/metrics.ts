import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { getAtPath, parsePath } from "./param-path.ts";
import { PipelineError } from "./errors.ts";

/** A JSON output file and the paths in it that are metrics, e.g. { file: "metrics.json", keys: ["accuracy"] }. */
export interface MetricsDeclaration {
  file: string;
  keys: readonly string[];
}

/** Stage → metric → value. */
export type MetricTable = Record<string, Record<string, number>>;

/** Reads the declared metric keys from a stage's output folder; a declared key that is missing or not a number is a stage bug. */
export async function readDeclaredMetrics(stage: string, outDir: string, declaration: MetricsDeclaration): Promise<Record<string, number>> {
  const path = join(outDir, declaration.file);
  const document = JSON.parse(await readFile(path, "utf8")) as unknown;
  const metrics: Record<string, number> = {};
  for (const key of declaration.keys) {
    const lookup = getAtPath(document, parsePath(key));
    if (!lookup.found || typeof lookup.value !== "number") {
      throw new PipelineError("stage-output-invalid", `stage "${stage}" declares the metric ${key} in ${declaration.file}, but ${path} has no number there`);
    }
    metrics[key] = lookup.value;
  }
  return metrics;
}

export function metricsOfLock(lock: { stages: Record<string, { metrics?: Record<string, number> }> }): MetricTable {
  const table: MetricTable = {};
  for (const [stage, entry] of Object.entries(lock.stages)) if (entry.metrics) table[stage] = entry.metrics;
  return table;
}
