/**
 * One section per study: its experiments, their table (mean ± SD (n), each seed's accuracy, times
 * and the conditions they were measured under), the commentary, its charts, confusion matrices and
 * architecture tables.
 */
import { formatSeconds, meanSd, percent } from "../report/format.ts";
import { architectureSections } from "./layer-summary.ts";
import { escapeCell, integer, table } from "../report/markdown.ts";
import { chartBlock, code, delta, reference, type ReportInput } from "../report/report-parts.ts";
import type { ExperimentRow } from "../report/rows.ts";
import { byConcurrency, conditionsCell, timedRows } from "../report/run-conditions.ts";
import { studyHeading } from "../report/studies.ts";

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

export function studySections(input: ReportInput): string[] {
  const rows = input.rows;
  const studies = [...new Set(rows.map((row) => row.study))];
  const out: string[] = [];
  const push = (...blocks: string[]): void => {
    out.push(...blocks, "");
  };
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

  // One block: the <details> lines must stay together as written.
  return [out.join("\n")];
}
