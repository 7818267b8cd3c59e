/**
 * Paths into the params document. Written `training.epochs`, with brackets for keys that are not
 * plain identifiers (`experiments["lenet-dropout-0.25"].model`) and for array indexes (`list[2]`).
 */

export type PathSegment = string | number;

const IDENTIFIER = /^[A-Za-z_$][\w$-]*$/;

export function formatPath(segments: readonly PathSegment[]): string {
  let out = "";
  for (const segment of segments) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (IDENTIFIER.test(segment) && !/^\d/.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out === "" ? "(root)" : out;
}

export function parsePath(text: string): PathSegment[] {
  const segments: PathSegment[] = [];
  const pattern = /\.?([A-Za-z_$][\w$-]*)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]/y;
  let position = 0;
  while (position < text.length) {
    pattern.lastIndex = position;
    const match = pattern.exec(text);
    if (!match || (position === 0 && text.startsWith("."))) {
      throw new SyntaxError(`cannot parse the parameter path "${text}" at character ${position + 1}`);
    }
    if (match[1] !== undefined) segments.push(match[1]);
    else if (match[2] !== undefined) segments.push(Number(match[2]));
    else segments.push(JSON.parse(`"${match[3] ?? ""}"`) as string);
    position = pattern.lastIndex;
  }
  if (segments.length === 0) throw new SyntaxError("an empty parameter path names nothing");
  return segments;
}

export type Lookup = { found: true; value: unknown } | { found: false; missingAt: string };

export function getAtPath(document: unknown, segments: readonly PathSegment[]): Lookup {
  let current = document;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (current === null || typeof current !== "object" || !(segment in current)) {
      return { found: false, missingAt: formatPath(segments.slice(0, i + 1)) };
    }
    current = (current as Record<string | number, unknown>)[segment];
  }
  return { found: true, value: current };
}

/** Returns a copy of `document` with `value` set at the path, creating objects on the way. */
export function setAtPath(document: unknown, segments: readonly PathSegment[], value: unknown): unknown {
  const [head, ...rest] = segments;
  if (head === undefined) return value;
  const container: Record<string | number, unknown> | unknown[] =
    Array.isArray(document) ? [...document] : document !== null && typeof document === "object" ? { ...document } : {};
  (container as Record<string | number, unknown>)[head] = setAtPath(
    (container as Record<string | number, unknown>)[head],
    rest,
    value,
  );
  return container;
}
