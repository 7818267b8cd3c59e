/**
 * The provenance block of report.html, between the same markers as report.md's. The report stage
 * writes the placeholder (it cannot know the commit or the lock it ends up in); `publishReport`
 * (presentation/report/publish.ts) stamps the published copy with the very markdown block it stamps into
 * report.md, converted here, so both say the same.
 */
import { Marked } from "marked";
import { fillSlots } from "../report/publish-slots.ts";
import { PROVENANCE_BEGIN, PROVENANCE_END, PROVENANCE_PLACEHOLDER } from "../report/provenance.ts";

const marked = new Marked({ gfm: true });

/** A provenance block in markdown (with or without its markers) as the HTML between the markers. */
function blockHtml(markdown: string): string {
  const inner = markdown.replace(PROVENANCE_BEGIN, "").replace(PROVENANCE_END, "").trim();
  const html = (marked.parse(inner) as string).replace(/<table>/g, '<div class="table-wrap" tabindex="0"><table>').replace(/<\/table>/g, "</table></div>");
  return `${PROVENANCE_BEGIN}\n${html}${PROVENANCE_END}`;
}

/** What the report stage writes: the markdown's "not stamped" note, as HTML. */
export function provenancePlaceholderHtml(): string {
  return blockHtml(PROVENANCE_PLACEHOLDER);
}

/** report.html with its provenance filled in from `provenanceMarkdown` (publish.ts's provenanceBlock). */
export function stampHtmlReport(html: string, provenanceMarkdown: string): string {
  const begin = html.indexOf(PROVENANCE_BEGIN);
  const end = html.indexOf(PROVENANCE_END);
  if (begin < 0 || end < begin) throw new Error("report.html has no provenance placeholder to fill");
  return html.slice(0, begin) + blockHtml(provenanceMarkdown) + html.slice(end + PROVENANCE_END.length);
}

/**
 * report.html with the slots publishing fills in report.md (publish-slots.ts), each value converted
 * from markdown: a block (the draft banner, a blockquote) as blocks, the rest inline (a table cell).
 */
export function fillHtmlSlots(html: string, markdownValues: Readonly<Record<string, string>>): string {
  const htmlValues = Object.fromEntries(
    Object.entries(markdownValues).map(([name, value]) => [name, /^\s*>/.test(value) || value.includes("\n\n") ? (marked.parse(value) as string) : (marked.parseInline(value) as string)]),
  );
  return fillSlots(html, htmlValues);
}
