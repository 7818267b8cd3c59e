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
  const plans: StagePlan[] = [];
  for (const name of session.graph.order) {
    if (!selected.has(name)) continue;
    const stage = session.graph.get(name);
    const pendingUpstream = stage.deps.filter((dep) => outputHashes[dep] === undefined);
    if (pendingUpstream.length > 0) {
      plans.push({
        stage: name,
        state: "will-run",
        reasons: pendingUpstream.map((dep) => ({ kind: "upstream-will-run", stage: dep })),
      });
      continue;
    }
    const inputs = session.fingerprintInputs(stage, outputHashes);
    const freshness = await checkFreshness(session.store, inputs, session.lock.stages[name], {
      forced: forced.has(name),
      deepVerify: options.deepVerify ?? false,
    });
    if (freshness.fresh) {
      outputHashes[name] = freshness.manifest.outputHash;
      const files = Object.values(freshness.manifest.files);
      const remote = freshness.outDir === undefined ? { files: files.length, bytes: files.reduce((sum, file) => sum + file.size, 0) } : undefined;
      plans.push({ stage: name, state: "up-to-date", fingerprint: freshness.fingerprint, reasons: [], restored: freshness.restored, ...(remote ? { remote } : {}) });
    } else {
      plans.push({ stage: name, state: "will-run", fingerprint: freshness.fingerprint, reasons: freshness.reasons });
    }
  }
  return plans;
}
