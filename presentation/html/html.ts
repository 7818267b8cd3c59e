/**
 * Writing HTML by hand, safely: text and attribute escaping, and JSON or JavaScript inlined in a
 * <script> element, which the HTML parser ends at the first `</script` whatever the JavaScript
 * around it means.
 */

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text or an attribute value (always quoted by the caller) with markup characters escaped. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ENTITIES[char]!);
}

/** `name="value"` pairs; null and false leave the attribute out, true writes it bare. */
export function attributes(values: Record<string, string | number | boolean | null | undefined>): string {
  return Object.entries(values)
    .filter(([, value]) => value !== null && value !== undefined && value !== false)
    .map(([name, value]) => (value === true ? ` ${name}` : ` ${name}="${escapeHtml(String(value))}"`))
    .join("");
}

/**
 * JSON for `<script type="application/json">`: `<` written as \u003c (so neither `</script` nor
 * `<!--` can appear) and the two line terminators JSON allows but older JavaScript parsers did not.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

/**
 * A classic script's source inlined in the page. `</script` would end the element early: it is
 * written `<\/script` (the same string inside a JavaScript string or regular expression literal,
 * where it can only occur). `<!--` would switch the HTML parser into a state where a later
 * `<script` changes where the element ends; no minified library here contains it, so it is refused
 * rather than rewritten into something that might mean another thing.
 */
export function inlineScript(source: string, name: string): string {
  if (source.includes("<!--")) throw new Error(`${name} contains "<!--", which cannot be inlined in a <script> element safely`);
  return `<script>${source.replace(/<\/(script)/gi, "<\\/$1")}</script>`;
}

/** An id-safe slug of a heading: "Study 003: LeNet" → "study-003-lenet". */
export function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .normalize("NFKD")
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "") || "section"
  );
}
