import { writeFile, mkdir } from "node:fs/promises";
import { parseArgs } from "node:util";
import { baseEnvironment } from "../../engine/environment.ts";
import { benchEngineNoop } from "./engine-noop.ts";
import { benchTraining } from "./training.ts";

/**
 * `npm run bench [-- --only engine|training] [--images N] [--arch simple,lenet]`: speed figures,
 * printed for people and written to reports/bench.json for machines. Timings live here, never in tests.
 */
const { values } = parseArgs({
  options: { only: { type: "string" }, images: { type: "string" }, arch: { type: "string" } },
});
const results: Record<string, unknown> = { environment: baseEnvironment(), date: new Date().toISOString() };

if (!values.only || values.only === "engine") {
  const engine = await benchEngineNoop();
  results.engineNoop = engine;
  console.log(`engine: no-op run of a ${engine.stages}-stage DAG (node start-up included): median ${engine.noopSeconds.median.toFixed(3)} s ` +
    `(min ${engine.noopSeconds.min.toFixed(3)}, max ${engine.noopSeconds.max.toFixed(3)}, ${engine.noopSeconds.runs} runs); cold run ${engine.coldSeconds.toFixed(2)} s`);
}
if (!values.only || values.only === "training") {
  const training = await benchTraining(Number(values.images ?? 3200), values.arch?.split(","));
  results.training = training;
  console.log(`training on ${training.backend} (${Object.entries(training.versions).map(([k, v]) => `${k} ${v}`).join(", ")}):`);
  for (const row of training.rows) {
    console.log(`  ${row.arch.padEnd(9)} batch ${String(row.batchSize).padStart(3)}  ${Math.round(row.imagesPerSecond).toString().padStart(6)} images/s  (${row.images} images)`);
  }
}
await mkdir("reports", { recursive: true });
await writeFile("reports/bench.json", JSON.stringify(results, null, 2) + "\n");
console.log("written to reports/bench.json");
