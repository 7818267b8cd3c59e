import type { Params } from "./params.ts";

/**
 * Helpers for the aggregate stages (comparison charts, report), which read every experiment; which
 * runs (seeds) each experiment has is stages/replicates.ts's business.
 */

export function experimentIds(params: Params): string[] {
  return Object.keys(params.experiments);
}

/** Inputs of an aggregate stage: each upstream stage under a role of its own name. */
export function byStageName(stages: readonly string[]): Record<string, string> {
  return Object.fromEntries(stages.map((stage) => [stage, stage]));
}

