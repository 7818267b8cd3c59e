import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Type } from "arktype";
import { writeFileAtomic } from "./atomic-write.ts";
import { fingerprintOf } from "./canonical-json.ts";
import type { CodeFingerprinter } from "./code-fingerprint.ts";
import { PipelineError } from "./errors.ts";
import { formatPath, getAtPath, parsePath, setAtPath, type PathSegment } from "./param-path.ts";
import type { ProjectDefinition } from "./stage.ts";

/**
 * Reads a params file, applies `-S path=value` overrides and hands the result to the project's
 * validation. Every failure is a PipelineError naming the file, the JSON path, what was expected
 * and what was found — before any stage runs or anything is written.
 */
export async function loadParams<Params>(
  project: ProjectDefinition<Params>,
  file: string,
  overrides: readonly string[] = [],
  cache?: { dir: string; code: CodeFingerprinter; /** read the cache, never write it (status, dag, diff, --dry-run) */ readOnly?: boolean },
): Promise<{ params: Params; document: unknown }> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new PipelineError("invalid-params", `cannot read the params file ${file}: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new PipelineError("invalid-params", `${file} is not valid JSON: ${(error as Error).message}`);
  }
  for (const override of overrides) document = applyOverride(document, override);
  const parse = (): Promise<Params> => blameOverrides(Promise.resolve().then(() => project.parseParams(document, file)), file, overrides);
  if (!cache || !project.paramsModule) return { params: await parse(), document };
  const key = fingerprintOf({ document, code: cache.code.fingerprint(project.paramsModule) });
  const cached = join(cache.dir, `${key}.json`);
  try {
    return { params: JSON.parse(await readFile(cached, "utf8")) as Params, document };
  } catch {
    const params = await parse();
    if (cache.readOnly) return { params, document };
    // Only valid documents are cached; a failed write only costs the next run a validation.
    await mkdir(cache.dir, { recursive: true })
      .then(() => writeFileAtomic(cached, JSON.stringify(params)))
      .catch(() => {});
    return { params, document };
  }
}

/**
 * A problem at (or under) a path that `-S` set is the override's fault, not the params file's: say
 * so, so nobody goes looking in the file for a value that is only on the command line.
 */
async function blameOverrides<Params>(parsing: Promise<Params>, file: string, overrides: readonly string[]): Promise<Params> {
  try {
    return await parsing;
  } catch (error) {
    const header = `${file} is invalid`;
    if (!(error instanceof PipelineError) || error.reason !== "invalid-params" || overrides.length === 0 || !error.message.startsWith(header)) throw error;
    const paths = overrides.map((override) => ({ override, path: formatPath(parsePath(override.slice(0, override.indexOf("=")))) }));
    const [first, ...problems] = error.message.split("\n");
    const culprits = problems.map((line) => {
      const where = /^ {2}(\S+): /.exec(line)?.[1];
      return where === undefined ? undefined : paths.find(({ path }) => where === path || where.startsWith(`${path}.`) || where.startsWith(`${path}[`));
    });
    const blamed = new Set(culprits.filter((culprit) => culprit !== undefined).map((culprit) => culprit.override));
    if (blamed.size === 0) throw error;
    const counts = first!.slice(header.length); // " (2 problems):"
    if (culprits.every((culprit) => culprit !== undefined)) {
      const list = [...blamed].map((override) => `-S ${override}`).join(", ");
      throw new PipelineError("invalid-params", [`${list} ${blamed.size === 1 ? "is" : "are"} invalid${counts}`, ...problems].join("\n"));
    }
    const lines = problems.map((line, i) => (culprits[i] ? `${line} (from -S ${culprits[i].override})` : line));
    throw new PipelineError("invalid-params", [`${file} with -S overrides is invalid${counts}`, ...lines].join("\n"));
  }
}

/**
 * `-S training.epochs=3`: the value is read as JSON (numbers, booleans, null, arrays, objects) unless
 * the current value there is a string, so `-S name=123` keeps "123" a string; anything that is not
 * valid JSON is taken as a string. The schema then checks the type like any other value.
 */
export function applyOverride(document: unknown, override: string): unknown {
  const equals = override.indexOf("=");
  if (equals <= 0) {
    throw new PipelineError("invalid-override", `-S ${override}: expected path=value, e.g. -S training.epochs=3`);
  }
  let path: PathSegment[];
  try {
    path = parsePath(override.slice(0, equals));
  } catch (error) {
    throw new PipelineError("invalid-override", `-S ${override}: ${(error as Error).message}`);
  }
  const raw = override.slice(equals + 1);
  const current = getAtPath(document, path);
  if (!current.found && current.missingAt !== formatPath(path)) {
    throw new PipelineError("invalid-override", `-S ${override}: ${current.missingAt} does not exist in the params`);
  }
  let value: unknown = raw;
  if (!(current.found && typeof current.value === "string")) {
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw;
    }
  }
  return setAtPath(document, path, value);
}

/** Validates with an arktype schema and turns its errors into one PipelineError listing every problem. */
export function validateWith<T>(schema: Type<T>, document: unknown, sourceName: string): T {
  const result = schema(document) as unknown;
  // Duck-typed instead of `instanceof type.errors` so this module does not load arktype itself.
  if (!isArkErrors(result)) return result as T;
  const problems = [...result].map((error) => {
    const where = formatPath([...error.path].map((key) => (typeof key === "number" ? key : String(key))));
    if (error.code === "predicate" && error.expected === "removed") {
      return `  ${where}: unknown key (not in the schema; check its spelling)`;
    }
    return `  ${where}: expected ${error.expected}, found ${describe(error.data)}`;
  });
  throw new PipelineError(
    "invalid-params",
    `${sourceName} is invalid (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems.join("\n")}`,
  );
}

function describe(value: unknown): string {
  const json = JSON.stringify(value);
  const shown = json === undefined ? String(value) : json.length > 60 ? `${json.slice(0, 57)}...` : json;
  return `${value === null ? "null" : Array.isArray(value) ? "array" : typeof value} ${shown}`;
}

interface ArkErrorLike {
  path: ReadonlyArray<PropertyKey>;
  code: string;
  expected?: string;
  data: unknown;
}

function isArkErrors(value: unknown): value is Iterable<ArkErrorLike> & { summary: string } {
  return Array.isArray(value) && typeof (value as { summary?: unknown }).summary === "string";
}
