import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFile, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { executeStages, type RunSummary } from "../../engine/executor.ts";
import { Session } from "../../engine/session.ts";
import type { ModelConfig, OptimizerConfig, TrainingConfig } from "../../ml/config.ts";
import { comparisonCharts, experimentCharts, printedPoints } from "../../presentation/charts/chart-sets.ts";
import { accuracyCurvesSpec, lossCurvesSpec } from "../../presentation/charts/charts-training.ts";
import { testAccuracySpec, type AccuracyRow } from "../../presentation/charts/charts-comparison.ts";
import type { EpochMetrics } from "../../ml/train.ts";
import { CHART_MANIFEST, type ChartManifest } from "../../presentation/report/chart-manifest.ts";
import { buildCommentary, type CommentaryInput } from "../../presentation/report/commentary.ts";
import { metricsCsv } from "../../presentation/report/metrics-files.ts";
import { PROVENANCE_BEGIN, PROVENANCE_END } from "../../presentation/report/provenance.ts";
import { publishReport, reportOutDirFromLock } from "../../presentation/report/publish.ts";
import { rasterize, renderSvg, svgToPng } from "../../presentation/charts/render.ts";
import { loadExperimentResults, type ExperimentResults } from "../../presentation/report/results.ts";
import type { ExperimentRow } from "../../presentation/report/rows.ts";
import { renderReport } from "../../presentation/markdown/report-document.ts";
import { judgeAgainstPublished, judgeChallenge } from "../../presentation/report/verdicts.ts";
import { seedPredictions, storePath } from "../../presentation/report/rows.ts";
import { weightsSection } from "../../presentation/markdown/weights-section.ts";
import { classificationSection } from "../../presentation/markdown/classification-section.ts";
import { printedValues } from "../../presentation/report/printed-values.ts";
import type { RunRecord } from "../../engine/run-record.ts";
import { tinyProfileBase, tinyWorkDir } from "../helpers/tiny-profile.ts";
import { project } from "../../stages/index.ts";

/**
 * The report and chart stages on real results: a tiny profile (600 training images, 2 epochs, four
 * experiments in two studies, the two LeNets with two seeds each) trained and evaluated for real
 * through the engine, then the charts and the report built by the real stages. One run is shared by
 * the tests below; the rerun tests change params and check through the engine's outcomes what reran.
 */

function tinyParams(): any {
  const lenet = { arch: "lenet", loss: "log-softmax-nll" };
  const lenetSgd = { name: "sgd", lr: 0.01, momentum: 0.5 };
  return {
    ...tinyProfileBase({ train: 600, test: 200, validation: 100, epochs: 2 }),
    experiments: {
      "conv1-sgd": { title: "conv1, SGD", study: "001", dataset: "tiny-raw", reference: { accuracy: 0.939, note: "at least this" }, model: { arch: "conv1" }, optimizer: { name: "sgd", lr: 0.05 } },
      "conv1-adam": { title: "conv1, Adam", study: "001", dataset: "tiny-raw", reference: { accuracy: null }, model: { arch: "conv1" }, optimizer: { name: "adam", lr: 0.001 } },
      lenet: { title: "LeNet", study: "003", dataset: "tiny", reference: { accuracy: 0.9811 }, model: lenet, optimizer: lenetSgd, training: { seeds: 2 }, evaluation: { testEachEpoch: true } },
      "lenet-dropout-0.5": { title: "LeNet, dropout 0.5", study: "003", dataset: "tiny", reference: { accuracy: 0.9806 }, model: { ...lenet, dropout: 0.5 }, optimizer: lenetSgd, training: { seeds: 2 } },
      // 002's way of evaluating a BatchNorm network: batch statistics over batches of 64.
      "simple-sgd-bn": {
        title: "Simple CNN + BatchNorm, SGD", study: "002", dataset: "tiny", reference: { accuracy: 0.9683 }, model: { arch: "simple", batchNorm: true },
        optimizer: { name: "sgd", lr: 0.01 }, evaluation: { batchNorm: "batch-statistics", batchSize: 64 },
      },
    },
  };
}

const IDS = Object.keys(tinyParams().experiments);
/** The tiny profile's base seed is 3: the LeNets train seeds 3 and 4 (`train@lenet+seed=3`), the conv1s one plain run. */
const SEEDS: Record<string, number[]> = { "conv1-sgd": [3], "conv1-adam": [3], lenet: [3, 4], "lenet-dropout-0.5": [3, 4], "simple-sgd-bn": [3] };
const stageOf = (family: "train" | "evaluate", id: string, seed: number): string => (SEEDS[id]!.length > 1 ? `${family}@${id}+seed=${seed}` : `${family}@${id}`);

let workDir = "";
let paramsFile = "";
let first: RunSummary;

async function run(params: unknown): Promise<RunSummary> {
  await writeFile(paramsFile, JSON.stringify(params));
  return executeStages(await Session.open(project, { paramsFile, workDir }), { jobs: 2 });
}

function statuses(summary: RunSummary): Record<string, string> {
  return Object.fromEntries(Object.entries(summary.outcomes).map(([name, outcome]) => [name, outcome.status]));
}

/** The output folder of a stage as the lock records it after the last run. */
async function outDir(stage: string): Promise<string> {
  const session = await Session.open(project, { paramsFile, workDir });
  const entry = session.lock.stages[stage];
  assert.ok(entry, `the lock has ${stage}`);
  return join(workDir, entry.artifact, "out");
}

/** The run record kept beside a stage's result (where training times live), as the lock names it. */
async function runRecord(stage: string): Promise<RunRecord> {
  const session = await Session.open(project, { paramsFile, workDir });
  const stored = await session.store.readRecord(stage, session.lock.stages[stage]!.fingerprint);
  assert.ok(stored?.run, `${stage} has a run record`);
  return stored.run;
}

/** withDatasets: with the datasets' declared preparation (a subset here), as the chart stage reads them; without, as if full data. */
async function loadResults(options: { withRecords: boolean; withDatasets?: boolean }): Promise<ExperimentResults[]> {
  const params = tinyParams();
  return Promise.all(
    IDS.map(async (id) =>
      loadExperimentResults(
        {
          meta: {
            id,
            study: params.experiments[id].study,
            reference: params.experiments[id].reference,
            ...(options.withDatasets ? { datasetConfig: params.datasets[params.experiments[id].dataset] } : {}),
          },
          runs: await Promise.all(
            SEEDS[id]!.map(async (seed) => ({
              seed,
              trainDir: await outDir(stageOf("train", id, seed)),
              evaluateDir: await outDir(stageOf("evaluate", id, seed)),
              ...(options.withRecords ? { trainRecord: await runRecord(stageOf("train", id, seed)) } : {}),
            })),
          ),
        },
        true,
      ),
    ),
  );
}

before(async () => {
  workDir = await tinyWorkDir("report-");
  paramsFile = join(workDir, "params.json");
  first = await run(tinyParams());
});

// A rig holds ~70 MB (MNIST copies, models); KEEP_RIGS=1 keeps it for a look after the run.
const leftovers: string[] = [];
after(async () => {
  if (process.env.KEEP_RIGS) return;
  for (const dir of [workDir, ...leftovers]) if (dir) await rm(dir, { recursive: true, force: true });
});

test("the tiny profile runs every stage, chart and report stages included", () => {
  assert.equal(first.ok, true, JSON.stringify(first.outcomes));
  const names = Object.keys(first.outcomes);
  for (const id of IDS) assert.ok(names.includes(`charts@${id}`), `charts@${id} is a stage`);
  assert.ok(names.includes("comparison-charts") && names.includes("report"));
  assert.ok(Object.values(statuses(first)).every((status) => status === "ran"));
});

test("report.md covers every experiment, links only files that exist, and leaves a provenance placeholder", async () => {
  const dir = await outDir("report");
  const markdown = await readFile(join(dir, "report.md"), "utf8");
  for (const id of IDS) {
    assert.match(markdown, new RegExp(`\\| \`${id.replace(/\./g, "\\.")}\` \\| ${tinyParams().experiments[id].study} \\|`), `${id} is in the summary table`);
    assert.ok(markdown.includes(`confusion-${id}.svg`), `${id}'s confusion matrix is linked`);
  }
  for (const heading of ["## Summary", "## Study 001", "## Study 003", "## Environment", "#### Architecture `conv1`", "#### Architecture `lenet`"]) {
    assert.ok(markdown.includes(heading), `has "${heading}"`);
  }
  assert.ok(markdown.includes(PROVENANCE_BEGIN) && markdown.includes(PROVENANCE_END));
  // Study 002's split: parameters per kind, from summary.json.
  assert.match(markdown, /Parameters: \*\*12,760\*\* — conv 650, fully connected 12,110/);
  assert.match(markdown, /Parameters: \*\*431,080\*\* — conv 25,570, fully connected 405,510/);
  // Commentary from the numbers: one optimizer comparison (conv1, single runs: not tested) and one
  // dropout comparison (lenet, two seeds each: paired and tested).
  assert.match(markdown, /- Same model and data, best mean first: (Adam|SGD) \(lr [\d.]+\) [\d.]+% \(n = 1\)/);
  assert.match(markdown, /(Adam|SGD) \(lr [\d.]+\) instead of (Adam|SGD) \(lr [\d.]+\) \(conv1, 2 epochs\): .*not tested \(a single seed in common\)/);
  assert.match(
    markdown,
    /- dropout 0\.5 instead of none \(lenet, SGD \+ momentum 0\.5, 2 epochs\): `lenet-dropout-0\.5` [\d.]+% ± [\d.]+ \(n = 2\) vs `lenet` [\d.]+% ± [\d.]+ \(n = 2\); paired over 2 seeds: [+−±][\d.]+ points \(95% CI [^)]+\), p = [<\d. ]+, Holm-adjusted p = [<\d. ]+: (no detectable difference at n = 2|`lenet-dropout-0\.5` is (higher|lower))\./,
  );
  assert.ok(!/no effect/i.test(markdown), "never reads a non-detection as no effect");
  assert.match(markdown, /## What changes what\n\nPairs of experiments that differ in one setting only/);
  // Rows: mean ± SD (n), each seed's accuracy. The rig trains on subsets (600 / 200 images), so no row gets a verdict
  // against the studies' full-data values (the verdicts themselves are tested on hand-made rows below), and the Δ
  // since the last committed report waits for publishing.
  assert.match(markdown, /\| `lenet` \| 003 \| [\d.]+% ± [\d.]+ \(n = 2\) \| 98\.11% \| — \| — \| — subset run: no verdict \| <!--slot:delta:lenet-->—<!--\/slot--> \|/);
  assert.match(markdown, /\| `conv1-sgd` \| 001 \| [\d.]+% \(n = 1\) \| 93\.90% \| — \| — \| — subset run: no verdict \| <!--slot:delta:conv1-sgd-->—<!--\/slot--> \|/);
  assert.ok(!/✅|❌|consistent \(n|Rows with several seeds: the published value/.test(markdown), "no verdict and no reproduction count anywhere");
  // One screen of summary: headline bullets and the table; how verdicts are made and the charts fold below it.
  const summary = markdown.slice(markdown.indexOf("## Summary"), markdown.indexOf("\n## ", markdown.indexOf("## Summary")));
  const visible = summary.replace(/<details>[\s\S]*?<\/details>/g, "").split("\n").filter((line) => line.trim() !== "");
  assert.ok(!visible.some((line) => line.startsWith("![")), "no chart open in the summary");
  assert.ok(visible.length <= IDS.length + 10, `the summary shows ${visible.length} lines`);
  assert.match(summary, /<details>\n<summary>How verdicts are made, and 3 charts across all experiments<\/summary>/);
  assert.match(markdown, /<details>\n<summary>How the runs were made: seeds<\/summary>/);
  // The notice at the top: what the runs trained on, no verdict, and a slot for the params file.
  assert.match(
    markdown,
    /^# MNIST CNN reproductions: results\n\n<!--slot:draft--><!--\/slot-->\n\n<!-- provenance:begin -->[\s\S]*?<!-- provenance:end -->\n\n> \*\*Subset profile, not a reproduction\.\*\* Every experiment here trained on 600 of MNIST's 60,000 training images for 2 epochs and was tested on 200 of its 10,000 test images, from the params file <!--slot:params-file-->of this profile \(named when the report is published\)<!--\/slot-->\. .* so this report gives no verdict against them/,
  );
  assert.match(markdown, /3: [\d.]+%<br>4: [\d.]+%/, "each seed's accuracy in the study table");
  assert.match(markdown, /the validation split stays the study's/);
  assert.ok(markdown.includes("backend: `"), "names the tfjs backend");

  const links = [...markdown.matchAll(/\]\(([^)]+)\)/g)].map((match) => match[1]!);
  assert.ok(links.length >= 3 * (IDS.length + 7), `links every chart in three formats (${links.length})`);
  const files = new Set((await readdir(join(dir, "charts"))).map((file) => `charts/${file}`));
  for (const link of links) assert.ok(files.has(link), `${link} exists beside report.md`);

  const csv = (await readFile(join(dir, "metrics.csv"), "utf8")).trim().split("\n");
  assert.equal(csv.length, IDS.length + 1);
  assert.ok(csv[0]!.startsWith("id,study,title,architecture,variant,optimizer,"));
  assert.ok(csv[0]!.includes(",n,seeds,test_accuracy,test_accuracy_sd,test_accuracy_min,test_accuracy_max,seed_accuracies,"));
  const json = JSON.parse(await readFile(join(dir, "metrics.json"), "utf8"));
  assert.deepEqual(json.experiments.map((experiment: { id: string }) => experiment.id).sort(), [...IDS].sort());
  for (const experiment of json.experiments) {
    assert.equal(experiment.history.length, 2);
    assert.equal(experiment.testImages, 200);
    assert.deepEqual(experiment.seeds, SEEDS[experiment.id]);
    assert.equal(experiment.n, SEEDS[experiment.id]!.length);
    assert.deepEqual(experiment.runs.map((run: { seed: number }) => run.seed), SEEDS[experiment.id]);
  }

  // Per seed: each seed's accuracy is its evaluate stage's; the row holds their mean, SD and range.
  const lenet = json.experiments.find((experiment: { id: string }) => experiment.id === "lenet");
  const perSeed = await Promise.all(SEEDS.lenet!.map(async (seed) => JSON.parse(await readFile(join(await outDir(stageOf("evaluate", "lenet", seed)), "metrics.json"), "utf8")).accuracy as number));
  assert.deepEqual(lenet.seedAccuracies, perSeed);
  assert.notEqual(perSeed[0], perSeed[1], "two seeds train two different networks");
  // What each seed answers, read from its own confusion matrix (the dropout-1 explanation is built on it).
  assert.deepEqual(lenet.seedPredictions.map((seed: { accuracy: number }) => seed.accuracy), perSeed);
  assert.equal(lenet.seedPredictions[0].trainAccuracy, lenet.runs[0].history.at(-1).trainAccuracy);
  assert.equal(lenet.testAccuracy, (perSeed[0]! + perSeed[1]!) / 2);
  assert.equal(lenet.testAccuracyMin, Math.min(...perSeed));
  assert.ok(Math.abs(lenet.testAccuracySd - Math.abs(perSeed[0]! - perSeed[1]!) / Math.SQRT2) < 1e-12);
  assert.deepEqual([lenet.predictionLow, lenet.predictionHigh, lenet.verdict], [null, null, "subset"], "no interval against a published value on a subset");
  assert.deepEqual(lenet.subset, { trainImages: 600, testImages: 200 });
  assert.equal(json.experiments.find((experiment: { id: string }) => experiment.id === "conv1-sgd").verdict, "subset");

  // Training times come from the trainings' run records, not history.json, with the load they ran under.
  for (const experiment of json.experiments) {
    for (const run of experiment.runs) {
      const record = await runRecord(stageOf("train", experiment.id, run.seed));
      const measurements = record.measurements as { trainingSeconds: number; imagesPerSecond: number; epochs: { seconds: number }[] };
      assert.equal(run.trainingSeconds, measurements.trainingSeconds, `${experiment.id} seed ${run.seed}: training time from its run record`);
      assert.equal(run.imagesPerSecond, measurements.imagesPerSecond);
      assert.deepEqual(run.history.map((epoch: { seconds: number }) => epoch.seconds), measurements.epochs.map((epoch) => epoch.seconds));
      const history = JSON.parse(await readFile(join(await outDir(stageOf("train", experiment.id, run.seed)), "history.json"), "utf8"));
      assert.ok(!("totalSeconds" in history) && !("seconds" in history.history[0]), "history.json holds no timings");
    }
    const seconds = experiment.runs.map((run: { trainingSeconds: number }) => run.trainingSeconds);
    assert.ok(Math.abs(experiment.trainingSecondsTotal - seconds.reduce((a: number, b: number) => a + b, 0)) < 1e-9, "the row's total is every seed's training");
    const first = await runRecord(stageOf("train", experiment.id, SEEDS[experiment.id]![0]!));
    if (experiment.n === 1) assert.equal(experiment.concurrentStages, first.load.concurrentStages);
  }
  assert.match(markdown, /\| training time per run \| images\/s \| at once · load \| parameters \|/);
  assert.match(markdown, /\| \d+ · \d+\.\d\d \| [\d,]+ \|\n/, "stages at once and load beside each time");
  assert.match(markdown, /times compare like-for-like only between rows with the same count/);
  assert.match(markdown, /- Training times were measured with \d+(–\d+)? stages? at once, load /);
});

test("002's BatchNorm row: evaluated with batch statistics over 64 (the verdict's numbers), eval mode beside it; 003's LeNet tested after each epoch", async () => {
  const metrics = JSON.parse(await readFile(join(await outDir("evaluate@simple-sgd-bn"), "metrics.json"), "utf8"));
  assert.equal(metrics.batchNorm, "batch-statistics");
  assert.equal(metrics.batchSize, 64);
  assert.equal(metrics.otherMode.batchNorm, "running-statistics");
  assert.notEqual(metrics.otherMode.accuracy, metrics.accuracy, "the two modes differ on this network");
  const plain = JSON.parse(await readFile(join(await outDir("evaluate@conv1-sgd"), "metrics.json"), "utf8"));
  assert.equal(plain.batchNorm, "running-statistics");
  assert.equal(plain.otherMode, undefined);
  // Validation during training followed the declared mode: the history's validation numbers are batch-statistics ones.
  const history = JSON.parse(await readFile(join(await outDir("train@simple-sgd-bn"), "history.json"), "utf8"));
  assert.ok(history.history.every((epoch: { valAccuracy?: number; testAccuracy?: number }) => epoch.valAccuracy !== undefined && epoch.testAccuracy === undefined));

  const markdown = await readFile(join(await outDir("report"), "report.md"), "utf8");
  assert.ok(markdown.includes("## How the numbers were measured"));
  assert.match(markdown, /\*\*the verdict, the summary and the comparisons use these numbers\*\*, and the validation after each epoch during training follows the same mode/);
  const percentOf = (value: number): string => `${(value * 100).toFixed(2)}%`;
  const row = markdown.split("\n").find((line) => line.startsWith("| `simple-sgd-bn` | 96.83% |"));
  assert.ok(row, "a row for simple-sgd-bn with its published value");
  assert.ok(row.includes(`| ${percentOf(metrics.accuracy)} (n = 1) | ${percentOf(metrics.otherMode.accuracy)} (n = 1) |`), row);
  // The summary's verdict row is built on the batch-statistics accuracy.
  assert.match(markdown, new RegExp(`\\| \`simple-sgd-bn\` \\| 002 \\| ${percentOf(metrics.accuracy).replace(".", "\\.")} \\(n = 1\\) \\| 96\\.83% \\|`));

  // 003's per-epoch test pass: in the history of every lenet seed, not in the rows that did not ask for it.
  for (const seed of SEEDS.lenet!) {
    const lenetHistory = JSON.parse(await readFile(join(await outDir(stageOf("train", "lenet", seed)), "history.json"), "utf8"));
    assert.ok(lenetHistory.history.every((epoch: { testAccuracy?: number; testLoss?: number }) => epoch.testAccuracy !== undefined && epoch.testLoss! > 0));
    const record = await runRecord(stageOf("train", "lenet", seed));
    assert.ok((record.measurements as { testSeconds: number }).testSeconds > 0, "the test passes' time is a measurement in the run record");
  }
  const last = JSON.parse(await readFile(join(await outDir(stageOf("train", "lenet", 3)), "history.json"), "utf8")).history.at(-1);
  const lenetMetrics = JSON.parse(await readFile(join(await outDir(stageOf("evaluate", "lenet", 3)), "metrics.json"), "utf8"));
  assert.equal(last.testAccuracy, lenetMetrics.accuracy, "the last epoch's test pass is the evaluate stage's number");
  assert.match(markdown, /`lenet` is also evaluated on the test set after every epoch/);
  // 002 printed a classification report for this row: ours is in the report (on 200 images, without the study's beside it).
  assert.match(markdown, /## Classification reports[\s\S]*<summary>`simple-sgd-bn` \(seed 3\): accuracy [\d.]+% on 200 test images/);
  assert.equal((markdown.match(/\n\| (\d) \| \d\.\d\d \| \d\.\d\d \| \d\.\d\d \| \d+ \|/g) ?? []).length, 10, "one line per digit");
});

test("trained weights: the report says where each run's weights are (the lock's artifact folder) and how to load them, and that loads", async () => {
  const markdown = await readFile(join(await outDir("report"), "report.md"), "utf8");
  assert.match(markdown, /## Trained weights\n\nEvery network trained here \(7 runs\)/);
  assert.match(markdown, /import \{ loadModel \} from "\.\/ml\/weights\.ts";/);
  const session = await Session.open(project, { paramsFile, workDir });
  for (const id of IDS) {
    for (const seed of SEEDS[id]!) {
      const stage = stageOf("train", id, seed);
      const folder = `${session.lock.stages[stage]!.artifact}/out`;
      assert.ok(markdown.includes(`| \`${id}\` | ${seed} | \`${folder}\` | the last epoch |`), `${stage}'s folder is listed`);
    }
  }
  // The example in the report loads as written, from the project folder.
  const example = /await loadModel\("([^"]+)"\); \/\/ (\S+), seed (\d+)/.exec(markdown);
  assert.ok(example);
  const { loadModel } = await import("../../ml/weights.ts");
  const model = await loadModel(join(workDir, example[1]!));
  assert.equal(model.config.arch, tinyParams().experiments[example[2]!].model.arch);
  model.dispose();
});

test("charts: every spec compiles and renders to SVG and PNG, from the stage files and from the builders", async () => {
  const comparisonDir = await outDir("comparison-charts");
  const manifest = JSON.parse(await readFile(join(comparisonDir, CHART_MANIFEST), "utf8")) as ChartManifest;
  assert.deepEqual(manifest.charts.map((chart) => chart.name).sort(), [
    "per-class-f1",
    "study-001-accuracy",
    "study-001-loss",
    "study-002-accuracy",
    "study-002-loss",
    "study-003-accuracy",
    "study-003-loss",
    // No "study-…-seeds": a subset profile's runs are not placed against the studies' published values.
    "test-accuracy",
    "training-cost",
  ]);
  const stored = JSON.parse(await readFile(join(comparisonDir, "test-accuracy.vl.json"), "utf8"));
  assert.ok(stored.data.values.every((value: { reference: number | null; label: string }) => value.reference === null && /subset run, not compared/.test(value.label)));
  for (const chart of manifest.charts) {
    const png = await readFile(join(comparisonDir, chart.files.png!));
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${chart.name}.png is a PNG`);
    assert.match(await readFile(join(comparisonDir, chart.files.svg), "utf8"), /^<svg[^>]*width="\d+"/);
    const spec = JSON.parse(await readFile(join(comparisonDir, chart.files.spec), "utf8"));
    assert.equal(spec.$schema, "https://vega.github.io/schema/vega-lite/v5.json");
  }

  const results = await loadResults({ withRecords: true });
  const charts = [...results.flatMap((result) => experimentCharts(result.meta.id, result.metrics)), ...comparisonCharts(results)];
  for (const chart of charts) {
    const svg = await renderSvg(chart.spec);
    assert.ok(svg.startsWith("<svg") && svg.includes("</svg>"), `${chart.name} renders`);
    assert.ok(svg.includes(chart.name.startsWith("confusion-") ? "Confusion matrix" : "<text"), `${chart.name} has text`);
  }
  // Same results and datasets, same specs: what the stages wrote is what the builders make.
  const declared = comparisonCharts(await loadResults({ withRecords: true, withDatasets: true }));
  for (const name of ["test-accuracy", "training-cost"]) {
    const stored = JSON.parse(await readFile(join(comparisonDir, `${name}.vl.json`), "utf8"));
    assert.deepEqual(stored, JSON.parse(JSON.stringify(declared.find((chart) => chart.name === name)!.spec)), `${name}: the stage drew what the builders draw`);
  }
  // The rest of this test reads the same results as if they were full data: every chart, the seed plots included.
  // Without run records there are no times to draw: the cost chart is left out, the others stay.
  const untimed = comparisonCharts(await loadResults({ withRecords: false })).map((chart) => chart.name);
  assert.ok(!untimed.includes("training-cost") && untimed.includes("test-accuracy"));

  // The colour of an experiment is fixed: the same in its study's loss, accuracy and seed charts.
  const colorsOf = (name: string): unknown => {
    const spec = charts.find((chart) => chart.name === name)!.spec as any;
    return (spec.encoding?.color ?? spec.layer.find((layer: any) => layer.encoding?.color).encoding.color).scale;
  };
  assert.deepEqual(colorsOf("study-003-loss"), colorsOf("study-003-accuracy"));
  assert.deepEqual(colorsOf("study-003-loss"), colorsOf("study-003-seeds"));
  // The seed chart draws every seed; the curves a mean line over a band where seeds differ.
  const seedChart = charts.find((chart) => chart.name === "study-003-seeds")!.spec as any;
  const dots = seedChart.layer.find((layer: any) => layer.mark.type === "point").data.values;
  assert.deepEqual(dots.map((dot: { experiment: string; seed: number }) => `${dot.experiment}:${dot.seed}`).sort(), ["lenet-dropout-0.5:3", "lenet-dropout-0.5:4", "lenet:3", "lenet:4"]);
  const curve = charts.find((chart) => chart.name === "study-003-loss")!.spec as any;
  // 200 test images: no overlay of the studies' full-data values.
  assert.deepEqual(curve.layer.map((layer: any) => layer.mark.type), ["area", "line"]);
  assert.ok(curve.layer[0].data.values.some((value: { low: number; high: number }) => value.high > value.low), "the seeds' band has width");
  // lenet is tested after each epoch: its test curves are drawn, so 003's curves are not training-only.
  assert.ok(curve.layer[1].data.values.some((value: { experiment: string; split: string }) => value.experiment === "lenet" && value.split === "test"));
  const accuracy = charts.find((chart) => chart.name === "study-003-accuracy")!.spec as any;
  assert.deepEqual([...new Set(accuracy.layer[1].data.values.filter((value: any) => value.experiment === "lenet").map((value: any) => value.split))].sort(), ["test", "validation"]);
});

test("chart rules: the studies' printed values over our curves, accuracy axes end at 100%, the Δ panel clipped to ±3 with labels, legends match marks", async () => {
  const history = (epochs: number, value: (epoch: number) => Partial<EpochMetrics>): EpochMetrics[] =>
    Array.from({ length: epochs }, (_, index) => ({ epoch: index + 1, trainLoss: 0.5 / (index + 1), trainAccuracy: 0.9, ...value(index + 1) }));
  const colors = { domain: ["simple-sgd-bn", "simple-adam"], range: ["#4e79a7", "#f28e2b"] };
  const printed = printedPoints("simple-sgd-bn");
  const series = [
    { id: "simple-sgd-bn", histories: [history(5, (epoch) => ({ valLoss: 0.4 / epoch, valAccuracy: 0.9 + epoch / 100 }))], printed },
    { id: "simple-adam", histories: [history(5, (epoch) => ({ valLoss: 0.1 / epoch, valAccuracy: 0.97 + epoch / 500 }))], printed: printedPoints("simple-adam", 3) },
  ];
  const loss = lossCurvesSpec("002", series, colors) as any;
  const overlay = loss.layer[2];
  assert.equal(overlay.mark.filled, false, "printed values are open markers");
  const sgdBnValidation = overlay.data.values.filter((value: any) => value.experiment === "simple-sgd-bn" && value.split === "validation");
  // From the data file, itself checked against 002's text (printed-values.test.ts): 0.4271 … 0.1541.
  assert.deepEqual(sgdBnValidation.map((value: any) => value.loss), [0.4271, 0.2773, 0.2138, 0.1776, 0.1541]);
  assert.equal(overlay.data.values.filter((value: any) => value.experiment === "simple-adam").length, 6, "printed values only up to the epochs we trained (3 × training and validation)");
  assert.equal(overlay.encoding.opacity.datum, "printed by the study", "a legend entry for the open markers");
  assert.equal(loss.layer[1].encoding.color.legend.symbolType, "stroke", "experiments are lines: line swatches");
  assert.deepEqual(loss.layer[1].encoding.shape.scale.domain, ["training", "validation"], "only the splits drawn are in the legend");
  assert.match(JSON.stringify(loss.layer[1].encoding.shape.legend.labelExpr), /solid.*dashed/);
  const acc = accuracyCurvesSpec("002", series, colors) as any;
  assert.equal(acc.layer[1].encoding.y.scale.domain[1], 100, "the accuracy axis ends at 100%");
  assert.ok(acc.layer[2].data.values.some((value: any) => value.experiment === "simple-sgd-bn" && value.accuracy === 91.44), "002's 91.44% (printed as '91.4' + '4%')");
  const noPrinted = accuracyCurvesSpec("002", series.map(({ printed: _printed, ...rest }) => rest), colors) as any;
  assert.equal(noPrinted.layer.length, 2, "no overlay, no legend entry for it");
  for (const spec of [loss, acc]) assert.match(await renderSvg(spec), /printed by the study/);

  const row = (id: string, accuracy: number, reference: number | null, extra: Partial<AccuracyRow> = {}): AccuracyRow => ({
    id, study: "002", accuracy, seeds: [{ seed: 42, accuracy }], prediction: null, reference, ...extra,
  });
  const bars = testAccuracySpec(
    [row("near", 0.9901, 0.9903), row("far-above", 0.9772, 0.939), row("far-below", 0.0462, 0.9811), row("target", 0.9938, null, { target: 0.995 })],
    { title: "t", colorBy: "study", colors: { domain: ["002"], range: ["#e15759"] } },
  ) as any;
  const values = bars.data.values as any[];
  const byId = (id: string) => values.find((value) => value.experiment === id);
  assert.deepEqual([byId("near").clipped, byId("near").shownDelta.toFixed(2)], [false, "-0.02"]);
  assert.deepEqual([byId("far-above").clipped, byId("far-above").shownDelta, byId("far-above").clipLabel], [true, 3, "+3.82"]);
  assert.deepEqual([byId("far-below").shownDelta, byId("far-below").clipLabel], [-3, "−93.49"]);
  assert.match(byId("target").label, /target 99\.5%, not a published value/);
  const deltaPanel = bars.hconcat[1].layer;
  assert.ok(deltaPanel.every((layer: any) => !layer.encoding.x?.scale || JSON.stringify(layer.encoding.x.scale.domain) === "[-3,3]"), "the Δ panel spans ±3 points");
  assert.ok(deltaPanel.some((layer: any) => layer.mark.type === "text" && layer.encoding.text.field === "clipLabel"), "clipped rows carry their value");
  assert.equal(bars.hconcat[0].layer[0].encoding.color.legend.symbolType, "square", "bars: square swatches");
  assert.deepEqual(bars.hconcat[0].layer[0].encoding.x.scale.domain, [0, 100], "the accuracy axis ends at 100%");
  const svg = await renderSvg(bars);
  assert.ok(svg.includes("+3.82") && svg.includes("−93.49"));
});

test("PNG text is drawn with the bundled font (not left blank for lack of system fonts)", async () => {
  const svg = await renderSvg({ $schema: "https://vega.github.io/schema/vega-lite/v5.json", title: "Text only", data: { values: [] }, mark: "point" });
  const { Resvg } = await import("@resvg/resvg-js");
  const dark = (pixels: Buffer): number => {
    let count = 0;
    for (let index = 0; index < pixels.length; index += 4) if (pixels[index]! < 128 && pixels[index + 3]! > 0) count++;
    return count;
  };
  assert.ok(dark(rasterize(svg, 1).pixels) > 20, "the title's glyphs are drawn");
  const noFonts = new Resvg(svg, { font: { loadSystemFonts: false } }).render().pixels;
  assert.equal(dark(noFonts), 0, "without fonts the title would be blank: the bundled font is what draws it");
  assert.deepEqual([...svgToPng(svg, 1).subarray(1, 4)], [0x50, 0x4e, 0x47]);
});

test("a title change reruns only the report", async () => {
  const params = tinyParams();
  params.experiments["conv1-adam"].title = "a new title";
  const summary = await run(params);
  assert.equal(summary.ok, true);
  const ran = Object.entries(statuses(summary)).filter(([, status]) => status === "ran").map(([name]) => name);
  assert.deepEqual(ran, ["report"]);
  assert.ok((await readFile(join(await outDir("report"), "report.md"), "utf8")).includes("a new title"));
});

test("a training change reruns that experiment's stages and the aggregates, nothing else", async () => {
  const params = tinyParams();
  params.experiments["conv1-adam"].title = "a new title"; // as in the previous test: no change here
  params.experiments["conv1-sgd"].optimizer.lr = 0.02;
  const summary = await run(params);
  assert.equal(summary.ok, true);
  const expected: Record<string, string> = {};
  for (const name of Object.keys(summary.outcomes)) expected[name] = "cached";
  for (const name of ["train@conv1-sgd", "evaluate@conv1-sgd", "charts@conv1-sgd", "comparison-charts", "report"]) expected[name] = "ran";
  assert.deepEqual(statuses(summary), expected);
});

test("a published value change reruns the comparison charts and the report only", async () => {
  const params = tinyParams();
  params.experiments["conv1-adam"].title = "a new title";
  params.experiments["conv1-sgd"].optimizer.lr = 0.02;
  params.experiments.lenet.reference.accuracy = 0.95;
  const summary = await run(params);
  const ran = Object.entries(statuses(summary)).filter(([, status]) => status === "ran").map(([name]) => name).sort();
  assert.deepEqual(ran, ["comparison-charts", "report"]);
});

test("publishReport copies the report to reports/ and stamps commit, lock file and machine", async () => {
  const reportDir = await reportOutDirFromLock(join(workDir, "pipeline.lock.json"));
  const reportsDir = await tinyWorkDir("published-");
  leftovers.push(reportsDir);
  await writeFile(join(reportsDir, "bench.json"), "{}");
  const result = await publishReport(reportDir, reportsDir);
  const markdown = await readFile(join(reportsDir, "report.md"), "utf8");
  const head = execFileSync("git", ["rev-parse", "HEAD"], { cwd: workDir, encoding: "utf8" }).trim();
  const lockSha = createHash("sha256").update(await readFile(join(workDir, "pipeline.lock.json"))).digest("hex");
  assert.equal(result.provenance.commit, head);
  assert.ok(markdown.includes(`\`${head}\``), "the commit is stamped");
  assert.ok(markdown.includes(lockSha), "the lock file's SHA-256 is stamped");
  assert.ok(result.provenance.lockMatches, "the lock's report entry is this report");
  assert.match(markdown, /\| trained on \| .+ GiB, (linux|darwin|win32)/);
  assert.ok(!markdown.includes("Provenance not stamped"));
  // The slots publishing fills: the subset notice names its params file (the rig's lock is pipeline.lock.json,
  // so params.json), and the Δ column says what it compares with (the rig's lock was never committed).
  assert.match(markdown, /from the params file <!--slot:params-file-->`params\.json`<!--\/slot-->\./);
  assert.match(markdown, /Δ since last committed report: <!--slot:delta-base-->no earlier committed report to compare with/);
  assert.equal(markdown.split(PROVENANCE_BEGIN).length, 2);
  const published = new Set(await readdir(join(reportsDir, "charts")));
  for (const link of [...markdown.matchAll(/\]\((charts\/[^)]+)\)/g)].map((match) => match[1]!)) {
    assert.ok(published.has(link.slice("charts/".length)), `${link} is published`);
  }
  assert.equal(await readFile(join(reportsDir, "bench.json"), "utf8"), "{}", "other files in reports/ are left alone");
  // Publishing again over the previous copy works (the cached files are read-only, the copies are not).
  await publishReport(reportDir, reportsDir);
});

// ---- the pure logic, on hand-made rows ----

const AVERAGE = { precision: 0, recall: 0, f1: 0, support: 0 };

/** A row as experimentRow makes it; `accuracies` are the seeds' (42, 43, …), the mean and spread follow from them. */
function row(id: string, accuracies: number | number[], extra: Partial<ExperimentRow> = {}): ExperimentRow {
  const values = Array.isArray(accuracies) ? accuracies : [accuracies];
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const sd = values.length < 2 ? null : Math.sqrt(values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (values.length - 1));
  return {
    id, study: "002", title: id, architecture: "simple", variant: "—", optimizer: "?", optimizerName: "?", learningRate: 0.001, momentum: 0, dataset: "d",
    epochs: 5, batchSize: 64, testImages: 10_000, seeds: values.map((_, index) => 42 + index), n: values.length, testAccuracy: mean, testAccuracySd: sd,
    testAccuracyMin: Math.min(...values), testAccuracyMax: Math.max(...values), seedAccuracies: values, testLoss: 0.1, macroF1: mean, evaluationMode: "running-statistics", evaluationBatchSize: null, otherModeAccuracies: null, otherModeAccuracy: null, seedPredictions: [], weights: [], perEpochTest: false, perClass: [], averages: { macro: AVERAGE, weighted: AVERAGE },
    referenceAccuracy: null, referenceNote: null, deltaPoints: null, predictionLow: null, predictionHigh: null, verdict: "no reference", subset: null, targetAccuracy: null, challenge: null,
    trainingSeconds: 100, trainingSecondsTotal: 100 * values.length, imagesPerSecond: 500, concurrentStages: 1, loadAverage: 1, threads: 1,
    parameters: 1, backend: "wasm",
    finalTrainLoss: null, finalTrainAccuracy: null, finalValLoss: null, finalValAccuracy: null, ...extra,
  };
}

const MODEL: ModelConfig = { arch: "simple", batchNorm: false, dropout: 0, convActivation: "relu", init: "pytorch", loss: "cross-entropy" };
const TRAINING: TrainingConfig = { epochs: 5, batchSize: 64, seed: 42, augmentShift: 0 };
const OPT = (name: OptimizerConfig["name"], momentum = 0): OptimizerConfig => ({ name, lr: 0.001, momentum });
const input = (r: ExperimentRow, model: Partial<ModelConfig>, optimizer: OptimizerConfig): CommentaryInput => ({
  row: r, model: { ...MODEL, ...model }, optimizer, training: TRAINING, dataset: "d",
});

test("comparisons: one-setting pairs only, paired by seed, Holm across the report; single runs are not tested", () => {
  const commentary = buildCommentary([
    input(row("simple-sgd", [0.8111, 0.795, 0.823]), {}, OPT("sgd")),
    input(row("simple-momentum", [0.9651, 0.9633, 0.9662]), {}, OPT("sgd", 0.9)),
    input(row("simple-rmsprop", [0.9893, 0.9861, 0.9880]), {}, OPT("rmsprop")),
    input(row("simple-adam", [0.9903, 0.9890, 0.9899]), {}, OPT("adam")),
    input(row("simple-sgd-bn", 0.9683), { batchNorm: true }, OPT("sgd")),
    input(row("simple-adam-bn", 0.9894), { batchNorm: true }, OPT("adam")),
  ]);
  // Four optimizers: six pairs; BatchNorm: one optimizer pair and two BatchNorm pairs. simple-momentum
  // and simple-sgd-bn differ in two settings: never compared.
  assert.equal(commentary.comparisons.length, 6 + 1 + 2);
  assert.ok(!commentary.comparisons.some((c) => [c.a.id, c.b.id].includes("simple-momentum") && [c.a.id, c.b.id].includes("simple-sgd-bn")));
  const tested = commentary.comparisons.filter((c) => c.adjustedP !== null);
  assert.equal(tested.length, 6, "only the pairs with two or more common seeds are tested");
  // Holm over the six: the adjusted values are the raw ones stepped up, never below them.
  for (const c of tested) assert.ok(c.adjustedP! >= c.paired.p! && c.adjustedP! <= 1);
  const text = commentary.byStudy["002"]!.join("\n");
  assert.match(text, /Same model and data, best mean first: Adam 98\.97% ± 0\.07 \(n = 3\) \(`simple-adam`\), RMSprop 98\.78% ± 0\.16 \(n = 3\)/);
  // Adam vs RMSprop: +0.19 points on three seeds, not enough to tell apart after Holm.
  assert.match(text, /Adam instead of RMSprop \(simple, 5 epochs, lr 0\.001\): `simple-adam` .* vs `simple-rmsprop` .*; paired over 3 seeds: \+0\.19 points \(95% CI [^)]+\), p = 0\.\d+, Holm-adjusted p = [\d.]+: no detectable difference at n = 3\./);
  // Momentum vs plain SGD: 15 points on every seed.
  assert.match(text, /SGD \+ momentum 0\.9 instead of SGD \(simple, 5 epochs, lr 0\.001\): .*: `simple-momentum` is higher \(\+15\.52 points on average\)\./);
  assert.match(text, /BatchNorm \(simple, SGD, 5 epochs\): `simple-sgd-bn` 96\.83% \(n = 1\) vs `simple-sgd` [\d.]+% ± [\d.]+ \(n = 3\), \+[\d.]+ points; not tested \(a single seed in common\)/);
  assert.ok(!/no effect|within noise/i.test(text));
  // The section renders one table row per comparison.
  const markdown = renderReport({ rows: commentary.comparisons.map((c) => c.a), commentary, summaries: [], charts: [], environments: [] });
  assert.match(markdown, /\| `simple-adam` − `simple-rmsprop` \| Adam instead of RMSprop \|.*\| 3 \| \+0\.19 \| [^|]+ to [^|]+ \| 0\.\d+ \| [\d.]+ \| no detectable difference at n = 3 \|/);
  assert.match(markdown, /\| `simple-sgd-bn` − `simple-sgd` \|.*\| 1 \| \+[\d.]+ \| — \| — \| — \| not tested \(n = 1\) \|/);
});

test("commentary: reproduction verdicts carry n, single runs carry none, the challenge needs the lower bound", () => {
  const withReference = (id: string, values: number[], reference: number, study = "003"): ExperimentRow => {
    const judged = judgeAgainstPublished(values, reference);
    return row(id, values, {
      study,
      referenceAccuracy: reference,
      deltaPoints: judged.difference * 100,
      verdict: judged.verdict,
      ...("interval" in judged ? { predictionLow: judged.interval.low, predictionHigh: judged.interval.high } : {}),
    });
  };
  /** 004's 99.5%: a target, not a published value (params: reference.accuracy null, reference.target 0.995). */
  const withTarget = (id: string, values: number[], target: number): ExperimentRow =>
    row(id, values, { study: "ours", targetAccuracy: target, challenge: judgeChallenge(values, target) });
  const rows = [
    withReference("lenet", [0.9758, 0.9772, 0.9811, 0.981], 0.9811),
    withReference("lenet-sigmoid", [0.8735, 0.874, 0.8738], 0.8799),
    withReference("lenet-bn", [0.9876], 0.9861),
    withTarget("textbook-hints", [0.9931, 0.9944, 0.9938], 0.995),
  ];
  const lenet = { arch: "lenet" as const };
  const sgd: OptimizerConfig = { name: "sgd", lr: 0.01, momentum: 0.5 };
  const commentary = buildCommentary([input(rows[0]!, lenet, sgd), input(rows[1]!, { ...lenet, convActivation: "sigmoid" }, sgd), input(rows[2]!, { ...lenet, batchNorm: true }, sgd), input(rows[3]!, {}, OPT("adam"))]);
  const overall = commentary.overall.join("\n");
  assert.equal(rows[0]!.verdict, "consistent", "98.11% lies inside lenet's interval from four seeds (97.58–98.11)");
  assert.equal(rows[1]!.verdict, "below");
  assert.equal(rows[2]!.verdict, "single run");
  // The target row is no reproduction: counted neither as consistent nor at all.
  assert.match(overall, /\(consistent\) for 1 of 2; above our interval \(ours below\) for `lenet-sigmoid` −0\.61 points \(n = 3\)\./);
  assert.match(overall, /Single runs \(n = 1, difference only .*\): `lenet-bn` \+0\.15 points\./);
  assert.match(overall, /004's challenge is 99\.5% test accuracy \(a threshold, not a published measurement\): `textbook-hints` scores 99\.38% ± 0\.07 \(n = 3\); the one-sided 95% lower bound of its mean is 99\.\d\d% and 0 of 3 seeds reach 99\.5%: not shown to reach it\./);
  const single = buildCommentary([input(withTarget("textbook-hints", [0.9951], 0.995), {}, OPT("adam"))]).overall.join("\n");
  assert.match(single, /scores 99\.51% \(n = 1\), \+0\.01 points from it; one run gives no answer/);
  // In the summary table: the target named as one, never a ✅, and a missed target says so.
  const markdown = renderReport({ rows, commentary, summaries: [], charts: [], environments: [] });
  assert.match(markdown, /\| `textbook-hints` \| ours \| 99\.38% ± 0\.07 \(n = 3\) \| target 99\.5% \| — \| — \| — target 99\.5% not shown \(lower bound 99\.\d\d%, n = 3\) \|/);
  const reached = withTarget("textbook-hints", [0.9961, 0.9958, 0.9960], 0.995);
  assert.equal(reached.challenge!.verdict, "yes");
  assert.match(renderReport({ rows: [reached], commentary: buildCommentary([input(reached, {}, OPT("adam"))]), summaries: [], charts: [], environments: [] }), /🎯 reaches 99\.5% \(lower bound 99\.\d\d%, n = 3\)/);
});

test("commentary: dropout rates against none, rate 1 explained from its own confusion matrices, sigmoid vs ReLU", () => {
  const lenet = { arch: "lenet" as const };
  const sgd: OptimizerConfig = { name: "sgd", lr: 0.01, momentum: 0.5 };
  const study = { study: "003" };
  // Two seeds of a dropout-1 network as they behave: one answer per region of input space, whichever the initial weights give.
  const supports = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];
  const matrix = (answer: (digit: number) => number): number[][] =>
    supports.map((count, digit) => Array.from({ length: 10 }, (_, predicted) => (predicted === answer(digit) ? count : 0)));
  const seedA = seedPredictions(42, matrix((digit) => (digit <= 6 ? 3 : 8)), 0.1124);
  const seedB = seedPredictions(43, matrix(() => 1), 0.1124);
  assert.deepEqual(seedA.mostPredicted, { digit: 3, share: 6989 / 10000 });
  assert.equal(seedA.digitsPredicted, 2);
  assert.equal(seedA.accuracy, (1010 + 974) / 10000);
  assert.deepEqual(seedB.mostCommonTrue, { digit: 1, share: 0.1135 });
  const dropoutOne = row("lenet-dropout-1", [seedA.accuracy, seedB.accuracy], { ...study, seedPredictions: [seedA, seedB] });
  const commentary = buildCommentary([
    input(row("lenet", [0.9811, 0.979, 0.98], study), lenet, sgd),
    input(row("lenet-dropout-0.25", [0.9794, 0.9801, 0.9788], study), { ...lenet, dropout: 0.25 }, sgd),
    input(dropoutOne, { ...lenet, dropout: 1 }, sgd),
    input(row("lenet-sigmoid", [0.8799, 0.87, 0.875], study), { ...lenet, convActivation: "sigmoid" }, sgd),
  ]);
  const text = commentary.byStudy["003"]!.join("\n");
  assert.match(text, /dropout 0\.25 instead of none \(lenet, SGD \+ momentum 0\.5, 5 epochs\): .*no detectable difference at n = 3\./);
  assert.ok(!commentary.comparisons.some((c) => c.a.id === "lenet-dropout-1"), "rate 1 is a different regime, not a rate to compare");
  const note = commentary.checks.join("\n");
  assert.match(note, /Dropout rate 1 \(`lenet-dropout-1`, lenet, SGD \+ momentum 0\.5, 5 epochs\): PyTorch's Dropout\(p = 1\) zeroes fc1's output in training, so nothing before fc2 gets a gradient and only fc2's bias learns\./);
  assert.match(note, /Training accuracy in the last epoch: 11\.24%, 11\.24% — what a network that answers one class for every image scores \(the most common digit, 1, is 11\.35% of the test set\)\./);
  assert.match(note, /seed 42 answers 3 for 70% of the test images and uses 2 of the 10 digits, 19\.84% correct; seed 43 answers 1 for 100% of the test images and uses 1 of the 10 digits, 11\.35% correct\./);
  assert.match(note, /Its test accuracy \(11\.35% to 19\.84% over 2 seeds\) is that of a fixed random classifier, not of guessing: anything from a few percent to about 20% is expected\./);
  assert.ok(!/worth checking|cannot use its input/.test(note), "the old, wrong reading is gone");
  assert.ok(text.includes(note), "the study's section carries it too");
  assert.match(text, /Sigmoid instead of ReLU after the convs \(lenet, SGD \+ momentum 0\.5, 5 epochs\): `lenet-sigmoid` .* vs `lenet` .*: `lenet-sigmoid` is lower \(−10\.\d\d points on average\)\./);
});

test("classification report: where 002 printed one, ours per digit beside the study's (sklearn's rounding), with accuracy and averages", () => {
  // simple-sgd-bn as 002 printed it (lines 789–798 of its text), with two digits changed to show the comparison.
  const printed = printedValues().experiments["simple-sgd-bn"]!.classificationReport!.classes;
  const perClass = printed.map((entry) => ({ label: entry.digit, precision: entry.precision, recall: entry.recall, f1: entry.f1, support: entry.support }));
  perClass[3] = { ...perClass[3]!, precision: 0.9512, f1: 0.961 };
  const full = row("simple-sgd-bn", 0.9683, { perClass, averages: { macro: { precision: 0.97, recall: 0.97, f1: 0.97, support: 10000 }, weighted: { precision: 0.97, recall: 0.97, f1: 0.97, support: 10000 } } });
  const blocks = classificationSection({ rows: [full, row("simple-adam-sgd", 0.99)] }).join("\n\n");
  assert.match(blocks, /^## Classification reports/);
  assert.match(blocks, /<summary>`simple-sgd-bn` \(seed 42\): accuracy 96\.83%, the study printed "Accuracy: 96\.83%"<\/summary>/);
  assert.match(blocks, /\| 0 \| 0\.97 \(=\) \| 0\.99 \(=\) \| 0\.98 \(=\) \| 980 \|/);
  assert.match(blocks, /\| 3 \| 0\.95 \(0\.97\) \| 0\.97 \(=\) \| 0\.96 \(0\.97\) \| 1,010 \|/);
  assert.match(blocks, /\| accuracy \|  \|  \| 0\.97 \| 10,000 \|\n\| macro avg \| 0\.97 \| 0\.97 \| 0\.97 \| 10,000 \|/);
  assert.ok(!blocks.includes("simple-adam-sgd"), "only rows the study printed a report for");
  // On a subset the study's full-test-set values are left out.
  const subset = classificationSection({ rows: [{ ...full, testImages: 2000 }] }).join("\n");
  assert.match(subset, /on 2,000 test images \(a subset: the study's full-test-set values are not shown beside it\)/);
  assert.ok(!subset.includes("(=)"));
});

test("trained weights: a run that kept its best epoch says which; store paths are cut to the project's artifacts folder", () => {
  const hints = row("textbook-hints", [0.995, 0.994], {
    weights: [
      { seed: 42, path: storePath("/home/x/project/artifacts/stages/train@textbook-hints+seed=42/ab12/out"), selectedEpoch: 3 },
      { seed: 43, path: storePath("C:\\work\\artifacts\\stages\\train@textbook-hints+seed=43\\cd34\\out"), selectedEpoch: 4 },
    ],
  });
  const text = weightsSection({ rows: [hints] }).join("\n");
  assert.match(text, /\| `textbook-hints` \| 42 \| `artifacts\/stages\/train@textbook-hints\+seed=42\/ab12\/out` \| epoch 3 \(best validation accuracy\) \|/);
  assert.match(text, /\| `textbook-hints` \| 43 \| `artifacts\/stages\/train@textbook-hints\+seed=43\/cd34\/out` \| epoch 4 \(best validation accuracy\) \|/);
  assert.equal(storePath("/somewhere/else/out"), "/somewhere/else/out", "a folder outside a store is named as given");
  assert.deepEqual(weightsSection({ rows: [row("x", 0.9)] }), [], "nothing to say without runs");
});

test("metrics.csv quotes commas, keeps numbers unrounded and lists seeds space-separated", () => {
  const csv = metricsCsv([row("a", [0.123456789, 0.5], { title: "Simple CNN, Adam", referenceNote: 'the text says "99%+"' })]);
  const [header, line] = csv.trim().split("\n");
  assert.ok(header!.startsWith("id,study,title,architecture,variant,optimizer,optimizer_name,learning_rate"));
  assert.ok(line!.includes('"Simple CNN, Adam"'));
  assert.ok(line!.includes(",2,42 43,0.3117283945,"), line);
  assert.ok(line!.includes(",0.123456789 0.5,"));
  assert.ok(line!.endsWith('"the text says ""99%+"""'));
});

test("training times: unlike conditions are disclosed, missing records print a dash", () => {
  const rows = [
    row("alone", 0.99, { concurrentStages: 1, loadAverage: 0.5, trainingSeconds: 60, trainingSecondsTotal: 60 }),
    row("shared", 0.98, { concurrentStages: 2, loadAverage: 1.96, trainingSeconds: 90, trainingSecondsTotal: 90 }),
    row("unrecorded", 0.97, { trainingSeconds: null, trainingSecondsTotal: null, imagesPerSecond: null, concurrentStages: null, loadAverage: null, threads: null }),
  ];
  const commentary = buildCommentary(rows.map((r) => input(r, {}, OPT("adam"))));
  assert.ok(
    commentary.overall.some((sentence) => sentence.startsWith("These times are not all like-for-like: the trainings ran with 1–2 stages at once, load 0.50–1.96")),
    commentary.overall.join("\n"),
  );
  assert.ok(commentary.overall.some((sentence) => sentence.startsWith("Training took 2 min 30 s in all (2 runs), from 1 min 00 s (`alone`)")), "the unrecorded row is left out of the sums");
  const markdown = renderReport({ rows, commentary, summaries: [], charts: [], environments: [] });
  assert.match(markdown, /\| `alone` \|.*\| 1 min 00 s \| 500 \| 1 · 0\.50 \| 1 \|/);
  assert.match(markdown, /\| `unrecorded` \|.*\| — \| — \| — \| 1 \|/);
  assert.match(markdown, /In this table they do not all match: 1 at once for `alone`; 2 at once for `shared`\./);
  assert.match(markdown, /- Total training time: \*\*2 min 30 s\*\* \(every seed of the 2 of 3 experiments with recorded times/);
  assert.match(markdown, /- Training times were measured with 1–2 stages at once, load 0\.50–1\.96/);
});
