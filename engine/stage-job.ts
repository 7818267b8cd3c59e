import { relative, resolve, sep } from "node:path";
import type { CodeFingerprint, CodeFingerprinter } from "./code-fingerprint.ts";
import type { ResultRef } from "./result-store.ts";
import type { MetricsDeclaration } from "./metrics.ts";

/**
 * One stage to run, as plain data that survives a JSON round trip: what a child process, a worker
 * on another machine or a queue receives. Inputs are references (stage, fingerprint, output hash),
 * never local paths: a runner resolves them through its own result store and checks the hash.
 */
export interface StageJob {
  schema: 1;
  /** The project module, relative to the project root ("/"-separated): checkouts differ in where they live. */
  projectModule: string;
  stage: string;
  fingerprint: string;
  /** The resolved params document: the runner re-expands the project's stages from it. */
  params: unknown;
  /** The stage's declared param paths and values (what its key covers). */
  declaredParams: Record<string, unknown>;
  /** Input role → the result it reads. */
  inputs: Record<string, ResultRef>;
  /** The code fingerprint the job's key was computed with; a runner whose checkout differs refuses it. */
  code: CodeFingerprint;
  /** The execution options the stage declared, resolved (backend, threads). */
  execution: Record<string, string>;
  metrics?: MetricsDeclaration;
}

export function projectRelative(root: string, path: string): string {
  return relative(root, path).split(sep).join("/");
}

export function projectAbsolute(root: string, relativePath: string): string {
  return resolve(root, ...relativePath.split("/"));
}

/**
 * The files whose content differs between the job's code fingerprint and this checkout's (added,
 * removed or modified), plus differing package versions; empty when the checkout would compute the
 * same key. `stageModule` is the stage's declaring file in this checkout.
 */
export function codeDifferences(job: StageJob, fingerprinter: CodeFingerprinter, stageModule: string): string[] {
  const mine = fingerprinter.fingerprint(stageModule);
  const differing: string[] = [];
  for (const file of [...new Set([...Object.keys(job.code.files), ...Object.keys(mine.files)])].sort()) {
    if (job.code.files[file] !== mine.files[file]) differing.push(file);
  }
  for (const name of [...new Set([...Object.keys(job.code.packages), ...Object.keys(mine.packages)])].sort()) {
    if (job.code.packages[name] !== mine.packages[name]) differing.push(`package ${name} (${job.code.packages[name] ?? "absent"} → ${mine.packages[name] ?? "absent"})`);
  }
  return differing;
}
