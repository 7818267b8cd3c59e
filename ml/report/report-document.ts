/**
 * report.md: assembled from rows, commentary, layer summaries and the chart manifest. Pure: every
 * input is passed in, so tests build a report from any results without running a stage.
 */
import { type AnalysisReportEntry, analysesSection } from "./analyses-section.ts";
import { comparisonsSection } from "./comparisons-section.ts";
import { formatSeconds, meanSd, percent, signedPoints } from "./format.ts";
import type { Commentary } from "./commentary.ts";
import { architectureSections, type SummarySource } from "./layer-summary.ts";
import { escapeCell, integer, linkTarget, table } from "./markdown.ts";
import { PROVENANCE_PLACEHOLDER } from "./provenance.ts";
import type { ExperimentRow } from "./rows.ts";
import { byConcurrency, conditionsCell, conditionsRange, timedRows } from "./run-conditions.ts";
import { studyHeading } from "./studies.ts";

/** A chart as the report links it: paths relative to report.md. */
export interface ReportChart {
  name: string;
  title: string;
  scope: "experiment" | "study" | "all";
  study?: string;
  experiment?: string;
  svg: string;
  png?: string;
  spec: string;
}

export interface TrainingEnvironment {
  id: string;
  backend: string;
  versions: Record<string, string>;
}

export interface ReportInput {
  rows: readonly ExperimentRow[];
  commentary: Commentary;
  summaries: readonly SummarySource[];
  charts: readonly ReportChart[];
  environments: readonly TrainingEnvironment[];
  /** The analysis stages' findings and charts (none when params has no analyses section). */
  analyses?: readonly AnalysisReportEntry[];
  renderer?: { vega: string; vegaLite: string; font: string };
}

const code = (text: string): string => `\`${text}\``;
function verdictLabel(row: ExperimentRow): string {
  switch (row.verdict) {
    case "consistent":
      return `✅ consistent (n = ${row.n})`;
    case "above":
      return `✅ above (n = ${row.n})`;
    case "below":
      return `❌ below (n = ${row.n})`;
    case "single run":
      return "— single run (difference only)";
    case "no reference":
      return "— no published value";
  }
}

/** The interval as an accuracy can be: within 0–100% (with two seeds it can reach past both ends). */
function predictionCell(row: ExperimentRow): string {
  if (row.predictionLow === null || row.predictionHigh === null) return "—";
  return `${percent(Math.max(0, row.predictionLow))} – ${percent(Math.min(1, row.predictionHigh))}`;
}

function reference(row: ExperimentRow): string {
  return row.referenceAccuracy === null ? "—" : percent(row.referenceAccuracy);
}

function delta(row: ExperimentRow): string {
  return row.deltaPoints === null ? "—" : signedPoints(row.deltaPoints);
}

function chartBlock(chart: ReportChart): string {
  const links = [chart.png ? `[PNG](${linkTarget(chart.png)})` : null, `[Vega-Lite spec](${linkTarget(chart.spec)})`].filter(Boolean).join(" · ");
  return `![${escapeCell(chart.title)}](${linkTarget(chart.svg)})\n<sub>${escapeCell(chart.title)} — ${links}</sub>`;
}

function summaryTable(rows: readonly ExperimentRow[]): string {
  return table(
    ["experiment", "study", "test accuracy, mean ± SD (n)", "published", "Δ mean (points)", "95% prediction interval, one more run", "verdict"],
    rows.map((row) => [code(row.id), row.study, meanSd(row), reference(row), delta(row), predictionCell(row), verdictLabel(row)]),
    ["left", "left", "right", "right", "right", "right", "left"],
  );
}

function studyTable(rows: readonly ExperimentRow[]): string {
  return table(
    ["experiment", "architecture", "variant", "optimizer", "epochs × batch", "test accuracy, mean ± SD (n)", "seeds: accuracy", "reference", "Δ mean (points)", "test loss", "training time per run", "images/s", "at once · load", "parameters"],
    rows.map((row) => [
      code(row.id),
      row.architecture,
      escapeCell(row.variant),
      escapeCell(row.optimizer),
      `${row.epochs} × ${row.batchSize ?? "?"}`,
      `**${meanSd(row)}**`,
      row.seeds.map((seed, index) => `${seed}: ${percent(row.seedAccuracies[index]!)}`).join("<br>"),
      reference(row),
      delta(row),
      row.testLoss.toFixed(4),
      row.trainingSeconds === null ? "—" : formatSeconds(row.trainingSeconds),
      row.imagesPerSecond === null ? "—" : integer(row.imagesPerSecond),
      conditionsCell(row),
      integer(row.parameters),
    ]),
    ["left", "left", "left", "left", "right", "right", "right", "right", "right", "right", "right", "right", "right", "right"],
  );
}

/** The footnote under a study table: what the time columns measured, and whether they compare. */
function timesNote(rows: readonly ExperimentRow[]): string | null {
  if (timedRows(rows).length === 0) return null;
  const groups = byConcurrency(rows);
  const differing =
    groups.length > 1
      ? ` In this table they do not all match: ${groups.map(([count, ids]) => `${count} at once for ${ids.map(code).join(", ")}`).join("; ")}.`
      : "";
  return (
    "<sub>Training time (mean per run over the seeds) and images/s are wall-clock measurements from each training's run record (not its outputs). " +
    "*At once · load*: the most pipeline stages running on the machine when one of the row's trainings started, itself included, and the highest 1-minute load average then; " +
    `times compare like-for-like only between rows with the same count and a similar load.${differing}</sub>`
  );
}

function environmentLines(input: ReportInput, totalSeconds: number): string[] {
  const combos = new Map<string, string[]>();
  for (const environment of input.environments) {
    const versions = Object.entries(environment.versions)
      .filter(([name]) => name === "tfjs" || name === "tfjs-core" || name.startsWith(`tfjs-backend-${environment.backend}`) || name === "tfjs-node" || name === "tfjs-node-gpu")
      .map(([name, version]) => `${name} ${version}`)
      .join(", ");
    const key = `${code(environment.backend)} (${versions || "versions not recorded"})`;
    combos.set(key, [...(combos.get(key) ?? []), environment.id]);
  }
  const lines = [...combos.entries()].map(([combo, ids]) =>
    combos.size === 1 ? `- TensorFlow.js backend: ${combo}, for every experiment.` : `- TensorFlow.js backend ${combo}: ${ids.map(code).join(", ")}.`,
  );
  const timed = timedRows(input.rows);
  if (timed.length > 0) {
    const which = timed.length === input.rows.length ? "all experiments" : `the ${timed.length} of ${input.rows.length} experiments with recorded times`;
    lines.push(`- Total training time: **${formatSeconds(totalSeconds)}** (every seed of ${which}, validation passes included; ${integer(totalSeconds)} s).`);
    lines.push(`- Training times were measured with ${conditionsRange(timed)} (per experiment in each study's table).`);
  } else {
    lines.push("- Training times: not recorded (the report was built without the trainings' run records).");
  }
  if (input.renderer) {
    lines.push(`- Charts: Vega-Lite ${input.renderer.vegaLite} specs rendered by Vega ${input.renderer.vega} to SVG, and to PNG by resvg with ${input.renderer.font}.`);
  }
  lines.push("- Hardware, Node.js and platform of the training runs: in the provenance block at the top, stamped from the run's lock file when the report is published.");
  return lines;
}

/** How the runs were made: what a seed changes and what it does not. */
function seedsParagraph(): string {
  return (
    "Each row is one configuration trained with one or more **seeds** (n). A seed changes the weight initialisation, the order of the training images in each epoch, " +
    "the dropout masks and the random shifts; the validation split stays the study's (its own fixed seed), and every seed is evaluated on the same test set. " +
    "Accuracy, loss and F1 are means over the seeds; the analyses and each experiment's confusion matrix and per-class F1 use its first seed."
  );
}

function verdictParagraph(): string {
  return (
    "Verdicts: the published values are single runs, so each is compared with where **one more run of ours** would fall — the 95% prediction interval " +
    "mean ± t(0.975, n − 1) · s · √(1 + 1/n) over our n seeds (mean ± 0.01 points when every seed scored the same). " +
    "*Consistent*: the published value lies inside it; *above* / *below*: our runs lie above / below it. " +
    "A row with one seed shows its difference and no verdict: one run cannot separate a gap from run-to-run variation."
  );
}

export function renderReport(input: ReportInput): string {
  const rows = input.rows;
  const studies = [...new Set(rows.map((row) => row.study))];
  const totalSeconds = timedRows(rows).reduce((sum, row) => sum + (row.trainingSecondsTotal ?? row.trainingSeconds), 0);
  const allCharts = input.charts.filter((chart) => chart.scope === "all");
  const out: string[] = [];
  const push = (...blocks: string[]): void => {
    out.push(...blocks, "");
  };

  push("# MNIST CNN reproductions: results");
  push(PROVENANCE_PLACEHOLDER);
  const runs = rows.reduce((sum, row) => sum + row.n, 0);
  push(
    `${rows.length} experiment${rows.length === 1 ? "" : "s"} from ${studies.length} stud${studies.length === 1 ? "y" : "ies"} (${studies.join(", ")}), ` +
      `${runs} training run${runs === 1 ? "" : "s"} in all, trained with TensorFlow.js and evaluated on the MNIST test set. Every number below is read from the pipeline's ` +
      "`train` and `evaluate` outputs; the sentences are generated from those numbers.",
  );
  push(seedsParagraph());

  push("## Summary");
  push(input.commentary.overall.map((sentence) => `- ${sentence}`).join("\n"));
  push(summaryTable(rows));
  push(verdictParagraph());
  for (const chart of allCharts) push(chartBlock(chart));

  for (const block of comparisonsSection(input.commentary.comparisons, input.commentary.checks)) push(block);

  for (const study of studies) {
    const members = rows.filter((row) => row.study === study);
    push(`## ${studyHeading(study)}`);
    push(
      members
        .map((row) => `- ${code(row.id)}: ${escapeCell(row.title)}${row.referenceNote ? ` — published value: ${escapeCell(row.referenceNote)}` : ""}`)
        .join("\n"),
    );
    push(studyTable(members));
    const note = timesNote(members);
    if (note) push(note);
    const sentences = input.commentary.byStudy[study] ?? [];
    if (sentences.length > 0) push("**What the numbers say**", sentences.map((sentence) => `- ${sentence}`).join("\n"));
    for (const chart of input.charts.filter((entry) => entry.scope === "study" && entry.study === study)) push(chartBlock(chart));
    const confusions = members.flatMap((row) => input.charts.filter((chart) => chart.scope === "experiment" && chart.experiment === row.id));
    if (confusions.length > 0) {
      push(
        "<details>",
        `<summary>Confusion matrices (${confusions.length})</summary>`,
        "",
        confusions.map(chartBlock).join("\n\n"),
        "",
        "</details>",
      );
    }
    const sources = input.summaries.filter((source) => members.some((row) => row.id === source.id));
    for (const section of architectureSections(sources)) push(section);
  }

  for (const block of analysesSection(input.analyses ?? [], chartBlock)) push(block);

  push("## Environment");
  push(environmentLines(input, totalSeconds).join("\n"));
  push("## Files");
  push(
    [
      "- `metrics.csv`: one row per experiment (the numbers of the tables above, unrounded): n, the seeds and each seed's accuracy, mean, SD, min and max, the prediction interval and verdict.",
      "- `metrics.json`: the same rows plus, per seed, accuracy, loss, F1, training time and the per-epoch history; per-class precision / recall / F1 of the first seed.",
      "- `charts/`: every chart as a Vega-Lite spec (`.vl.json`), SVG and PNG.",
      ...((input.analyses ?? []).length > 0 ? ["- `analyses/`: the analyses' tables as CSV, one file per stage (the full data, `analysis.json`, stays in each stage's artifact)."] : []),
    ].join("\n"),
  );
  return out.join("\n").replace(/\n{3,}/g, "\n\n").trimEnd() + "\n";
}
