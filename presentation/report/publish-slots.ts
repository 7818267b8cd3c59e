/**
 * Parts of report.md only publishing can fill: the report stage cannot know which params file and
 * lock it ends up in, nor what the last committed report said (reading git or the lock would make
 * its cache key lie). It writes a slot — `<!--slot:NAME-->placeholder<!--/slot-->` — and
 * `fillSlots` replaces the placeholder when the report is published (publish.ts). The
 * markers are HTML comments, invisible on GitHub, in table cells too; an unpublished report shows
 * the placeholders.
 */

const OPEN = (name: string): string => `<!--slot:${name}-->`;
const CLOSE = "<!--/slot-->";
const SLOT = /<!--slot:([^>]+?)-->([\s\S]*?)<!--\/slot-->/g;

/** A slot with its placeholder (what the cached report shows). Names: letters, digits and `.:@+=_-`. */
export function slot(name: string, placeholder: string): string {
  if (!/^[\w.:@+=-]+$/.test(name)) throw new Error(`slot name "${name}" has characters a marker cannot hold`);
  if (placeholder.includes("<!--")) throw new Error(`slot ${name}: a placeholder cannot hold an HTML comment`);
  return `${OPEN(name)}${placeholder}${CLOSE}`;
}

/** The names of the slots in a report, in order. */
export function slotNames(markdown: string): string[] {
  return [...markdown.matchAll(SLOT)].map((match) => match[1]!);
}

/** Each slot named in `values` gets that text (markers kept, so publishing again refills them); others keep their placeholder. */
export function fillSlots(markdown: string, values: Readonly<Record<string, string>>): string {
  return markdown.replace(SLOT, (whole, name: string) => (name in values ? `${OPEN(name)}${values[name]}${CLOSE}` : whole));
}

/** The slot holding an experiment's change since the last committed report (summary table). */
export const deltaSlot = (id: string): string => `delta:${id}`;
export const PARAMS_FILE_SLOT = "params-file";
export const DRAFT_SLOT = "draft";
export const DELTA_BASE_SLOT = "delta-base";

/** The params file a lock file records: pipeline.lock.json ↔ params.json, params.X.lock.json ↔ params.X.json (engine/session.ts). */
export function paramsFileOfLock(lockName: string): string {
  return lockName === "pipeline.lock.json" ? "params.json" : lockName.replace(/\.lock\.json$/, ".json");
}
