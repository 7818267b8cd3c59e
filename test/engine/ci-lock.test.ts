import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { describeReason } from "../../engine/why.ts";
import { lockBehindCode } from "../../engine/lock-staleness.ts";
import { Session } from "../../engine/session.ts";
import { project } from "../../stages/index.ts";

/**
 * CI checks out the committed params.ci.lock.json. If a commit changes code or params the CI profile
 * depends on without refreshing that lock, the first `npm run check` retrains and rewrites a tracked
 * file, leaving CI's working tree dirty. This catches it on the commit that staled the lock, from
 * the lock and the code alone (no artifacts, no training).
 */
test("the committed CI lock (params.ci.lock.json) matches the current code and params.ci.json", async () => {
  const paramsFile = join(project.root, project.check?.defaultParams ?? "params.ci.json");
  const session = await Session.open(project, { paramsFile, readOnly: true });
  const stale = lockBehindCode(session);
  const files = [...new Set(stale.flatMap((entry) => entry.reasons.flatMap((reason) => (reason.kind === "code-changed" ? [reason.file] : []))))].sort();
  const lines = stale.map((entry) => `  ${entry.stage}: ${entry.reasons.map(describeReason).join("; ")}`);
  assert.equal(
    stale.length,
    0,
    `params.ci.lock.json is behind the code for ${stale.length} of ${session.graph.order.length} stages` +
      (files.length ? ` (files changed: ${files.join(", ")})` : "") +
      `:\n${lines.join("\n")}\nrefresh with \`npm run check\` and commit params.ci.lock.json with the change that staled it`,
  );
});
