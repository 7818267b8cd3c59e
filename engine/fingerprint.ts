import { fingerprintOf } from "./canonical-json.ts";
import type { CodeFingerprint } from "./code-fingerprint.ts";
import { PipelineError } from "./errors.ts";
import { formatPath, getAtPath, parsePath } from "./param-path.ts";
import type { Stage } from "./stage.ts";
import { withParamOverrides } from "./sweep.ts";

/** Everything a stage's result depends on. Its canonical JSON's SHA-256 is the cache key. */
export interface FingerprintInputs {
  stage: string;
  code: CodeFingerprint;
  /** Declared param path (normalized) → its value; only the declared paths, so other edits don't rerun it. */
  params: Record<string, unknown>;
  /** Upstream stage → the content hash of its outputs. */
  inputs: Record<string, string>;
  /** Execution options with the "key" policy that the stage declares (e.g. the ML backend), resolved. */
  execution?: Record<string, string>;
}

/** Bumped when the meaning of a fingerprint changes, to invalidate every cached result at once. */
const FINGERPRINT_VERSION = 1;

export function fingerprintFor(inputs: FingerprintInputs): string {
  return fingerprintOf({ version: FINGERPRINT_VERSION, ...inputs });
}

export function declaredParamValues(stage: Stage, params: unknown): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  // A sweep item reads the document with its own values at the swept paths.
  const view = withParamOverrides(params, stage.paramOverrides);
  for (const declared of stage.params) {
    const path = parsePath(declared);
    const lookup = getAtPath(view, path);
    if (!lookup.found) {
      throw new PipelineError(
        "undeclared-param",
        `stage "${stage.name}" reads the param ${formatPath(path)}, but ${lookup.missingAt} is not in the params`,
      );
    }
    values[formatPath(path)] = lookup.value;
  }
  return values;
}

/** What `context.param(path)` returns; reading an undeclared path is a bug in the stage, not in the params. */
export function readDeclaredParam<T>(stage: string, declared: Readonly<Record<string, unknown>>, path: string): T {
  const key = formatPath(parsePath(path));
  if (!(key in declared)) {
    throw new PipelineError(
      "undeclared-param",
      `stage "${stage}" read the param ${key} without declaring it; add it to the stage's params so its cache key covers it`,
    );
  }
  return declared[key] as T;
}
