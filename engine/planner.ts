import { checkFreshness } from "./freshness.ts";
import type { Session } from "./session.ts";
import type { StaleReason } from "./why.ts";

export interface StagePlan {
  stage: string;
  state: "up-to-date" | "will-run";
  /** Unknown while an upstream stage must run first: its outputs decide the key. */
  fingerprint?: string;
  reasons: StaleReason[];
  /** Up to date through a cached result other than the one the lock names (e.g. a param was set back). */
  restored?: boolean;
  /** Up to date through a result only the remote holds: what a pull would bring. */
  remote?: { files: number; bytes: number };
}

/**
 * What `run` would do, without running anything (`status`, `--dry-run`). A stage below one that must
 * run is reported as will-run: if the upstream result turns out identical, `run` will still reuse it.
 */
export async function planStages<Params>(
  session: Session<Params>,
  options: { only?: readonly string[]; downstream?: boolean; force?: readonly string[]; deepVerify?: boolean } = {},
): Promise<StagePlan[]> {
  const selected = session.selection(options.only ?? [], options.downstream ?? false);
  const forced = options.force?.length ? session.graph.match(options.force) : new Set<string>();
  const outputHashes: Record<string, string> = {};
  // Each stage is checked as soon as its upstream's are, all of them at once: a check mostly waits
  // on file reads (manifest, stat record, a stat per output), which overlap; in DAG order one after
  // another they left a 183-stage status idle for most of its time.
  const planned = new Map<string, Promise<StagePlan>>();
  const planOf = (name: string): Promise<StagePlan> => {
    let pending = planned.get(name);
    if (!pending) {
      pending = (async (): Promise<StagePlan> => {
        const stage = session.graph.get(name);
        await Promise.all(stage.deps.filter((dep) => selected.has(dep)).map(planOf));
        const pendingUpstream = stage.deps.filter((dep) => outputHashes[dep] === undefined);
        if (pendingUpstream.length > 0) {
          return { stage: name, state: "will-run", reasons: pendingUpstream.map((dep) => ({ kind: "upstream-will-run", stage: dep })) };
        }
        const inputs = session.fingerprintInputs(stage, outputHashes);
        const freshness = await checkFreshness(session.store, inputs, session.lock.stages[name], {
          forced: forced.has(name),
          deepVerify: options.deepVerify ?? false,
        });
        if (!freshness.fresh) return { stage: name, state: "will-run", fingerprint: freshness.fingerprint, reasons: freshness.reasons };
        outputHashes[name] = freshness.manifest.outputHash;
        const files = Object.values(freshness.manifest.files);
        const remote = freshness.outDir === undefined ? { files: files.length, bytes: files.reduce((sum, file) => sum + file.size, 0) } : undefined;
        return { stage: name, state: "up-to-date", fingerprint: freshness.fingerprint, reasons: [], restored: freshness.restored, ...(remote ? { remote } : {}) };
      })();
      planned.set(name, pending);
    }
    return pending;
  };
  // In DAG order, as before.
  const plans = await Promise.all(session.graph.order.filter((name) => selected.has(name)).map(planOf));
  return plans;
}
