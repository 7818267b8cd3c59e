/**
 * Classification reports where a study printed one (002, for every run): per digit precision,
 * recall, F1 and support of our first seed beside the study's printed values, rounded to two
 * decimals as sklearn's classification_report prints them, plus accuracy and the macro / weighted
 * averages. One folded table per experiment, so the page stays short.
 */
import type { AverageMetrics } from "../../ml/evaluate.ts";
import { table } from "../report/markdown.ts";
import { printedValues, type PrintedClass } from "../report/printed-values.ts";
import { code, type ReportInput } from "../report/report-parts.ts";
import type { ExperimentRow } from "../report/rows.ts";

const two = (value: number): string => value.toFixed(2);
/** "0.97 (0.96)": ours, then the study's in parentheses; "0.97 (=)" where they agree at two decimals. */
const beside = (ours: number, theirs: number | undefined): string => (theirs === undefined ? two(ours) : `${two(ours)} (${two(ours) === two(theirs) ? "=" : two(theirs)})`);

/** The studies printed their reports on the full test set; a subset's numbers are shown alone. */
const FULL_TEST_SET = 10_000;

function reportTable(row: ExperimentRow, printed: readonly PrintedClass[]): string {
  const theirs = new Map(printed.map((entry) => [entry.digit, entry]));
  const average = (label: string, values: AverageMetrics) => [label, two(values.precision), two(values.recall), two(values.f1), values.support.toLocaleString("en-US")];
  return table(
    ["class", "precision", "recall", "F1", "support"],
    [
      ...row.perClass.map((entry) => {
        const study = theirs.get(entry.label);
        return [String(entry.label), beside(entry.precision, study?.precision), beside(entry.recall, study?.recall), beside(entry.f1, study?.f1), entry.support.toLocaleString("en-US")];
      }),
      ["accuracy", "", "", two(row.seedAccuracies[0]!), row.testImages.toLocaleString("en-US")],
      average("macro avg", row.averages.macro),
      average("weighted avg", row.averages.weighted),
    ],
    ["left", "right", "right", "right", "right"],
  );
}

export function classificationSection(input: Pick<ReportInput, "rows">): string[] {
  const printed = printedValues().experiments;
  const rows = input.rows.filter((row) => printed[row.id]?.classificationReport && row.perClass.length > 0);
  if (rows.length === 0) return [];
  const studies = [...new Set(rows.map((row) => row.study))].join(", ");
  const blocks = [
    "## Classification reports",
    `Where study ${studies} printed a classification report, ours beside it: per digit, our first seed's value and the study's in parentheses ("=" where they agree to the two decimals it printed), on the test set.`,
  ];
  for (const row of rows) {
    const report = printed[row.id]!.classificationReport!;
    const comparable = row.testImages === FULL_TEST_SET;
    blocks.push(
      [
        "<details>",
        `<summary>${code(row.id)} (seed ${row.seeds[0]}): accuracy ${(row.seedAccuracies[0]! * 100).toFixed(2)}%` +
          (comparable ? `, the study printed "${report.accuracyPrinted}"` : ` on ${row.testImages.toLocaleString("en-US")} test images (a subset: the study's full-test-set values are not shown beside it)`) +
          "</summary>",
        "",
        reportTable(row, comparable ? report.classes : []),
        "",
        "</details>",
      ].join("\n"),
    );
  }
  return blocks;
}
