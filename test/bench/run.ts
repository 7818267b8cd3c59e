import { writeFile, mkdir } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { baseEnvironment } from "../../engine/environment.ts";
import { benchEngineNoop, benchEngineNoopAgainst, type Timing } from "./engine-noop.ts";
import { benchTraining, describeTraining, type TrainingBench } from "./training.ts";

/**
 * `npm run bench [-- --only engine|training|kernels] [--runs N] [--against REV] [--images N] [--epochs N] [--threads 1,2] [--arch simple,lenet]`:
 * speed figures, printed for people and written to reports/bench.json for machines. Timings live
 * here, never in tests. `--only kernels` runs test/bench/kernels.ts: each wasm training kernel
 * with the stock kernels and with ours (`--quick` for a short run). `--against REV` times the engine
 * no-op of an earlier revision too, in the same run (before/after under the same machine load).
 */
const { values } = parseArgs({
  options: {
    only: { type: "string" },
    images: { type: "string" },
    epochs: { type: "string" },
    threads: { type: "string" },
    arch: { type: "string" },
    quick: { type: "boolean" },
    runs: { type: "string" },
    against: { type: "string" },
  },
});
const results: Record<string, unknown> = { environment: baseEnvironment(), date: new Date().toISOString() };

if (!values.only || values.only === "engine") {
  const runs = Number(values.runs ?? 7);
  const engine = await benchEngineNoop(runs);
  results.engineNoop = engine;
  const timing = (value: Timing | string | undefined): string =>
    value === undefined ? "-" : typeof value === "string" ? value : `${value.median.toFixed(3)} s (${value.min.toFixed(3)}–${value.max.toFixed(3)}${value.cpuMedian === null ? "" : `, CPU ${value.cpuMedian.toFixed(2)} s`})`;
  const rows = (label: string, value: Record<string, Timing | string> | string): void => {
    if (typeof value === "string") return void console.log(`  ${label}: ${value}`);
    for (const [key, entry] of Object.entries(value)) console.log(`  ${`${label} ${key}`.padEnd(44)} ${timing(entry)}`);
  };
  console.log(`engine: wall time, median of ${runs} runs (min–max, median CPU), Node start-up included; tsx = node --import tsx, bundle = engine/launch.mjs (node pipeline.mjs)`);
  console.log(`  toy (${engine.toy.stages} stages): cold run ${engine.toy.coldSeconds.toFixed(2)} s, first bundled start (bundle built) ${engine.toy.firstBundleStartSeconds.toFixed(2)} s`);
  rows(`toy no-op`, engine.toy.noop);
  for (const [command, byStart] of Object.entries(engine.project)) rows(`project ${command}`, byStart);
  rows("quick no-op (36 stages)", engine.quick);
  rows("full-grid no-op", engine.fullGrid);
  if (values.against) {
    const before = await benchEngineNoopAgainst(values.against, runs);
    results.engineNoopAgainst = before;
    const label = `${values.against} (${before.commit.slice(0, 10)})`;
    rows(`${label}: toy no-op (${before.toyStages} stages) tsx`, before.toyNoop as Record<string, Timing>);
    for (const [command, value] of Object.entries(before.project)) rows(`${label}: project ${command}`, { tsx: value });
  }
  console.log("  where the time goes (differences of medians):");
  for (const [phase, seconds] of Object.entries(engine.phases)) console.log(`    ${phase.padEnd(96)} ${Number.isNaN(seconds) ? "-" : `${(seconds * 1000).toFixed(0)} ms`}`);
}
if (!values.only || values.only === "training") {
  const images = values.images === undefined ? undefined : Number(values.images); // default: per architecture (training.ts)
  const epochs = Number(values.epochs ?? 4);
  const threadCounts = (values.threads ?? [...new Set([1, availableParallelism()])].join(",")).split(",").map(Number);
  const training: TrainingBench[] = [];
  for (const threads of threadCounts) training.push(await benchTraining(images, epochs, threads, values.arch?.split(",")));
  for (const line of describeTraining(training)) console.log(line);
  results.training = training;
}
if (values.only === "kernels") {
  const { execFileSync } = await import("node:child_process");
  const { fileURLToPath } = await import("node:url");
  // Relaxed SIMD (measured, not used for training) validates on Node 20 only with this flag.
  const { RELAXED_SIMD_FLAG } = await import("./simd-ceiling.ts");
  execFileSync(process.execPath, [RELAXED_SIMD_FLAG, "--import", "tsx", fileURLToPath(new URL("./kernels.ts", import.meta.url)), ...(values.quick ? ["--quick"] : [])], { stdio: "inherit" });
  process.exit(0);
}
await mkdir("reports", { recursive: true });
await writeFile("reports/bench.json", JSON.stringify(results, null, 2) + "\n");
console.log("written to reports/bench.json");
