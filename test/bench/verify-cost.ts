import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LocalResultStore } from "../../engine/local-result-store.ts";

/**
 * What verifying a stage's input costs before the stage runs: each prepared dataset of the full
 * grid's lock rehashed in full (`verify(…, {deep: true})`), as the executor does once per input per
 * run. "cold" drops the page cache first (Linux, as root; said when it cannot). Needs the grid's
 * preprocess results in artifacts/: `node --import tsx test/bench/verify-cost.ts [lock file]`.
 */
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const lockFile = process.argv[2] ?? join(ROOT, "pipeline.lock.json");
const lock = JSON.parse(readFileSync(lockFile, "utf8")) as { stages: Record<string, { fingerprint: string; outputs: { files: Record<string, { size: number }> } }> };
const store = new LocalResultStore(join(ROOT, "artifacts"));
for (const [stage, entry] of Object.entries(lock.stages).filter(([name]) => name.startsWith("preprocess@"))) {
  const bytes = Object.values(entry.outputs.files).reduce((sum, file) => sum + file.size, 0);
  const times: string[] = [];
  for (const mode of ["cold", "warm", "warm"] as const) {
    if (mode === "cold") {
      try {
        writeFileSync("/proc/sys/vm/drop_caches", "3");
      } catch {
        times.push("(page cache not dropped: needs root on Linux)");
      }
    }
    const started = performance.now();
    const result = await store.verify(stage, entry.fingerprint, { deep: true, refresh: false });
    times.push(`${mode} ${((performance.now() - started) / 1000).toFixed(3)} s${result.ok ? "" : ` (not intact: ${result.reason})`}`);
  }
  console.log(`${stage}: ${(bytes / 1e6).toFixed(1)} MB: ${times.join(", ")}`);
}
