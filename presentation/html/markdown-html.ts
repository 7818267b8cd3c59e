/**
 * report.md's text in report.html: the same markdown (report-document.ts renders it once from the
 * report's data), converted by marked and cut into one <section> per `##` heading, with each chart
 * picture (`![title](charts/<name>.svg)`) replaced by a slot the page renders the chart's spec
 * into. So the page says what the markdown says, number for number, whatever sections it has.
 */
import { Marked, type Tokens, type TokensList } from "marked";
import { PROVENANCE_BEGIN, PROVENANCE_END } from "../report/provenance.ts";
import { attributes, escapeHtml, slug } from "./html.ts";

export interface HtmlSection {
  id: string;
  /** The `##` heading's text (plain), or null for what comes before the first one. */
  heading: string | null;
  html: string;
}

export interface MarkdownPage {
  /** The `#` heading, plain text. */
  title: string;
  sections: HtmlSection[];
}

/**
 * A chart's slot: the page draws `data-chart`'s spec inside, and the chart's title is its text
 * alternative (the spec's description, which Vega puts on the drawing as its aria-label; before
 * that, the slot's text).
 */
export function chartSlot(name: string, title: string): string {
  return `<div${attributes({ class: "chart-slot", "data-chart": name })}><span class="chart-status">Chart: ${escapeHtml(title)}</span></div>`;
}

function plain(html: string): string {
  return html
    .replace(/<[^>]*>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&");
}

/**
 * Markdown → HTML with the page's conventions: headings get ids, tables scroll inside their own box
 * (a wide table never widens the page), chart pictures become chart slots, a chart and its caption
 * a <figure>.
 */
export function markdownRenderer(charts: ReadonlyMap<string, { name: string; title: string }>, usedIds = new Set<string>()): Marked {
  const uniqueId = (text: string): string => {
    const base = slug(text);
    let id = base;
    for (let count = 2; usedIds.has(id); count++) id = `${base}-${count}`;
    usedIds.add(id);
    return id;
  };
  return new Marked({
    gfm: true,
    renderer: {
      heading({ tokens, depth }: Tokens.Heading): string {
        const inner = this.parser.parseInline(tokens);
        return `<h${depth} id="${uniqueId(plain(inner))}">${inner}</h${depth}>\n`;
      },
      image({ href, text }: Tokens.Image): string {
        const chart = charts.get(href);
        return chart ? chartSlot(chart.name, chart.title) : `<img${attributes({ src: href, alt: text })}>`;
      },
    },
    hooks: {
      postprocess(html: string): string {
        return html
          .replace(/<table>/g, '<div class="table-wrap" tabindex="0"><table>')
          .replace(/<\/table>/g, "</table></div>")
          // A chart (a block) cannot stay inside the paragraph markdown puts a picture in.
          .replace(/<p>(<div class="chart-slot"[^>]*>.*?<\/div>)\s*(?:<sub>([\s\S]*?)<\/sub>)?<\/p>/g, (_, slot: string, caption?: string) =>
            `<figure class="chart">${slot}${caption === undefined ? "" : `<figcaption>${caption}</figcaption>`}</figure>`,
          );
      },
    },
  });
}

/** The markdown without its provenance placeholder (the page has its own, stamped by publish). */
function withoutProvenance(markdown: string): string {
  const begin = markdown.indexOf(PROVENANCE_BEGIN);
  const end = markdown.indexOf(PROVENANCE_END);
  return begin < 0 || end < begin ? markdown : markdown.slice(0, begin) + markdown.slice(end + PROVENANCE_END.length);
}

/** The report's markdown as a title and sections; `charts` maps a picture's path (`charts/<name>.svg`) to its chart. */
export function markdownPage(markdown: string, charts: ReadonlyMap<string, { name: string; title: string }>, usedIds = new Set<string>()): MarkdownPage {
  const marked = markdownRenderer(charts, usedIds);
  const tokens = marked.lexer(withoutProvenance(markdown));
  let title = "Report";
  const groups: Array<{ heading: Tokens.Heading | null; tokens: Tokens.Generic[] }> = [{ heading: null, tokens: [] }];
  for (const token of tokens) {
    if (token.type === "heading" && (token as Tokens.Heading).depth === 1 && title === "Report") {
      title = plain(marked.parseInline((token as Tokens.Heading).text) as string);
      continue;
    }
    if (token.type === "heading" && (token as Tokens.Heading).depth === 2) groups.push({ heading: token as Tokens.Heading, tokens: [] });
    groups.at(-1)!.tokens.push(token);
  }
  const sections = groups
    .filter((group) => group.tokens.length > 0)
    .map((group) => {
      const list = Object.assign(group.tokens, { links: tokens.links }) as TokensList;
      const html = marked.parser(list);
      const id = group.heading === null ? "introduction" : (/<h2 id="([^"]+)"/.exec(html)?.[1] ?? slug(group.heading.text));
      return { id, heading: group.heading === null ? null : plain(marked.parseInline(group.heading.text) as string), html };
    });
  return { title, sections };
}
