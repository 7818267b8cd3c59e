/**
 * The notice at the top of a subset profile's report (the quick and CI profiles): what the runs
 * trained and were tested on, that they check the pipeline rather than reproduce the studies, that
 * no verdict against the studies' full-data numbers is given, and which params file made them
 * (named when the report is published: publish-slots.ts).
 */
import { PARAMS_FILE_SLOT, slot } from "../report/publish-slots.ts";
import type { ExperimentRow } from "../report/rows.ts";

const MNIST_TRAIN = 60_000;
const MNIST_TEST = 10_000;
const count = (value: number): string => value.toLocaleString("en-US");

function range(values: readonly number[]): string {
  const sorted = [...new Set(values)].sort((a, b) => a - b);
  return sorted.length === 1 ? count(sorted[0]!) : `${count(sorted[0]!)}–${count(sorted.at(-1)!)}`;
}

export function profileNotice(rows: readonly ExperimentRow[]): string[] {
  const subset = rows.filter((row) => row.subset !== null);
  if (subset.length === 0) return [];
  const train = range(subset.map((row) => row.subset!.trainImages ?? MNIST_TRAIN));
  const test = range(subset.map((row) => row.subset!.testImages ?? MNIST_TEST));
  const epochs = range(subset.map((row) => row.epochs));
  const which = subset.length === rows.length ? "Every experiment here" : `${subset.length} of the ${rows.length} experiments here`;
  return [
    `> **Subset profile, not a reproduction.** ${which} trained on ${train} of MNIST's ${count(MNIST_TRAIN)} training images for ${epochs} epoch${epochs === "1" ? "" : "s"} ` +
      `and was tested on ${test} of its ${count(MNIST_TEST)} test images, from the params file ${slot(PARAMS_FILE_SLOT, "of this profile (named when the report is published)")}. ` +
      "It checks that the pipeline runs end to end; its numbers are not comparable with the studies' full-data values, so this report gives no verdict against them " +
      "(the published values are listed for reference only). The reproduction is the full grid's report, `reports/report.md` (`params.json`).",
  ];
}
