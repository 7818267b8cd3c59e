import { writeFile, mkdir } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { baseEnvironment } from "../../engine/environment.ts";
import { benchEngineNoop } from "./engine-noop.ts";
import { benchTraining, type TrainingBench } from "./training.ts";

/**
 * `npm run bench [-- --only engine|training|kernels] [--images N] [--epochs N] [--threads 1,2] [--arch simple,lenet]`:
 * speed figures, printed for people and written to reports/bench.json for machines. Timings live
 * here, never in tests. `--only kernels` runs test/bench/kernels.ts: each wasm training kernel
 * with the stock kernels and with ours (`--quick` for a short run).
 */
const { values } = parseArgs({
  options: {
    only: { type: "string" },
    images: { type: "string" },
    epochs: { type: "string" },
    threads: { type: "string" },
    arch: { type: "string" },
    quick: { type: "boolean" },
  },
});
const results: Record<string, unknown> = { environment: baseEnvironment(), date: new Date().toISOString() };

if (!values.only || values.only === "engine") {
  const engine = await benchEngineNoop();
  results.engineNoop = engine;
  console.log(`engine: no-op run of a ${engine.stages}-stage DAG (node start-up included): median ${engine.noopSeconds.median.toFixed(3)} s ` +
    `(min ${engine.noopSeconds.min.toFixed(3)}, max ${engine.noopSeconds.max.toFixed(3)}, ${engine.noopSeconds.runs} runs); cold run ${engine.coldSeconds.toFixed(2)} s`);
}
if (!values.only || values.only === "training") {
  const images = Number(values.images ?? 3200);
  const epochs = Number(values.epochs ?? 3);
  const threadCounts = (values.threads ?? [...new Set([1, availableParallelism()])].join(",")).split(",").map(Number);
  const training: TrainingBench[] = [];
  for (const threads of threadCounts) {
    const bench = await benchTraining(images, epochs, threads, values.arch?.split(","));
    training.push(bench);
    const details = Object.entries(bench.details).map(([k, v]) => `${k} ${String(v)}`).join(", ");
    console.log(`training on ${bench.backend} (${details}; ${Object.entries(bench.versions).filter(([k]) => k === "tfjs-core" || k.startsWith("tfjs-backend-wasm") || k.startsWith("tfjs-node")).map(([k, v]) => `${k} ${v}`).join(", ")}):`);
    for (const row of bench.rows) {
      const ratio = row.imagesPerSecond / row.pytorchImagesPerSecond;
      console.log(`  ${row.arch.padEnd(9)} batch ${String(row.batchSize).padStart(3)}  ${Math.round(row.imagesPerSecond).toString().padStart(6)} images/s` +
        `  (PyTorch ${row.pytorchImagesPerSecond}: ${ratio.toFixed(2)}x; epochs ${row.epochs.map((r) => Math.round(r)).join(" / ")} of ${row.images} images)`);
    }
  }
  results.training = training;
}
if (values.only === "kernels") {
  const { execFileSync } = await import("node:child_process");
  const { fileURLToPath } = await import("node:url");
  execFileSync(process.execPath, ["--import", "tsx", fileURLToPath(new URL("./kernels.ts", import.meta.url)), ...(values.quick ? ["--quick"] : [])], { stdio: "inherit" });
  process.exit(0);
}
await mkdir("reports", { recursive: true });
await writeFile("reports/bench.json", JSON.stringify(results, null, 2) + "\n");
console.log("written to reports/bench.json");
