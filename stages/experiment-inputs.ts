import type { Params } from "./params.ts";

/** Helpers for the aggregate stages (comparison charts, report), which read every experiment. */

export function experimentIds(params: Params): string[] {
  return Object.keys(params.experiments);
}

/** Inputs of an aggregate stage: each upstream stage under a role of its own name. */
export function byStageName(stages: readonly string[]): Record<string, string> {
  return Object.fromEntries(stages.map((stage) => [stage, stage]));
}

/** The experiments an aggregate stage covers, from its `train@<id>` inputs, in declaration order. */
export function idsFromInputs(context: { inputs: Readonly<Record<string, string>> }): string[] {
  return Object.keys(context.inputs)
    .filter((name) => name.startsWith("train@"))
    .map((name) => name.slice("train@".length));
}
