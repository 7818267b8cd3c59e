import { basename, join } from "node:path";
import { availableParallelism } from "node:os";
import { CodeFingerprinter } from "./code-fingerprint.ts";
import { keyedExecution, resolveExecution } from "./execution.ts";
import { LocalResultStore } from "./local-result-store.ts";
import type { RemoteCache } from "./remote-cache.ts";
import { RemoteBackedStore } from "./remote-store.ts";
import type { ResultStore } from "./result-store.ts";
import { declaredParamValues, type FingerprintInputs } from "./fingerprint.ts";
import { StageGraph } from "./graph.ts";
import { readLock, type LockFile } from "./lock-file.ts";
import { loadParams } from "./params-loader.ts";
import type { ProjectDefinition, Stage } from "./stage.ts";

export interface SessionOptions {
  paramsFile?: string;
  overrides?: readonly string[];
  /** Where artifacts/ and the lock file live; defaults to the project root. */
  workDir?: string;
  /** `--NAME VALUE` of the project's execution options (unset ones come from their env variable or default). */
  execution?: Readonly<Record<string, string | undefined>>;
  /** Stages the command runs at once: execution defaults (threads per stage) depend on it. */
  jobs?: number;
  /** A shared remote cache in front of which the local store sits; `push` pushes every result committed here. */
  remote?: { cache: RemoteCache; push: boolean; warn(message: string): void };
  /** Write nothing under artifacts/ (status, dag, diff, --dry-run): caches are read, never filled. */
  readOnly?: boolean;
}

/** A project opened for one command: validated params, the expanded DAG, the cache and the lock. */
export class Session<Params> {
  private constructor(
    readonly project: ProjectDefinition<Params>,
    readonly params: Params,
    readonly graph: StageGraph,
    /** Where results are looked up and committed: the local store, in front of a remote when one is configured. */
    readonly store: ResultStore,
    /** The local store itself (workspaces of dead runs, result folders for the lock and gc). */
    readonly local: LocalResultStore,
    readonly lockPath: string,
    readonly lock: LockFile,
    readonly workDir: string,
    readonly code: CodeFingerprinter,
    /** The project's execution options, resolved for this command. */
    readonly execution: Readonly<Record<string, string>>,
  ) {}

  static async open<Params>(project: ProjectDefinition<Params>, options: SessionOptions = {}): Promise<Session<Params>> {
    const workDir = options.workDir ?? project.root;
    const paramsFile = options.paramsFile ?? join(project.root, "params.json");
    const code = new CodeFingerprinter(project.root, { cacheDir: join(workDir, "artifacts", ".code-cache"), writeCache: !options.readOnly });
    const paramsCache = { dir: join(workDir, "artifacts", ".params-cache"), code, readOnly: options.readOnly ?? false };
    code.holdCacheWrites();
    const { params } = await loadParams(project, paramsFile, options.overrides ?? [], paramsCache);
    code.releaseCacheWrites();
    const graph = new StageGraph(project.declarations.flatMap((declaration) => declaration.expand(params)));
    const lockPath = lockPathFor(workDir, paramsFile);
    const machine = { cores: availableParallelism(), jobs: options.jobs ?? availableParallelism() };
    const local = new LocalResultStore(join(workDir, "artifacts"));
    const execution = resolveExecution(project.execution?.options ?? [], options.execution ?? {}, machine);
    return new Session(
      project,
      params,
      graph,
      options.remote ? new RemoteBackedStore(local, options.remote.cache, options.remote) : local,
      local,
      lockPath,
      await readLock(lockPath),
      workDir,
      code,
      execution,
    );
  }

  fingerprintInputs(stage: Stage, upstreamOutputHashes: Readonly<Record<string, string>>): FingerprintInputs {
    const inputs: Record<string, string> = {};
    for (const dep of stage.deps) inputs[dep] = upstreamOutputHashes[dep]!;
    const execution = keyedExecution(this.project.execution?.options ?? [], stage.execution, this.execution);
    return {
      stage: stage.name,
      code: this.code.fingerprint(stage.module),
      params: declaredParamValues(stage, this.params),
      inputs,
      ...(execution ? { execution } : {}),
    };
  }

  /** Stages a command acts on: matched targets, everything upstream they need, and with `downstream` their dependents. */
  selection(only: readonly string[], downstream: boolean): Set<string> {
    if (only.length === 0) return new Set(this.graph.order);
    const targets = this.graph.match(only);
    const withDependents = downstream ? this.graph.descendants(targets) : targets;
    return this.graph.ancestors(withDependents);
  }
}

/**
 * One lock file per params file, so switching between profiles (params.json, params.quick.json,
 * params.ci.json) does not overwrite each other's record: params.json ↔ pipeline.lock.json,
 * params.X.json ↔ params.X.lock.json in the work dir. `gc` keeps what any of them references.
 */
export function lockPathFor(workDir: string, paramsFile: string): string {
  const name = basename(paramsFile);
  return join(workDir, name === "params.json" ? "pipeline.lock.json" : `${name.replace(/\.json$/, "")}.lock.json`);
}
