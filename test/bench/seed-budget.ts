/**
 * What a params file's seeds cost, from a lock file's recorded durations: per experiment the seeds
 * and the core-minutes of their trainings, the whole DAG's core-minutes, and the wall time of a
 * first run with `--jobs N`, simulated with the engine's own scheduling (critical path first, by the
 * lock's durations; a new seed takes as long as its experiment's recorded run). download and
 * preprocess count as cached. An estimate at the lock's speed — the machine's own drift (±20%,
 * README) is not in it.
 *
 *   node --import tsx test/bench/seed-budget.ts [--params params.json] [--lock pipeline.lock.json] [--jobs 2]
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { StageGraph } from "../../engine/graph.ts";
import { readLock } from "../../engine/lock-file.ts";
import { expectedDuration } from "../../engine/scheduling.ts";
import { estimateWallTime } from "../../engine/work-plan.ts";
import { project } from "../../stages/index.ts";
import { parseParams } from "../../stages/params-schema.ts";
import type { ProjectParams } from "../../stages/analysis-params.ts";
import { runsOf } from "../../stages/replicates.ts";

export interface BudgetRow {
  id: string;
  seeds: number;
  /** One training's recorded seconds. */
  trainingSeconds: number;
  coreMinutes: number;
}

export interface Budget {
  rows: BudgetRow[];
  trainingCoreMinutes: number;
  allCoreMinutes: number;
  jobs: number;
  /** Simulated wall time of a run of every stage but download and preprocess. */
  wallMinutes: number;
}

const CACHED = new Set(["download", "preprocess"]);

export function seedBudget(params: ProjectParams, records: Readonly<Record<string, { durationSeconds: number }>>, jobs: number): Budget {
  const graph = new StageGraph(project.declarations.flatMap((declaration) => declaration.expand(params)));
  const seconds = (name: string): number => (CACHED.has(graph.get(name).family) ? 0 : expectedDuration(records, name));
  const rows = Object.keys(params.experiments).map((id) => {
    const runs = runsOf(params, id);
    const perRun = runs.map((run) => expectedDuration(records, run.train));
    const trainingSeconds = perRun.reduce((sum, value) => sum + value, 0) / perRun.length;
    return { id, seeds: runs.length, trainingSeconds, coreMinutes: perRun.reduce((sum, value) => sum + value, 0) / 60 };
  });
  return {
    rows,
    trainingCoreMinutes: rows.reduce((sum, row) => sum + row.coreMinutes, 0),
    allCoreMinutes: graph.order.reduce((sum, name) => sum + seconds(name), 0) / 60,
    jobs,
    // The engine's own simulation (`pipeline plan --workers N`), with N job slots on one machine.
    wallMinutes: estimateWallTime(graph, graph.order, seconds, jobs).seconds / 60,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { params: { type: "string", default: "params.json" }, lock: { type: "string", default: "pipeline.lock.json" }, jobs: { type: "string", default: "2" } } });
  const paramsFile = resolve(values.params);
  const params = parseParams(JSON.parse(await readFile(paramsFile, "utf8")), values.params);
  const lock = await readLock(resolve(values.lock));
  const budget = seedBudget(params, lock.stages, Number(values.jobs));
  console.log(`${values.params}, durations from ${values.lock}, --jobs ${budget.jobs}\n`);
  console.log("experiment               seeds  min/run  core-min");
  for (const row of budget.rows) {
    console.log(`${row.id.padEnd(24)} ${String(row.seeds).padStart(5)} ${(row.trainingSeconds / 60).toFixed(1).padStart(8)} ${row.coreMinutes.toFixed(1).padStart(9)}`);
  }
  console.log(`\ntrainings: ${budget.rows.reduce((sum, row) => sum + row.seeds, 0)} runs, ${budget.trainingCoreMinutes.toFixed(1)} core-min`);
  console.log(`every stage (download, preprocess cached): ${budget.allCoreMinutes.toFixed(1)} core-min (÷ ${budget.jobs} = ${(budget.allCoreMinutes / budget.jobs).toFixed(1)} min)`);
  console.log(`simulated wall time with --jobs ${budget.jobs}: ${budget.wallMinutes.toFixed(1)} min`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
