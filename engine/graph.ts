import type { Stage } from "./stage.ts";
import { PipelineError } from "./errors.ts";

/** The expanded stages as a DAG: validated names and edges, a stable topological order. */
export class StageGraph {
  readonly stages: ReadonlyMap<string, Stage>;
  /** Topological order; ties keep declaration order so output is stable run to run. */
  readonly order: readonly string[];
  readonly dependents: ReadonlyMap<string, readonly string[]>;

  constructor(stageList: readonly Stage[]) {
    const stages = new Map<string, Stage>();
    for (const stage of stageList) {
      if (stages.has(stage.name)) {
        throw new PipelineError("duplicate-stage", `two stages are named "${stage.name}": stage names must be unique`);
      }
      stages.set(stage.name, stage);
    }
    const dependents = new Map<string, string[]>([...stages.keys()].map((name) => [name, []]));
    for (const stage of stages.values()) {
      for (const dep of stage.deps) {
        if (!stages.has(dep)) {
          throw new PipelineError(
            "unknown-stage",
            `stage "${stage.name}" depends on "${dep}", which no declaration produces for these params`,
          );
        }
        dependents.get(dep)!.push(stage.name);
      }
    }
    this.stages = stages;
    this.dependents = dependents;
    this.order = topologicalOrder(stages);
  }

  get(name: string): Stage {
    const stage = this.stages.get(name);
    if (!stage) throw new PipelineError("unknown-stage", `no stage is named "${name}"`);
    return stage;
  }

  /**
   * Stages matching any pattern (glob: `*` any run of characters; a bare family name matches all its
   * stages, a sweep's base (`train@lenet`) all its items).
   */
  match(patterns: readonly string[]): Set<string> {
    const matched = new Set<string>();
    for (const pattern of patterns) {
      const regex = globToRegex(pattern);
      const hits = this.order.filter((name) => {
        const stage = this.get(name);
        return regex.test(name) || regex.test(stage.family) || (stage.sweepOf !== undefined && regex.test(stage.sweepOf));
      });
      if (hits.length === 0) {
        throw new PipelineError(
          "unknown-stage",
          `the pattern "${pattern}" matches no stage; run \`pipeline dag\` to list them`,
        );
      }
      for (const hit of hits) matched.add(hit);
    }
    return matched;
  }

  ancestors(names: Iterable<string>): Set<string> {
    return this.#closure(names, (name) => this.get(name).deps);
  }

  descendants(names: Iterable<string>): Set<string> {
    return this.#closure(names, (name) => this.dependents.get(name) ?? []);
  }

  #closure(start: Iterable<string>, next: (name: string) => readonly string[]): Set<string> {
    const seen = new Set<string>();
    const pending = [...start];
    while (pending.length > 0) {
      const name = pending.pop()!;
      if (seen.has(name)) continue;
      seen.add(name);
      pending.push(...next(name));
    }
    return seen;
  }
}

function topologicalOrder(stages: ReadonlyMap<string, Stage>): string[] {
  const order: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string, path: string[]): void => {
    const seen = state.get(name);
    if (seen === "done") return;
    if (seen === "visiting") {
      const cycle = [...path.slice(path.indexOf(name)), name].join(" → ");
      throw new PipelineError("dependency-cycle", `the stages form a cycle: ${cycle}`);
    }
    state.set(name, "visiting");
    for (const dep of stages.get(name)!.deps) visit(dep, [...path, name]);
    state.set(name, "done");
    order.push(name);
  };
  for (const name of stages.keys()) visit(name, []);
  return order;
}

function globToRegex(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`);
}

export function renderDagText(graph: StageGraph): string {
  const width = Math.max(...graph.order.map((name) => name.length));
  return graph.order
    .map((name) => {
      const deps = graph.get(name).deps;
      return deps.length === 0 ? name : `${name.padEnd(width)}  ← ${summarizeDeps(graph, deps)}`;
    })
    .join("\n");
}

export function renderDagMermaid(graph: StageGraph): string {
  const ids = new Map(graph.order.map((name, index) => [name, `s${index}`]));
  const lines = ["flowchart TD"];
  for (const name of graph.order) lines.push(`  ${ids.get(name)}["${name.replace(/"/g, "#quot;")}"]`);
  for (const name of graph.order) {
    for (const dep of graph.get(name).deps) lines.push(`  ${ids.get(dep)} --> ${ids.get(name)}`);
  }
  return lines.join("\n");
}

/** Long dependency lists (an aggregate over every experiment) are shown per family: "train@* (19)". */
function summarizeDeps(graph: StageGraph, deps: readonly string[]): string {
  if (deps.length <= 6) return deps.join(", ");
  const families = new Map<string, string[]>();
  for (const dep of deps) {
    const stage = graph.get(dep);
    const key = stage.item === undefined ? dep : `${stage.family}@*`;
    families.set(key, [...(families.get(key) ?? []), dep]);
  }
  return [...families].map(([key, members]) => (members.length > 1 ? `${key} (${members.length})` : key)).join(", ");
}
