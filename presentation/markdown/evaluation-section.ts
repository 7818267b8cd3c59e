/**
 * The report's "How the numbers were measured": where an experiment's declared evaluation departs
 * from eval mode (002's BatchNorm rows, measured as 002 did with batch statistics) both numbers side
 * by side and which one the verdict uses; where a study printed per-epoch test numbers (003), that
 * they are recorded after every epoch here too. Empty when every row is plain eval mode.
 */
import { meanSd, percent, signedPoints } from "../report/format.ts";
import { table } from "../report/markdown.ts";
import { code, reference, type ReportInput } from "../report/report-parts.ts";
import type { ExperimentRow } from "../report/rows.ts";

const mean = (values: readonly number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;
/** "`a` is" / "`a` and `b` are". */
const subject = (rows: readonly ExperimentRow[], joiner = " and "): string => `${rows.map((row) => code(row.id)).join(joiner)} ${rows.length === 1 ? "is" : "are"}`;

function batchStatisticsTable(rows: readonly ExperimentRow[]): string {
  return table(
    ["experiment", "published", "batch statistics, batches of 64 (as the study; the verdict's)", "eval mode, running statistics", "eval mode − batch statistics (points)", "seeds: batch / eval"],
    rows.map((row) => {
      const other = row.otherModeAccuracies;
      return [
        code(row.id),
        reference(row),
        meanSd(row),
        other === null ? "—" : `${percent(mean(other))} (n = ${other.length})`,
        other === null ? "—" : signedPoints((mean(other) - row.testAccuracy) * 100),
        row.seeds.map((seed, index) => `${seed}: ${percent(row.seedAccuracies[index]!)} / ${other === null ? "—" : percent(other[index]!)}`).join("<br>"),
      ];
    }),
    ["left", "right", "right", "right", "right", "right"],
  );
}

export function evaluationSection(input: Pick<ReportInput, "rows">): string[] {
  const batchRows = input.rows.filter((row) => row.evaluationMode === "batch-statistics");
  const testedRows = input.rows.filter((row) => row.perEpochTest);
  if (batchRows.length === 0 && testedRows.length === 0) return [];
  const blocks = ["## How the numbers were measured"];
  if (batchRows.length > 0) {
    const sizes = [...new Set(batchRows.map((row) => row.evaluationBatchSize))].join(", ");
    const studies = [...new Set(batchRows.map((row) => row.study))].join(", ");
    blocks.push(
      `Study ${studies}'s training loop never calls \`net.eval()\`, so its validation and test numbers were measured with BatchNorm normalising each batch with that batch's own statistics (batches of ${sizes}, its loaders'). ` +
        `${subject(batchRows)} evaluated that way here too (\`evaluation.batchNorm: "batch-statistics"\`, batches of ${sizes} in test-set order): ` +
        "**the verdict, the summary and the comparisons use these numbers**, and the validation after each epoch during training follows the same mode, so these rows' curves compare with the study's printed values. " +
        "The same networks in eval mode (running statistics, as `net.eval()`):",
      batchStatisticsTable(batchRows),
      "<sub>Networks without BatchNorm (and without dropout, like all of this study's) give identical numbers either way, so only these rows differ. Evaluating never updates the running statistics here; a PyTorch network left in training mode would also have moved them with every validation and test batch.</sub>",
    );
  }
  if (testedRows.length > 0) {
    blocks.push(
      `${subject(testedRows, ", ")} also evaluated on the test set after every epoch (\`evaluation.testEachEpoch\`), as their study printed test loss and accuracy per epoch; ` +
        "these per-epoch values are in the study's accuracy and loss curves and in `metrics.json`. They play no part in training or in choosing an epoch.",
    );
  }
  return blocks;
}
