/**
 * Sweeps, like DVC's `matrix`: one declaration expanded over lists of values for chosen param paths.
 * Each combination of values is a stage of its own with its own cache key, and it sees the swept
 * paths set to its values, as if `-S path=value` had been given for that stage alone. Everything
 * else (the params it declares, `-S`, `status` and its reasons, the lock) treats it like any other
 * stage.
 *
 * Stage ids are `family@base+label=value[+label=value…]`, e.g. `train@lenet+seed=2`, or
 * `family@label=value` for a sweep without base items. Why this scheme:
 * - readable: each swept setting is named and its value spelled out, in the axes' order;
 * - stable: an id depends on the base and the values, never on a value's position in its list, so
 *   adding or removing a value leaves every other id (and so every other cache key) alone;
 * - safe: letters, digits, `_ . - @ + =` are exactly the characters `safeName` keeps, so the id
 *   is its own folder name under artifacts/, a lock key and a BullMQ job id (no `:`), and needs no
 *   quoting in a shell. A value that would need escaping is refused rather than mangled, since
 *   two mangled values could share a folder;
 * - reversible: `+` and `=` never occur in a swept base item or label, so tools reading only a
 *   lock file (`diff`) can group the items of one base again (`sweepItemOf`).
 */
import { PipelineError } from "./errors.ts";
import { formatPath, getAtPath, parsePath, setAtPath, type PathSegment } from "./param-path.ts";
import { type CommonFields, type Stage, type StageContext, type StageDeclaration, toPath, withDeps } from "./stage.ts";

export type SweepValue = string | number | boolean;

/** One swept setting: the param path each item sees set to one of `values`. */
export interface SweepAxis {
  path: string;
  /** Its name in stage ids (`seed` in `train@lenet+seed=2`); default: the path's last key. */
  label?: string;
  values: readonly SweepValue[];
}

/** One combination of an item's axes. */
export interface SweepPoint {
  /** The base item it varies (undefined for a sweep without items). */
  item?: string;
  /** Label → value, in the axes' order. */
  values: Readonly<Record<string, SweepValue>>;
  /** Normalized param path → value: what the stage sees in place of the document's value there. */
  overrides: Readonly<Record<string, SweepValue>>;
  /**
   * What follows `family@` in the stage's name: "lenet+seed=2". Another sweep over the same points
   * (an evaluation of each training) names its upstream stage with it: `train@${point.id}`.
   */
  id: string;
}

const LABEL = /^[A-Za-z][A-Za-z0-9_-]*$/;
const VALUE = /^[A-Za-z0-9_.-]+$/;
const ITEM_PART = /^([A-Za-z][A-Za-z0-9_-]*)=([A-Za-z0-9_.-]+)$/;

function invalid(message: string): PipelineError {
  return new PipelineError("invalid-sweep", message);
}

function valueText(value: SweepValue, where: string): string {
  if (typeof value === "number" && !Number.isFinite(value)) throw invalid(`${where}: ${value} is not a finite number`);
  if (typeof value !== "number" && typeof value !== "string" && typeof value !== "boolean") {
    throw invalid(`${where}: expected numbers, strings or booleans, found ${JSON.stringify(value)}`);
  }
  const text = String(value);
  if (!VALUE.test(text)) {
    throw invalid(`${where}: the value ${JSON.stringify(value)} cannot be part of a stage id (use letters, digits, "_", "." and "-" only)`);
  }
  return text;
}

/**
 * Every combination of the axes for one base item (the first axis varies slowest). No axes: one
 * point named by the item alone, so a project can decide per item whether it is swept.
 */
export function sweepPoints(item: string | undefined, axes: readonly SweepAxis[], family = "sweep"): SweepPoint[] {
  const where = item === undefined ? `sweep "${family}"` : `sweep "${family}" of "${item}"`;
  if (axes.length === 0) return [{ ...(item === undefined ? {} : { item }), values: {}, overrides: {}, id: item ?? "" }];
  if (item !== undefined && (item === "" || /[+=]/.test(item))) {
    throw invalid(`${where}: a swept item cannot be empty or contain "+" or "=" (they separate the swept values in stage ids)`);
  }
  const labels = new Set<string>();
  const paths = new Set<string>();
  const resolved = axes.map((axis) => {
    let path: PathSegment[];
    try {
      path = parsePath(axis.path);
    } catch (error) {
      throw invalid(`${where}: ${(error as Error).message}`);
    }
    const key = formatPath(path);
    const label = axis.label ?? String(path.at(-1));
    if (!LABEL.test(label)) throw invalid(`${where}: the label "${label}" of ${key} must start with a letter and hold only letters, digits, "_" and "-"`);
    if (labels.has(label)) throw invalid(`${where}: two axes are labelled "${label}"`);
    if (paths.has(key)) throw invalid(`${where}: ${key} is swept twice`);
    labels.add(label);
    paths.add(key);
    if (axis.values.length === 0) throw invalid(`${where}: ${key} has no values to sweep over`);
    const texts = axis.values.map((value) => valueText(value, `${where}, ${key}`));
    const repeated = texts.find((text, index) => texts.indexOf(text) !== index);
    if (repeated !== undefined) throw invalid(`${where}, ${key}: the value ${repeated} is listed twice`);
    return { key, label, values: axis.values, texts };
  });
  let points: SweepPoint[] = [{ ...(item === undefined ? {} : { item }), values: {}, overrides: {}, id: item ?? "" }];
  for (const axis of resolved) {
    points = points.flatMap((point) =>
      axis.values.map((value, index) => ({
        ...point,
        values: { ...point.values, [axis.label]: value },
        overrides: { ...point.overrides, [axis.key]: value },
        id: point.id === "" ? `${axis.label}=${axis.texts[index]}` : `${point.id}+${axis.label}=${axis.texts[index]}`,
      })),
    );
  }
  return points;
}

/** The stage name of a point of `family`. */
export function sweepStageName(family: string, point: Pick<SweepPoint, "id">): string {
  return point.id === "" ? family : `${family}@${point.id}`;
}

/**
 * The base and values of a swept stage's name (`train@lenet+seed=2` → base `train@lenet`, values
 * {seed: "2"}), or undefined for a name without swept values. Read from names alone, so it works
 * on any lock file; a foreach item spelled like `a=b` would read as swept, which is why sweeps
 * refuse `+` and `=` in their own items.
 */
export function sweepItemOf(name: string): { base: string; values: Record<string, string> } | undefined {
  const at = name.indexOf("@");
  if (at < 0) return undefined;
  const parts = name.slice(at + 1).split("+");
  let first = parts.length;
  while (first > 0 && ITEM_PART.test(parts[first - 1]!)) first--;
  if (first === parts.length) return undefined;
  const item = parts.slice(0, first).join("+");
  const values: Record<string, string> = {};
  for (const part of parts.slice(first)) {
    const [, label, value] = ITEM_PART.exec(part)!;
    values[label!] = value!;
  }
  const family = name.slice(0, at);
  return { base: item === "" ? family : `${family}@${item}`, values };
}

function covers(declared: readonly PathSegment[], swept: readonly PathSegment[]): boolean {
  return declared.length <= swept.length && declared.every((segment, index) => segment === swept[index]);
}

/**
 * A family of stages over the combinations of each item's axes. `items` are the base items (like
 * defineForeach's; omit for one base), `axes` what each is swept over (none: the item is one stage,
 * named as a foreach item would be). A swept path the stage does not declare itself is declared
 * for it, so its value is always in the key.
 */
export function defineSweep<Params>(
  declaration: CommonFields & {
    items?(params: Params): readonly string[];
    axes(item: string | undefined, params: Params): readonly SweepAxis[];
    inputs?(point: SweepPoint, params: Params): Readonly<Record<string, string>>;
    params(point: SweepPoint, params: Params): readonly string[];
    run(context: StageContext, point: SweepPoint): Promise<void>;
  },
): StageDeclaration<Params> {
  const module = toPath(declaration.module);
  const family = declaration.name;
  return {
    family,
    module,
    expand: (params) => {
      const bases: ReadonlyArray<string | undefined> = declaration.items ? declaration.items(params) : [undefined];
      return bases.flatMap((item) => {
        const axes = declaration.axes(item, params);
        return sweepPoints(item, axes, family).map((point): Stage => {
          const declared = declaration.params(point, params);
          const declaredPaths = declared.map((path) => parsePath(path));
          const undeclared = Object.keys(point.overrides).filter((key) => !declaredPaths.some((path) => covers(path, parsePath(key))));
          const swept = axes.length > 0;
          return {
            name: sweepStageName(family, point),
            family,
            module,
            ...(point.id === "" ? {} : { item: point.id }),
            ...withDeps(declaration.inputs?.(point, params) ?? {}),
            params: [...declared, ...undeclared],
            execution: declaration.execution ?? [],
            isolation: declaration.isolation ?? "inline",
            ...(declaration.metrics ? { metrics: declaration.metrics } : {}),
            ...(swept ? { paramOverrides: point.overrides, sweepOf: item === undefined ? family : `${family}@${item}` } : {}),
            run: (context: StageContext) => declaration.run(context, point),
          };
        });
      });
    },
  };
}

/** The params document as a stage with overrides sees it (the document itself when it has none). */
export function withParamOverrides(params: unknown, overrides: Readonly<Record<string, unknown>> | undefined): unknown {
  if (!overrides) return params;
  let view = params;
  for (const [path, value] of Object.entries(overrides)) {
    const segments = parsePath(path);
    const parent = segments.length > 1 ? getAtPath(view, segments.slice(0, -1)) : { found: true as const, value: view };
    if (!parent.found || parent.value === null || typeof parent.value !== "object") {
      throw invalid(`a sweep sets ${path}, but ${parent.found ? formatPath(segments.slice(0, -1)) : parent.missingAt} is not an object in the params`);
    }
    view = setAtPath(view, segments, value);
  }
  return view;
}
