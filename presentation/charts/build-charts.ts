/**
 * The file-level work of the chart stages (stages/visualize.ts imports this dynamically): read
 * stage outputs, build the specs, render and write them.
 */
import type { ChartManifest } from "../report/chart-manifest.ts";
import { comparisonCharts, experimentCharts } from "./chart-sets.ts";
import { writeCharts } from "./render.ts";
import { loadExperimentResults, readMetrics, type ExperimentSource } from "../report/results.ts";


export async function buildExperimentCharts(id: string, evaluateDir: string, outDir: string): Promise<ChartManifest> {
  return writeCharts(outDir, experimentCharts(id, await readMetrics(evaluateDir)));
}

export async function buildComparisonCharts(sources: readonly ExperimentSource[], outDir: string): Promise<ChartManifest> {
  const results = await Promise.all(sources.map((source) => loadExperimentResults(source)));
  return writeCharts(outDir, comparisonCharts(results));
}
