import { fileURLToPath } from "node:url";
import type { ExecutionOption } from "./execution.ts";
import type { MetricsDeclaration } from "./metrics.ts";
import type { Tolerance } from "./regression-check.ts";

export type { MetricsDeclaration };
import type { Measurement, RunRecord } from "./run-record.ts";

/**
 * How stages are declared. A declaration is pure data plus a `run`; the engine expands it against
 * the params into concrete stages (one, or one per item for a `foreach` family, like DVC's foreach,
 * or one per combination of swept values, like DVC's matrix: see sweep.ts).
 */

export interface StageProgress {
  /** 0..1 when known. */
  fraction?: number;
  /** One short line, e.g. "epoch 2/5 · batch 120/782 · loss 0.091 · 455 img/s · ETA 1m04s". */
  text: string;
}

export interface StageContext {
  readonly name: string;
  /** Empty folder to write every output into; it becomes the artifact only if `run` succeeds. */
  readonly outDir: string;
  /** Input role (as declared in `inputs`) → the folder holding that input's verified outputs (read-only). */
  readonly inputs: Readonly<Record<string, string>>;
  /** The folder of a declared input; an undeclared role throws. */
  input(role: string): string;
  /**
   * The run record of the result an input came from (its wall time, images/s, load): provenance,
   * not content. A stage that prints it makes output that can differ between two runs with the same key.
   */
  inputRecord(role: string): RunRecord | undefined;
  /** The value at a declared param path. Reading an undeclared path throws: the cache key would miss it. */
  param<T = unknown>(path: string): T;
  /** Every declared path with its value. */
  readonly params: Readonly<Record<string, unknown>>;
  /** The project's execution options this stage declared (see ExecutionOption), resolved. */
  readonly execution: Readonly<Record<string, string>>;
  progress(update: StageProgress | string): void;
  /** Extra facts about where the stage ran (tfjs backend, versions); recorded in the run record and lock. */
  recordEnvironment(facts: Record<string, string>): void;
  /** Measurements of this run (seconds, images/s): kept in the run record, never in the outputs. */
  recordMeasurements(values: Record<string, Measurement>): void;
  /** A line for the stage's log (`pipeline logs STAGE`). */
  log(line: string): void;
  readonly signal: AbortSignal;
}


/** Where a stage's `run` executes: in the pipeline process, or in a child process of its own (CPU-heavy work that should use another core). */
export type Isolation = "inline" | "process";

export interface Stage {
  readonly name: string;
  /** The declaration this stage came from (e.g. "train" for "train@simple-adam"). */
  readonly family: string;
  /** Absolute path of the file declaring the stage; it and its imports form the stage's code fingerprint. */
  readonly module: string;
  /** Input role → the upstream stage providing it. Stages read inputs by role, never by position. */
  readonly inputs: Readonly<Record<string, string>>;
  /** The upstream stages (the inputs' stages, each once). */
  readonly deps: readonly string[];
  readonly params: readonly string[];
  /** Names of the project's execution options the stage reads; those with policy "key" join its cache key. */
  readonly execution: readonly string[];
  readonly isolation: Isolation;
  /** Numbers this stage reports (like DVC metrics): copied into the lock file for `diff` and `check`. */
  readonly metrics?: MetricsDeclaration;
  /** The foreach item this stage was expanded for (undefined for single stages). */
  readonly item?: string;
  /**
   * Param values this stage sees in place of the document's (normalized path → value): a sweep
   * item's own point (engine/sweep.ts). They enter its key and `context.param` like any declared value.
   */
  readonly paramOverrides?: Readonly<Record<string, unknown>>;
  /** A sweep item's base stage (`train@lenet` for `train@lenet+seed=2`): a pattern naming the base selects every item. */
  readonly sweepOf?: string;
  run(context: StageContext): Promise<void>;
}

export interface StageDeclaration<Params> {
  readonly family: string;
  readonly module: string;
  expand(params: Params): Stage[];
}

/** What every kind of declaration (single, foreach, sweep) has. */
export interface CommonFields {
  name: string;
  /** Pass `import.meta.url` of the declaring file. */
  module: string;
  isolation?: Isolation;
  metrics?: MetricsDeclaration;
  execution?: readonly string[];
}

export function defineStage<Params>(
  declaration: CommonFields & {
    inputs?: Readonly<Record<string, string>> | ((params: Params) => Readonly<Record<string, string>>);
    /** Fixed paths, or paths that depend on the params (an aggregate reading one path per experiment). */
    params?: readonly string[] | ((params: Params) => readonly string[]);
    run(context: StageContext): Promise<void>;
  },
): StageDeclaration<Params> {
  const module = toPath(declaration.module);
  return {
    family: declaration.name,
    module,
    expand: (params) => [
      {
        name: declaration.name,
        family: declaration.name,
        module,
        ...withDeps(typeof declaration.inputs === "function" ? declaration.inputs(params) : (declaration.inputs ?? {})),
        params: typeof declaration.params === "function" ? declaration.params(params) : (declaration.params ?? []),
        execution: declaration.execution ?? [],
        isolation: declaration.isolation ?? "inline",
        ...(declaration.metrics ? { metrics: declaration.metrics } : {}),
        run: declaration.run,
      },
    ],
  };
}

/** One stage per item, named `family@item`. */
export function defineForeach<Params>(
  declaration: CommonFields & {
    items(params: Params): readonly string[];
    inputs?(item: string, params: Params): Readonly<Record<string, string>>;
    params(item: string, params: Params): readonly string[];
    run(context: StageContext, item: string): Promise<void>;
  },
): StageDeclaration<Params> {
  const module = toPath(declaration.module);
  return {
    family: declaration.name,
    module,
    expand: (params) =>
      declaration.items(params).map((item) => ({
        name: `${declaration.name}@${item}`,
        family: declaration.name,
        module,
        item,
        ...withDeps(declaration.inputs?.(item, params) ?? {}),
        params: declaration.params(item, params),
        execution: declaration.execution ?? [],
        isolation: declaration.isolation ?? "inline",
        ...(declaration.metrics ? { metrics: declaration.metrics } : {}),
        run: (context: StageContext) => declaration.run(context, item),
      })),
  };
}

export function withDeps(inputs: Readonly<Record<string, string>>): { inputs: Readonly<Record<string, string>>; deps: readonly string[] } {
  return { inputs, deps: [...new Set(Object.values(inputs))] };
}

export function toPath(moduleUrlOrPath: string): string {
  return moduleUrlOrPath.startsWith("file:") ? fileURLToPath(moduleUrlOrPath) : moduleUrlOrPath;
}

/** A project: its params (validated and resolved) and its stage declarations. */
export interface ProjectDefinition<Params> {
  /** Folder holding params, artifacts/, the lock file; code fingerprints are relative to it. */
  readonly root: string;
  /** Absolute path of the module exporting this definition as `project`: child processes load it. */
  readonly module: string;
  /** Validate a parsed params document and resolve it (defaults merged). Throw PipelineError("invalid-params"). */
  parseParams(document: unknown, sourceName: string): Params | Promise<Params>;
  /**
   * The module whose code does the validation. When given, a document that validated once is not
   * validated again until it or that code changes (the resolved params are cached by content), so a
   * no-op run need not load the schema library at all — load it lazily inside parseParams.
   */
  readonly paramsModule?: string;
  readonly declarations: readonly StageDeclaration<Params>[];
  /**
   * Runs after a successful `run` or `check`, outside caching: e.g. copy the report into reports/
   * stamped with the commit and lock file. Returns lines to print.
   */
  publish?(run: {
    lockPath: string;
    workDir: string;
    /** The local folder of a stage's outputs as the lock now names them, fetched first if only a remote holds them. */
    materialize(stage: string): Promise<string>;
  }): Promise<string[]>;
  /**
   * Settings of how stages execute that the engine passes through without knowing them (the ML
   * backend, threads per stage): each becomes a `--NAME` flag; see ExecutionOption for the cache policy.
   */
  readonly execution?: {
    options: readonly ExecutionOption[];
    /** Warnings about a combination (e.g. more threads than cores), printed before a run. */
    warnings?(resolved: Readonly<Record<string, string>>, machine: { cores: number; jobs: number }): string[];
  };
  /** `check`: the params file it runs by default (a small CI profile) and each metric's tolerance. */
  readonly check?: {
    defaultParams: string;
    tolerances(params: Params): Readonly<Record<string, Tolerance>>;
  };
}
