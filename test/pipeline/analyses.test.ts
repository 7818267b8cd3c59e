import assert from "node:assert/strict";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { executeStages, type RunSummary } from "../../engine/executor.ts";
import { Session } from "../../engine/session.ts";
import { ANALYSIS_KINDS } from "../../stages/analysis-params.ts";
import { project } from "../../stages/index.ts";
import { tinyProfileBase, tinyWorkDir } from "../helpers/tiny-profile.ts";

/**
 * The analysis stages through the engine on a tiny real profile: one `simple` network trained for
 * real, every analysis run on it (small settings), outputs on disk, the report's section, and the
 * caching: an occlusion setting reruns occlusion and the report only.
 */
function tinyParams(): any {
  return {
    ...tinyProfileBase({ train: 1500, test: 300, validation: 100, epochs: 1 }),
    experiments: {
      "simple-adam": { title: "simple", study: "002", dataset: "tiny", reference: { accuracy: 0.99 }, model: { arch: "simple" }, optimizer: { name: "adam", lr: 0.001 } },
    },
    analyses: {
      experiments: ["simple-adam"],
      seed: 1,
      layerSummary: {},
      predictionGrid: { count: 12 },
      filters: { layers: 2 },
      activationMaps: { testRow: 0 },
      occlusion: { images: 2, patchSizes: [3, 14], stride: 1, fillPixel: 0.5 },
      adversarial: { noiseMean: 128, noiseStd: 1, step: 0.05, iterations: 15, clampMin: 0, clampMax: 255, beta: 0.001 },
      misclassified: { count: 8 },
    },
  };
}

const statuses = (summary: RunSummary): Record<string, string> =>
  Object.fromEntries(Object.entries(summary.outcomes).map(([name, outcome]) => [name, outcome.status]));

test("analysis stages: run on a real trained model, write data + charts + findings, feed the report, and cache per setting", async () => {
  const workDir = await tinyWorkDir("analyses-");
  const paramsFile = join(workDir, "params.json");
  await writeFile(paramsFile, JSON.stringify(tinyParams()));
  const run = async (): Promise<RunSummary> => executeStages(await Session.open(project, { paramsFile, workDir }), { jobs: 2 });

  const first = await run();
  assert.equal(first.ok, true, JSON.stringify(first.outcomes));
  const session = await Session.open(project, { paramsFile, workDir });
  for (const kind of ANALYSIS_KINDS) {
    const entry = session.lock.stages[`${kind}@simple-adam`];
    assert.ok(entry, `${kind}@simple-adam is in the lock`);
    const out = join(workDir, entry.artifact, "out");
    const files = await readdir(out);
    for (const required of ["analysis.json", "findings.json", "charts.json"]) assert.ok(files.includes(required), `${kind} wrote ${required}: ${files.join(", ")}`);
    const charts = JSON.parse(await readFile(join(out, "charts.json"), "utf8"));
    assert.ok(charts.charts.length >= 1, `${kind} has a chart`);
    for (const chart of charts.charts) {
      const png = await readFile(join(out, chart.files.png));
      assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], `${chart.files.png} is a PNG`);
      assert.ok(png.length > 2000, `${chart.files.png} has content (${png.length} bytes)`);
    }
    const findings = JSON.parse(await readFile(join(out, "findings.json"), "utf8"));
    assert.ok(findings.sentences.length >= 1 && findings.method.length > 40, `${kind} explains itself`);
  }
  const summary = JSON.parse(await readFile(join(workDir, session.lock.stages["layer-summary@simple-adam"]!.artifact, "out/analysis.json"), "utf8"));
  assert.equal(summary.totalParams, 799_078, "002's parameter count for simple");
  assert.deepEqual([summary.convParams, summary.fcParams, summary.convNeurons, summary.fcNeurons], [9_568, 789_510, 31_360, 510]);

  const report = await readFile(join(workDir, session.lock.stages.report!.artifact, "out/report.md"), "utf8");
  assert.match(report, /## Inside the networks/);
  for (const title of ["Layer summary", "Prediction grid", "Learned filters", "Activation maps", "Occlusion sensitivity", "Adversarial inputs", "Most confident mistakes"]) {
    assert.match(report, new RegExp(`### ${title}`), `report has the ${title} section`);
  }
  assert.match(report, /\(analyses\/occlusion@simple-adam\.csv\)/, "the occlusion table is linked");

  // Filters as 002 showed them: conv1's 32 filters and conv2's first 32 kernels on input channel 0, 8 to a row,
  // inline; conv2's every kernel (32 × 32) linked, not shown.
  const filtersDir = join(workDir, session.lock.stages["filters@simple-adam"]!.artifact, "out");
  const filterCharts = JSON.parse(await readFile(join(filtersDir, "charts.json"), "utf8")).charts as Array<{ name: string; display?: string; files: { spec: string } }>;
  assert.deepEqual(filterCharts.map((chart) => [chart.name, chart.display ?? "inline"]), [
    ["filters-conv1-simple-adam", "inline"],
    ["filters-conv2-simple-adam", "inline"],
    ["filters-conv2-all-simple-adam", "link"],
  ]);
  const tilesOf = async (file: string) => {
    const spec = JSON.parse(await readFile(join(filtersDir, file), "utf8"));
    return spec.layer.filter((layer: any) => layer.mark.type === "image").flatMap((layer: any) => layer.data.values) as Array<{ x: number; y: number }>;
  };
  const studyGrid = await tilesOf(filterCharts[1]!.files.spec);
  assert.equal(studyGrid.length, 32, "the first 32 conv2 kernels");
  assert.equal(new Set(studyGrid.map((tile) => tile.x)).size, 8, "8 to a row, as 002 plotted them");
  assert.equal((await tilesOf(filterCharts[2]!.files.spec)).length, 32 * 32, "the full grid has every kernel");
  assert.match(report, /!\[[^\]]*\]\(charts\/filters-conv2-simple-adam\.svg\)/, "the study's view is inline");
  assert.ok(!/!\[[^\]]*\]\(charts\/filters-conv2-all-simple-adam\.svg\)/.test(report), "the full grid is not inline");
  assert.match(report, /every conv2 kernel \(32 × 32\): \[PNG\]\(charts\/filters-conv2-all-simple-adam\.png\) · \[SVG\]\(charts\/filters-conv2-all-simple-adam\.svg\)/, "the full grid is linked");
  const published = new Set(await readdir(join(workDir, session.lock.stages.report!.artifact, "out/charts")));
  assert.ok(published.has("filters-conv2-all-simple-adam.png"), "the linked file is beside the report");

  const changed = tinyParams();
  changed.analyses.occlusion.patchSizes = [5];
  await writeFile(paramsFile, JSON.stringify(changed));
  const second = await run();
  const ran = Object.entries(statuses(second)).filter(([, status]) => status === "ran").map(([name]) => name).sort();
  assert.deepEqual(ran, ["occlusion@simple-adam", "report"]);
});
