import type { StageGraph } from "./graph.ts";
import { sweepItemOf } from "./sweep.ts";

/**
 * Which ready stage to start first when `--jobs` leaves a choice: the one with the longest
 * critical path — its own expected duration plus the longest chain of stages waiting on it — as
 * lage's scheduler does. Expected durations are the previous run's (any fingerprint: a retrained
 * model takes about as long as last time; a stage never run, as expectedDuration estimates it —
 * 0 when nothing like it ran, so a first run keeps the declaration order). Starting the long
 * chains first keeps `-j 2` from ending on one busy core.
 */
export function criticalPathPriorities(graph: StageGraph, names: readonly string[], expectedSeconds: (name: string) => number): Map<string, number> {
  const selected = new Set(names);
  const priorities = new Map<string, number>();
  // Reverse topological order: every dependent's priority is known before its upstream's.
  for (const name of [...graph.order].reverse()) {
    if (!selected.has(name)) continue;
    const downstream = (graph.dependents.get(name) ?? []).filter((dependent) => selected.has(dependent));
    const longestAfter = Math.max(0, ...downstream.map((dependent) => priorities.get(dependent) ?? 0));
    priorities.set(name, Math.max(0, expectedSeconds(name)) + longestAfter);
  }
  return priorities;
}

/** `names` ordered by descending priority; ties keep their given (topological, declaration) order. */
export function byPriority(names: readonly string[], priorities: ReadonlyMap<string, number>): string[] {
  return names
    .map((name, index) => ({ name, index, priority: priorities.get(name) ?? 0 }))
    .sort((a, b) => b.priority - a.priority || a.index - b.index)
    .map((entry) => entry.name);
}

/**
 * A stage's expected duration from a lock's records: its own last run; for a sweep item never run,
 * the mean of its base's (`train@lenet`, before the experiment was replicated) and its siblings'
 * (`train@lenet+seed=42` for a new `+seed=45`): another seed trains about as long; for any other
 * `family@item` never run, the mean of its family's (a new experiment's `train@…` is expected to
 * take an average training, not nothing — counted as 0 it would start last and end the run alone).
 */
export function expectedDuration(records: Readonly<Record<string, { durationSeconds: number }>>, name: string): number {
  const own = records[name]?.durationSeconds;
  if (own !== undefined) return own;
  const mean = (matches: (other: string) => boolean): number | undefined => {
    const related = Object.entries(records)
      .filter(([other]) => matches(other))
      .map(([, record]) => record.durationSeconds);
    return related.length === 0 ? undefined : related.reduce((sum, value) => sum + value, 0) / related.length;
  };
  const base = sweepItemOf(name)?.base;
  const relatives = base === undefined ? undefined : mean((other) => other === base || sweepItemOf(other)?.base === base);
  if (relatives !== undefined) return relatives;
  const at = name.indexOf("@");
  return at < 0 ? 0 : (mean((other) => other.startsWith(name.slice(0, at + 1))) ?? 0);
}
