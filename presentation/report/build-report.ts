/**
 * The file-level work of the report stage (stages/report.ts imports this dynamically): read every
 * experiment's outputs and the chart manifests, copy the charts beside the report, write
 * report.md, report.html, metrics.csv and metrics.json. Loads neither vega nor tfjs.
 */
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import type { AnalysisFindings } from "../../ml/analysis/stage-io.ts";
import type { AnalysisReportEntry } from "../markdown/analyses-section.ts";
import { join } from "node:path";
import { CHART_MANIFEST, type ChartManifest } from "./chart-manifest.ts";
import { buildCommentary, type CommentaryInput } from "./commentary.ts";
import { metricsCsv, metricsJson, type SeedDetails } from "./metrics-files.ts";
import { renderReport, type ReportChart, type ReportInput } from "../markdown/report-document.ts";
import { renderHtmlReport } from "../html/html-report.ts";
import { loadExperimentResults, sortExperiments, type ExperimentResults, type ExperimentSource, type SeedResults } from "./results.ts";
import { experimentRow } from "./rows.ts";


export const REPORT_FILES = { markdown: "report.md", html: "report.html", csv: "metrics.csv", json: "metrics.json", charts: "charts", analyses: "analyses" } as const;

/** The analysis stages' findings, charts (copied to charts/) and CSV files (copied to analyses/). */
async function collectAnalyses(analysisDirs: readonly string[], outDir: string): Promise<AnalysisReportEntry[]> {
  const entries: AnalysisReportEntry[] = [];
  if (analysisDirs.length > 0) await mkdir(join(outDir, REPORT_FILES.analyses), { recursive: true });
  for (const dir of analysisDirs) {
    const findings = JSON.parse(await readFile(join(dir, "findings.json"), "utf8")) as AnalysisFindings;
    const { charts } = await collectCharts([dir], outDir);
    const files: string[] = [];
    for (const file of findings.files.filter((name) => name.endsWith(".csv"))) {
      const target = `${REPORT_FILES.analyses}/${findings.kind}@${findings.experiment}.csv`;
      await copyFile(join(dir, file), join(outDir, target));
      files.push(target);
    }
    entries.push({ kind: findings.kind, experiment: findings.experiment, title: findings.title, method: findings.method, sentences: findings.sentences, charts, files });
  }
  return entries;
}

/** Copies every chart listed in the given chart folders' manifests to `<outDir>/charts/`. */
async function collectCharts(chartDirs: readonly string[], outDir: string): Promise<{ charts: ReportChart[]; renderer?: ChartManifest["renderer"] }> {
  const target = join(outDir, REPORT_FILES.charts);
  await mkdir(target, { recursive: true });
  const charts: ReportChart[] = [];
  let renderer: ChartManifest["renderer"] | undefined;
  for (const dir of chartDirs) {
    const manifest = JSON.parse(await readFile(join(dir, CHART_MANIFEST), "utf8")) as ChartManifest;
    renderer ??= manifest.renderer;
    for (const entry of manifest.charts) {
      const files = [entry.files.spec, entry.files.svg, ...(entry.files.png ? [entry.files.png] : [])];
      for (const file of files) await copyFile(join(dir, file), join(target, file));
      const relative = (file: string): string => `${REPORT_FILES.charts}/${file}`;
      charts.push({
        name: entry.name,
        title: entry.title,
        scope: entry.scope,
        ...(entry.study === undefined ? {} : { study: entry.study }),
        ...(entry.experiment === undefined ? {} : { experiment: entry.experiment }),
        ...(entry.display === undefined ? {} : { display: entry.display }),
        svg: relative(entry.files.svg),
        spec: relative(entry.files.spec),
        ...(entry.files.png ? { png: relative(entry.files.png) } : {}),
      });
    }
  }
  return renderer ? { charts, renderer } : { charts };
}

function commentaryInput(result: ExperimentResults): CommentaryInput | null {
  const { model, optimizer, training, dataset } = result.meta;
  if (!model || !optimizer || !training || dataset === undefined) return null;
  return { row: experimentRow(result), model, optimizer, training, dataset };
}

/** One seed's numbers, each epoch's metrics (content) beside its timing (run record), as metrics.json lists them. */
function seedDetails(seed: SeedResults): SeedDetails {
  const timings = new Map(seed.run?.measurements.epochs.map((timing) => [timing.epoch, timing]));
  return {
    seed: seed.seed,
    testAccuracy: seed.metrics.accuracy,
    testLoss: seed.metrics.loss,
    macroF1: seed.metrics.macroAvg.f1,
    trainingSeconds: seed.run?.measurements.trainingSeconds ?? null,
    imagesPerSecond: seed.run?.measurements.imagesPerSecond ?? null,
    history: seed.trained.history.map((metrics) => ({ ...metrics, ...timings.get(metrics.epoch) })),
  };
}

export async function buildReport(sources: readonly ExperimentSource[], chartDirs: readonly string[], outDir: string, analysisDirs: readonly string[] = []): Promise<void> {
  const loaded = await Promise.all(sources.map((source) => loadExperimentResults(source, true)));
  const results = sortExperiments(loaded.map((result) => ({ ...result, id: result.meta.id, study: result.meta.study })));
  const rows = results.map(experimentRow);
  const inputs = results.map(commentaryInput).filter((input): input is CommentaryInput => input !== null);
  const { charts, renderer } = await collectCharts(chartDirs, outDir);
  const analyses = await collectAnalyses(analysisDirs, outDir);
  const input: ReportInput = {
    rows,
    commentary: buildCommentary(inputs),
    summaries: results.flatMap((result, index) =>
      result.summary ? [{ id: result.id, architecture: rows[index]!.architecture, variant: rows[index]!.variant, summary: result.summary }] : [],
    ),
    charts,
    environments: results.map((result) => ({ id: result.id, backend: result.trained.backend, versions: result.trained.versions })),
    analyses,
    ...(renderer ? { renderer } : {}),
  };
  await writeFile(join(outDir, REPORT_FILES.markdown), renderReport(input));
  // report.html: the same input (so the same numbers), plus every seed's curves for its run table's comparisons.
  await writeFile(join(outDir, REPORT_FILES.html), (await renderHtmlReport({ report: input, experiments: results, outDir })).html);
  await writeFile(join(outDir, REPORT_FILES.csv), metricsCsv(rows));
  await writeFile(
    join(outDir, REPORT_FILES.json),
    metricsJson(
      results.map((result, index) => {
        const runs = result.seeds.map(seedDetails);
        return { row: rows[index]!, perClass: result.metrics.perClass, confusionMatrix: result.metrics.confusionMatrix, history: runs[0]!.history, runs };
      }),
    ),
  );
}
