import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { printedSource, printedValues } from "../../presentation/report/printed-values.ts";

/**
 * presentation/report/study-printed-values.json against the studies' texts: every value is read again from the
 * line it cites, so a typo in the transcription (or a wrong line) fails here. The texts live beside
 * the project (../shared/seeds); a checkout without them skips, saying so.
 */

const seedsRoot = fileURLToPath(new URL("../../", import.meta.url));

async function sourceLines(study: string): Promise<string[] | null> {
  const relative = printedValues().sources[study];
  assert.ok(relative, `a source text for study ${study}`);
  const text = await readFile(new URL(relative, `file://${seedsRoot}`), "utf8").catch(() => null);
  return text === null ? null : text.split("\n");
}

/** The numbers on a printed line, with the extraction's splits ("86.0 1%", "91.4" + "4%") joined. */
function numbersOf(printed: string): number[] {
  return [...printed.replace(/(\d+\.\d) (\d)%/g, "$1$2%").replace(/(\d+\.\d) \/ (\d)%/g, "$1$2%").matchAll(/\d+\.\d+|\d+/g)].map((match) => Number(match[0]));
}

test("every transcribed value is on the line it cites, as printed", async (t) => {
  const { experiments } = printedValues();
  const texts = new Map<string, string[] | null>();
  for (const study of new Set(Object.values(experiments).map((entry) => entry.study))) texts.set(study, await sourceLines(study));
  if ([...texts.values()].some((lines) => lines === null)) {
    t.skip("the studies' texts (../shared/seeds) are not beside this checkout");
    return;
  }
  let checked = 0;
  for (const [id, entry] of Object.entries(experiments)) {
    const lines = texts.get(entry.study)!;
    for (const epoch of entry.epochs) {
      const cited = epoch.lines.map((line) => lines[line - 1]!.trim()).join(" / ");
      assert.equal(epoch.printed, cited, `${id} epoch ${epoch.epoch}: the quoted line(s) ${epoch.lines.join(", ")}`);
      const numbers = numbersOf(epoch.printed);
      const values = [epoch.trainLoss, epoch.valLoss, epoch.trainAccuracyPercent, epoch.testLoss, epoch.testAccuracyPercent, epoch.valAccuracyPercent].filter((value) => value !== undefined);
      for (const value of values) assert.ok(numbers.includes(value!), `${id} epoch ${epoch.epoch}: ${value} is on "${epoch.printed}" (${numbers.join(", ")})`);
      // The epoch: on 002's line itself ("Epoch: 3/5"), on the line above 003's ("Train Epoch 2").
      const named = entry.study === "002" ? epoch.printed : lines[epoch.lines[0]! - 2]!;
      assert.match(named, new RegExp(`Epoch:? ${epoch.epoch}\\b`), `${id}: epoch ${epoch.epoch} is named where it was printed`);
      checked += values.length;
    }
    const report = entry.classificationReport;
    if (report) {
      assert.equal(lines[report.accuracyLine - 1]!.trim(), report.accuracyPrinted);
      for (const row of report.classes) {
        assert.deepEqual(lines[row.line - 1]!.split("\t").map(Number), [row.digit, row.precision, row.recall, row.f1, row.support], `${id} class ${row.digit}`);
        checked += 4;
      }
    }
  }
  // 002: 6 runs × 5 epochs × 3 values, 6 reports × 10 classes × 4; 003: 8 runs × 2 epochs × 4.
  assert.equal(checked, 90 + 240 + 64);
  assert.equal(printedSource("simple-sgd-bn"), "002_596c94d547c32059.txt, lines 760–769");
});

test("the transcription covers what the studies printed: 002's six runs with their reports, 003's eight complete runs", () => {
  const { experiments } = printedValues();
  const byStudy = (study: string) => Object.keys(experiments).filter((id) => experiments[id]!.study === study).sort();
  assert.deepEqual(byStudy("002"), ["simple-adam", "simple-adam-bn", "simple-momentum", "simple-rmsprop", "simple-sgd", "simple-sgd-bn"]);
  assert.ok(byStudy("002").every((id) => experiments[id]!.epochs.length === 5 && experiments[id]!.classificationReport?.classes.length === 10));
  assert.deepEqual(byStudy("003"), ["lenet", "lenet-bn", "lenet-bn-dropout", "lenet-bn-xavier", "lenet-dropout-0.25", "lenet-dropout-0.5", "lenet-dropout-0.75", "lenet-sigmoid"]);
  // The last printed test accuracy is each row's published value (EXPERIMENTS.md).
  assert.equal(experiments.lenet!.epochs.at(-1)!.testAccuracyPercent, 98.11);
  assert.equal(experiments["simple-sgd-bn"]!.classificationReport!.accuracyPrinted, "Accuracy: 96.83%");
});
