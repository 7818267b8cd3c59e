/**
 * report.md: assembled from rows, commentary, layer summaries and the chart manifest, section by
 * section (summary-section.ts, comparisons-section.ts, study-section.ts, analyses-section.ts; the
 * environment and file list here). Pure: every input is passed in, so tests build a report from any
 * results without running a stage.
 */
import { analysesSection } from "./analyses-section.ts";
import { comparisonsSection } from "./comparisons-section.ts";
import { evaluationSection } from "./evaluation-section.ts";
import { classificationSection } from "./classification-section.ts";
import { weightsSection } from "./weights-section.ts";
import { formatSeconds } from "../report/format.ts";
import { code, chartBlock, type ReportInput } from "../report/report-parts.ts";
import { integer } from "../report/markdown.ts";
import { PROVENANCE_PLACEHOLDER } from "../report/provenance.ts";
import { profileNotice } from "./profile-notice.ts";
import { DRAFT_SLOT, slot } from "../report/publish-slots.ts";
import { conditionsRange, timedRows } from "../report/run-conditions.ts";
import { folded, seedsParagraph, summarySection } from "./summary-section.ts";
import { studySections } from "./study-section.ts";

export type { ReportChart, ReportInput, TrainingEnvironment } from "../report/report-parts.ts";

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
    lines.push(`- Total training time: **${formatSeconds(totalSeconds)}** (every seed of ${which}, validation and per-epoch test passes included; ${integer(totalSeconds)} s).`);
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

export function renderReport(input: ReportInput): string {
  const rows = input.rows;
  const studies = [...new Set(rows.map((row) => row.study))];
  const totalSeconds = timedRows(rows).reduce((sum, row) => sum + (row.trainingSecondsTotal ?? row.trainingSeconds), 0);
  const out: string[] = [];
  const push = (...blocks: string[]): void => {
    out.push(...blocks, "");
  };

  push("# MNIST CNN reproductions: results");
  // Empty unless publishing finds the working tree differs from its commit (publish-checks.ts).
  push(slot(DRAFT_SLOT, ""));
  push(PROVENANCE_PLACEHOLDER);
  for (const block of profileNotice(rows)) push(block);
  const runs = rows.reduce((sum, row) => sum + row.n, 0);
  push(
    `${rows.length} experiment${rows.length === 1 ? "" : "s"} from ${studies.length} stud${studies.length === 1 ? "y" : "ies"} (${studies.join(", ")}), ` +
      `${runs} training run${runs === 1 ? "" : "s"} in all, trained with TensorFlow.js and evaluated on the MNIST test set. Every number below is read from the pipeline's ` +
      "`train` and `evaluate` outputs; the sentences are generated from those numbers.",
  );
  push(folded("How the runs were made: seeds", [seedsParagraph()]));

  for (const block of summarySection(input)) push(block);

  for (const block of comparisonsSection(input.commentary.comparisons, input.commentary.checks)) push(block);

  for (const block of evaluationSection(input)) push(block);

  for (const block of studySections(input)) push(block);

  for (const block of classificationSection(input)) push(block);

  for (const block of analysesSection(input.analyses ?? [], chartBlock)) push(block);

  for (const block of weightsSection(input)) push(block);

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
