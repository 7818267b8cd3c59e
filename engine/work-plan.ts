import type { StageGraph } from "./graph.ts";
import { byPriority, criticalPathPriorities } from "./scheduling.ts";

/**
 * What more workers buy, before renting them: the wall time of a set of stages on N workers,
 * simulated with the executor's own policy — list scheduling, a stage starting as soon as its
 * upstream finished and a worker is free, ready stages longest-critical-path first (scheduling.ts)
 * — from the durations the lock recorded. Stages outside `names` count as already done.
 *
 * The model knows only recorded durations: the time around each stage (queueing, pulling inputs,
 * pushing results; ~0.1–0.5 s per stage when measured) and a machine slowed by running more at
 * once are left out, so it is a lower bound that is close when stages are long.
 */
export interface WorkEstimate {
  workers: number;
  /** Simulated wall time. */
  seconds: number;
  /** The sum of the stages' durations: the time on one worker. */
  workSeconds: number;
  /** The longest chain of dependent stages: no number of workers finishes sooner. */
  criticalPathSeconds: number;
  criticalPath: string[];
}

export function estimateWallTime(graph: StageGraph, names: readonly string[], secondsOf: (name: string) => number, workers: number): WorkEstimate {
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`workers must be a positive whole number, got ${workers}`);
  const selected = new Set(names);
  const order = graph.order.filter((name) => selected.has(name));
  const duration = (name: string): number => Math.max(0, secondsOf(name));
  const priorities = criticalPathPriorities(graph, order, duration);
  const waiting = byPriority(order, priorities);
  const finished = new Set(graph.order.filter((name) => !selected.has(name)));
  const running: Array<{ name: string; end: number }> = [];
  let now = 0;
  while (waiting.length > 0 || running.length > 0) {
    for (let i = 0; i < waiting.length && running.length < workers; ) {
      const name = waiting[i]!;
      if (graph.get(name).deps.every((dep) => finished.has(dep))) {
        waiting.splice(i, 1);
        running.push({ name, end: now + duration(name) });
      } else i++;
    }
    if (running.length === 0) break; // unreachable for a DAG: something is always ready or running
    now = Math.min(...running.map((stage) => stage.end));
    for (let i = running.length - 1; i >= 0; i--) {
      if (running[i]!.end <= now) finished.add(running.splice(i, 1)[0]!.name);
    }
  }
  return { workers, seconds: now, workSeconds: order.reduce((sum, name) => sum + duration(name), 0), ...criticalPath(graph, order, priorities, duration) };
}

/** The chain the priorities imply: from the highest-priority start, each time the dependent with the longest path. */
function criticalPath(graph: StageGraph, order: readonly string[], priorities: ReadonlyMap<string, number>, duration: (name: string) => number): { criticalPathSeconds: number; criticalPath: string[] } {
  const selected = new Set(order);
  const starts = order.filter((name) => graph.get(name).deps.every((dep) => !selected.has(dep)));
  let current = byPriority(starts, priorities)[0];
  const path: string[] = [];
  while (current !== undefined) {
    path.push(current);
    const next = (graph.dependents.get(current) ?? []).filter((name) => selected.has(name));
    current = byPriority(next, priorities)[0];
  }
  return { criticalPathSeconds: path.reduce((sum, name) => sum + duration(name), 0), criticalPath: path };
}

/** `pipeline plan --workers N`: the pending run (and a run from scratch) on 1 and N workers. */
export function renderWorkPlan(
  graph: StageGraph,
  pending: readonly string[],
  selected: readonly string[],
  recorded: (name: string) => number | undefined,
  workers: number,
  lockName: string,
): string {
  const lines: string[] = [];
  const seconds = (name: string): number => recorded(name) ?? 0;
  const describe = (title: string, names: readonly string[]): void => {
    const unknown = names.filter((name) => recorded(name) === undefined);
    if (unknown.length === names.length) {
      lines.push(`${title}: ${names.length} stage${names.length === 1 ? "" : "s"}, none with a recorded duration: run them once (on any number of workers) to plan from their times`);
      return;
    }
    const one = estimateWallTime(graph, names, seconds, 1);
    const many = estimateWallTime(graph, names, seconds, workers);
    lines.push(`${title}: ${names.length} stage${names.length === 1 ? "" : "s"}, ${formatDuration(one.workSeconds)} of work`);
    if (unknown.length > 0) lines.push(`  no recorded duration (counted as 0s): ${listNames(unknown)}`);
    lines.push(`  critical path ${formatDuration(many.criticalPathSeconds)}: ${listNames(many.criticalPath, " → ")}`);
    lines.push(`  on 1 worker:  ${formatDuration(one.seconds)}`);
    if (workers > 1) lines.push(`  on ${workers} workers: ${formatDuration(many.seconds)} (${(one.seconds / Math.max(many.seconds, 1e-9)).toFixed(2)}× faster)`);
  };
  if (pending.length > 0) describe("Pending run", pending);
  else lines.push("Nothing to run: everything is up to date.");
  if (pending.length !== selected.length) describe("From scratch", selected);
  lines.push(
    `Durations are the ones ${lockName} recorded (a stage never run: its other seeds' or its family's mean, as the scheduler expects); the time around each stage (queueing, pulls, pushes) is not included.`,
  );
  return lines.join("\n");
}

function listNames(names: readonly string[], separator = ", "): string {
  return names.length <= 8 ? names.join(separator) : `${names.slice(0, 8).join(separator)}${separator}… (${names.length - 8} more)`;
}

function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(Math.round(seconds % 60)).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}
