import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFile, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { executeStages, type RunSummary } from "../../engine/executor.ts";
import { Session } from "../../engine/session.ts";
import type { ModelConfig, OptimizerConfig, TrainingConfig } from "../../ml/config.ts";
import { comparisonCharts, experimentCharts } from "../../ml/report/chart-sets.ts";
import { CHART_MANIFEST, type ChartManifest } from "../../ml/report/chart-manifest.ts";
import { buildCommentary, type CommentaryInput } from "../../ml/report/commentary.ts";
import { metricsCsv } from "../../ml/report/metrics-files.ts";
import { noiseThresholdPoints } from "../../ml/report/noise.ts";
import { PROVENANCE_BEGIN, PROVENANCE_END } from "../../ml/report/provenance.ts";
import { publishReport, reportOutDirFromLock } from "../../ml/report/publish.ts";
import { rasterize, renderSvg, svgToPng } from "../../ml/report/render.ts";
import { loadExperimentResults, type ExperimentResults } from "../../ml/report/results.ts";
import type { ExperimentRow } from "../../ml/report/rows.ts";
import { renderReport } from "../../ml/report/report-document.ts";
import type { RunRecord } from "../../engine/run-record.ts";
import { tinyProfileBase, tinyWorkDir } from "../helpers/tiny-profile.ts";
import { project } from "../../stages/index.ts";

/**
 * The report and chart stages on real results: a tiny profile (600 training images, 2 epochs, four
 * experiments in two studies) trained and evaluated for real through the engine, then the charts
 * and the report built by the real stages. One run is shared by the tests below; the rerun tests
 * change params and check through the engine's outcomes what reran.
 */

function tinyParams(): any {
  const lenet = { arch: "lenet", loss: "log-softmax-nll" };
  const lenetSgd = { name: "sgd", lr: 0.01, momentum: 0.5 };
  return {
    ...tinyProfileBase({ train: 600, test: 200, validation: 100, epochs: 2 }),
    experiments: {
      "conv1-sgd": { title: "conv1, SGD", study: "001", dataset: "tiny-raw", reference: { accuracy: 0.939, note: "at least this" }, model: { arch: "conv1" }, optimizer: { name: "sgd", lr: 0.05 } },
      "conv1-adam": { title: "conv1, Adam", study: "001", dataset: "tiny-raw", reference: { accuracy: null }, model: { arch: "conv1" }, optimizer: { name: "adam", lr: 0.001 } },
      lenet: { title: "LeNet", study: "003", dataset: "tiny", reference: { accuracy: 0.9811 }, model: lenet, optimizer: lenetSgd },
      "lenet-dropout-0.5": { title: "LeNet, dropout 0.5", study: "003", dataset: "tiny", reference: { accuracy: 0.9806 }, model: { ...lenet, dropout: 0.5 }, optimizer: lenetSgd },
    },
  };
}

const IDS = Object.keys(tinyParams().experiments);

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

async function loadResults(options: { withRecords: boolean }): Promise<ExperimentResults[]> {
  const params = tinyParams();
  return Promise.all(
    IDS.map(async (id) =>
      loadExperimentResults(
        {
          meta: { id, study: params.experiments[id].study, reference: params.experiments[id].reference },
          trainDir: await outDir(`train@${id}`),
          evaluateDir: await outDir(`evaluate@${id}`),
          ...(options.withRecords ? { trainRecord: await runRecord(`train@${id}`) } : {}),
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
  // Commentary from the numbers: one optimizer comparison (conv1), one dropout comparison (lenet).
  assert.match(markdown, /- Optimizers \(conv1, 2 epochs\): /);
  assert.match(markdown, /- Same model and data, best first: (Adam|SGD) \(lr [\d.]+\) [\d.]+% /);
  assert.match(markdown, /- Dropout after fc1 \(lenet, SGD \+ momentum 0\.5, 2 epochs\): /);
  assert.match(markdown, /- Test accuracy by rate: 0 → [\d.]+% \(`lenet`\), 0\.5 → [\d.]+% \(`lenet-dropout-0\.5`\)\./);
  assert.ok(markdown.includes("backend: `"), "names the tfjs backend");

  const links = [...markdown.matchAll(/\]\(([^)]+)\)/g)].map((match) => match[1]!);
  assert.ok(links.length >= 3 * (IDS.length + 7), `links every chart in three formats (${links.length})`);
  const files = new Set((await readdir(join(dir, "charts"))).map((file) => `charts/${file}`));
  for (const link of links) assert.ok(files.has(link), `${link} exists beside report.md`);

  const csv = (await readFile(join(dir, "metrics.csv"), "utf8")).trim().split("\n");
  assert.equal(csv.length, IDS.length + 1);
  assert.ok(csv[0]!.startsWith("id,study,title,architecture,variant,optimizer,"));
  const json = JSON.parse(await readFile(join(dir, "metrics.json"), "utf8"));
  assert.deepEqual(json.experiments.map((experiment: { id: string }) => experiment.id).sort(), [...IDS].sort());
  for (const experiment of json.experiments) {
    assert.equal(experiment.history.length, 2);
    assert.equal(experiment.testImages, 200);
  }

  // Training times come from the trainings' run records, not history.json, with the load they ran under.
  for (const experiment of json.experiments) {
    const record = await runRecord(`train@${experiment.id}`);
    const measurements = record.measurements as { trainingSeconds: number; imagesPerSecond: number; epochs: { seconds: number }[] };
    assert.equal(experiment.trainingSeconds, measurements.trainingSeconds, `${experiment.id}: training time from its run record`);
    assert.equal(experiment.imagesPerSecond, measurements.imagesPerSecond);
    assert.equal(experiment.concurrentStages, record.load.concurrentStages);
    assert.equal(experiment.loadAverage, record.load.loadAverage);
    assert.deepEqual(experiment.history.map((epoch: { seconds: number }) => epoch.seconds), measurements.epochs.map((epoch) => epoch.seconds));
    const history = JSON.parse(await readFile(join(await outDir(`train@${experiment.id}`), "history.json"), "utf8"));
    assert.ok(!("totalSeconds" in history) && !("seconds" in history.history[0]), "history.json holds no timings");
  }
  assert.match(markdown, /\| training time \| images\/s \| at once · load \| parameters \|/);
  assert.match(markdown, /\| \d+ · \d+\.\d\d \| [\d,]+ \|\n/, "stages at once and load beside each time");
  assert.match(markdown, /times compare like-for-like only between rows with the same count/);
  assert.match(markdown, /- Training times were measured with \d+(–\d+)? stages? at once, load /);
});

test("charts: every spec compiles and renders to SVG and PNG, from the stage files and from the builders", async () => {
  const comparisonDir = await outDir("comparison-charts");
  const manifest = JSON.parse(await readFile(join(comparisonDir, CHART_MANIFEST), "utf8")) as ChartManifest;
  assert.deepEqual(manifest.charts.map((chart) => chart.name).sort(), [
    "per-class-f1",
    "study-001-accuracy",
    "study-001-loss",
    "study-001-test-accuracy",
    "study-003-accuracy",
    "study-003-loss",
    "study-003-test-accuracy",
    "test-accuracy",
    "training-cost",
  ]);
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
  // Same results, same specs: what the stages wrote is what the builders make.
  for (const name of ["test-accuracy", "training-cost"]) {
    const stored = JSON.parse(await readFile(join(comparisonDir, `${name}.vl.json`), "utf8"));
    assert.deepEqual(stored, JSON.parse(JSON.stringify(charts.find((chart) => chart.name === name)!.spec)), `${name}: the stage drew what the builders draw`);
  }
  // Without run records there are no times to draw: the cost chart is left out, the others stay.
  const untimed = comparisonCharts(await loadResults({ withRecords: false })).map((chart) => chart.name);
  assert.ok(!untimed.includes("training-cost") && untimed.includes("test-accuracy"));

  // The colour of an experiment is fixed: the same in its study's loss, accuracy and bar charts.
  const colorsOf = (name: string): unknown => {
    const spec = charts.find((chart) => chart.name === name)!.spec as any;
    return (spec.encoding?.color ?? (spec.layer ?? spec.hconcat[0].layer)[0].encoding.color).scale;
  };
  assert.deepEqual(colorsOf("study-003-loss"), colorsOf("study-003-accuracy"));
  assert.deepEqual(colorsOf("study-003-loss"), colorsOf("study-003-test-accuracy"));
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

function row(id: string, accuracy: number, extra: Partial<ExperimentRow> = {}): ExperimentRow {
  return {
    id, study: "002", title: id, architecture: "simple", variant: "—", optimizer: "?", optimizerName: "?", learningRate: 0.001, momentum: 0, dataset: "d",
    epochs: 5, batchSize: 64, testImages: 10_000, testAccuracy: accuracy, testLoss: 0.1, macroF1: accuracy, referenceAccuracy: null, referenceNote: null,
    deltaPoints: null, noisePoints: null, verdict: "no reference", trainingSeconds: 100, imagesPerSecond: 500, concurrentStages: 1, loadAverage: 1, threads: 1,
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

test("commentary: ranks optimizers, calls small gaps within noise, and compares only one-setting differences", () => {
  const commentary = buildCommentary([
    input(row("simple-sgd", 0.8111), {}, OPT("sgd")),
    input(row("simple-momentum", 0.9651), {}, OPT("sgd", 0.9)),
    input(row("simple-rmsprop", 0.9893), {}, OPT("rmsprop")),
    input(row("simple-adam", 0.9903), {}, OPT("adam")),
    input(row("simple-sgd-bn", 0.9683), { batchNorm: true }, OPT("sgd")),
    input(row("simple-adam-bn", 0.9894), { batchNorm: true }, OPT("adam")),
  ]);
  const text = commentary.byStudy["002"]!.join("\n");
  assert.match(text, /Same model and data, best first: Adam 99\.03% \(`simple-adam`\), RMSprop 98\.93% \(`simple-rmsprop`\), SGD \+ momentum 0\.9 96\.51% \(`simple-momentum`\), SGD 81\.11%/);
  assert.match(text, /Optimizers \(simple, 5 epochs, lr 0\.001\): Adam and RMSprop are within noise of each other \(0\.10 points/);
  assert.match(text, /Optimizers \(simple, BatchNorm, 5 epochs, lr 0\.001\): Adam is best, 2\.11 points ahead of SGD/);
  assert.ok(commentary.findings.length === 4, "two optimizer groups and two BatchNorm pairs");
  assert.match(text, /BatchNorm \(simple, SGD, 5 epochs\): `simple-sgd-bn` vs `simple-sgd`, 96\.83% vs 81\.11%: \+15\.72 points\./);
  assert.match(text, /BatchNorm \(simple, Adam, 5 epochs\): `simple-adam-bn` vs `simple-adam`, 98\.94% vs 99\.03%: within noise \(−0\.09 points\)\./);
  // simple-momentum and simple-sgd-bn differ in two settings: never compared directly.
  assert.ok(!/simple-momentum` vs `simple-sgd-bn|simple-sgd-bn` vs `simple-momentum/.test(text));
});

test("commentary: dropout rates within noise, rate 1 at chance, sigmoid vs ReLU", () => {
  const lenet = { arch: "lenet" as const };
  const sgd: OptimizerConfig = { name: "sgd", lr: 0.01, momentum: 0.5 };
  const rows = [
    row("lenet", 0.9811, { study: "003" }),
    row("lenet-dropout-0.25", 0.9794, { study: "003" }),
    row("lenet-dropout-0.5", 0.9806, { study: "003" }),
    row("lenet-dropout-1", 0.098, { study: "003" }),
    row("lenet-sigmoid", 0.8799, { study: "003" }),
  ];
  const commentary = buildCommentary([
    input(rows[0]!, lenet, sgd),
    input(rows[1]!, { ...lenet, dropout: 0.25 }, sgd),
    input(rows[2]!, { ...lenet, dropout: 0.5 }, sgd),
    input(rows[3]!, { ...lenet, dropout: 1 }, sgd),
    input(rows[4]!, { ...lenet, convActivation: "sigmoid" }, sgd),
  ]);
  const text = commentary.byStudy["003"]!.join("\n");
  assert.match(text, /rates 0–0\.5 are all within noise of each other \(spread 0\.17 points\)/);
  assert.match(text, /`lenet-dropout-1` cannot use its input: 9\.80%, chance level \(10%\), as expected/);
  assert.match(text, /Sigmoid instead of ReLU after the convs \(lenet, SGD \+ momentum 0\.5, 5 epochs\): `lenet-sigmoid` vs `lenet`, 87\.99% vs 98\.11%: −10\.12 points\./);
});

test("noise threshold: 0.3 points on the full test set, wider on a small one", () => {
  assert.equal(noiseThresholdPoints({ accuracy: 0.99, count: 10_000 }, { accuracy: 0.99, count: 10_000 }), 0.3);
  assert.ok(noiseThresholdPoints({ accuracy: 0.8, count: 200 }, { accuracy: 0.99, count: 10_000 }) > 5);
});

test("metrics.csv quotes commas and keeps numbers unrounded", () => {
  const csv = metricsCsv([row("a", 0.123456789, { title: "Simple CNN, Adam", referenceNote: 'the text says "99%+"' })]);
  const [header, line] = csv.trim().split("\n");
  assert.ok(header!.startsWith("id,study,title,architecture,variant,optimizer,optimizer_name,learning_rate"));
  assert.ok(line!.includes('"Simple CNN, Adam"'));
  assert.ok(line!.includes("0.123456789"));
  assert.ok(line!.endsWith('"the text says ""99%+"""'));
});

test("training times: unlike conditions are disclosed, missing records print a dash", () => {
  const rows = [
    row("alone", 0.99, { concurrentStages: 1, loadAverage: 0.5, trainingSeconds: 60 }),
    row("shared", 0.98, { concurrentStages: 2, loadAverage: 1.96, trainingSeconds: 90 }),
    row("unrecorded", 0.97, { trainingSeconds: null, imagesPerSecond: null, concurrentStages: null, loadAverage: null, threads: null }),
  ];
  const commentary = buildCommentary(rows.map((r) => input(r, {}, OPT("adam"))));
  assert.ok(
    commentary.overall.some((sentence) => sentence.startsWith("These times are not all like-for-like: the trainings ran with 1–2 stages at once, load 0.50–1.96")),
    commentary.overall.join("\n"),
  );
  assert.ok(commentary.overall.some((sentence) => sentence.startsWith("Training took 2 min 30 s in all, from 1 min 00 s (`alone`)")), "the unrecorded row is left out of the sums");
  const markdown = renderReport({ rows, commentary, summaries: [], charts: [], environments: [] });
  assert.match(markdown, /\| `alone` \|.*\| 1 min 00 s \| 500 \| 1 · 0\.50 \| 1 \|/);
  assert.match(markdown, /\| `unrecorded` \|.*\| — \| — \| — \| 1 \|/);
  assert.match(markdown, /In this table they do not all match: 1 at once for `alone`; 2 at once for `shared`\./);
  assert.match(markdown, /- Total training time: \*\*2 min 30 s\*\* \(the 2 of 3 experiments with recorded times/);
  assert.match(markdown, /- Training times were measured with 1–2 stages at once, load 0\.50–1\.96/);
});
