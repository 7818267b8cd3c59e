import { spawnSync } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Wall time of a no-op `run` (everything cached) of a 40-stage DAG, Node start-up and tsx included:
 * the cost a user pays for "nothing changed". Uses the toy project from the engine tests with 36
 * foreach items (source, upper, side, summary + 36 count stages).
 */
export interface NoopBenchResult {
  stages: number;
  coldSeconds: number;
  noopSeconds: { median: number; min: number; max: number; runs: number };
}

const FIXTURE = fileURLToPath(new URL("../fixtures/toy/", import.meta.url));
const RIGS = fileURLToPath(new URL("../../.tmp/rigs/", import.meta.url));

export async function benchEngineNoop(runs = 7): Promise<NoopBenchResult> {
  await mkdir(RIGS, { recursive: true });
  const dir = await mkdtemp(join(RIGS, "bench-"));
  await cp(FIXTURE, dir, { recursive: true });
  const params = JSON.parse(await readFile(join(dir, "params.json"), "utf8"));
  params.items = Array.from({ length: 36 }, (_, i) => `w${i}`);
  await writeFile(join(dir, "params.json"), JSON.stringify(params));
  const run = (): number => {
    const started = performance.now();
    const result = spawnSync(process.execPath, ["--import", "tsx", join(dir, "cli.ts"), "run"], { cwd: dir, env: { ...process.env, CI: "true" }, encoding: "utf8" });
    if (result.status !== 0) throw new Error(`bench run failed: ${result.stderr}`);
    return (performance.now() - started) / 1000;
  };
  const coldSeconds = run();
  const times = Array.from({ length: runs }, run).sort((a, b) => a - b);
  return {
    stages: 4 + params.items.length,
    coldSeconds,
    noopSeconds: { median: times[Math.floor(times.length / 2)]!, min: times[0]!, max: times.at(-1)!, runs },
  };
}
