import { declaredParamValues } from "./fingerprint.ts";
import type { Session } from "./session.ts";
import { describeReason, diffAgainstLock, type StaleReason } from "./why.ts";

/**
 * Which of a lock file's entries no longer match the code and params they would be made from today,
 * judged from the lock alone (no artifacts needed): each stage's code fingerprint and declared param
 * values now, against what its entry recorded. Upstream outputs are not compared — they cannot be
 * known without running — so a stage only downstream of a change is not listed; its upstream is.
 */
export interface StaleEntry {
  stage: string;
  reasons: StaleReason[];
}

export function lockBehindCode<Params>(session: Session<Params>): StaleEntry[] {
  const stale: StaleEntry[] = [];
  for (const name of session.graph.order) {
    const stage = session.graph.get(name);
    const entry = session.lock.stages[name];
    if (!entry) {
      stale.push({ stage: name, reasons: [{ kind: "never-run" }] });
      continue;
    }
    const now = {
      stage: name,
      code: session.code.fingerprint(stage.module),
      params: declaredParamValues(stage, session.params),
      // What cannot be judged from the lock (upstream outputs, execution options) is taken as recorded.
      inputs: entry.inputs,
      ...(entry.execution ? { execution: entry.execution } : {}),
    };
    const reasons = diffAgainstLock(now, entry);
    if (reasons.length > 0) stale.push({ stage: name, reasons });
  }
  return stale;
}

/** "train@a (code modified: ml/train.ts), evaluate@a (param evaluate.batch changed from 1 to 2)", shortened. */
export function describeStaleEntries(entries: readonly StaleEntry[], limit = 5): string {
  const shown = entries.slice(0, limit).map((entry) => `${entry.stage} (${entry.reasons.map(describeReason).join("; ")})`);
  return shown.join(", ") + (entries.length > limit ? ` and ${entries.length - limit} more` : "");
}
