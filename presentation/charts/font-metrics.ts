/**
 * Advance widths straight from a TrueType file (tables head, hhea, hmtx, cmap format 4/12), so text
 * can be measured in the font the PNGs are drawn with. Why: without a canvas, Vega guesses every
 * character as 0.8 em wide, which leaves charts with wide empty margins and shifts labels; with
 * real widths the SVG layout matches the rendered text. Kerning is ignored (a pixel or two).
 */
import { readFileSync } from "node:fs";

export interface FontMetrics {
  unitsPerEm: number;
  /** Width of `text` in pixels at `fontSize`. */
  width(text: string, fontSize: number): number;
}

export function loadFontMetrics(path: string): FontMetrics {
  const data = readFileSync(path);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const tables = new Map<string, number>();
  const tableCount = view.getUint16(4);
  for (let index = 0; index < tableCount; index++) {
    const record = 12 + index * 16;
    tables.set(data.toString("latin1", record, record + 4), view.getUint32(record + 8));
  }
  const table = (tag: string): number => {
    const offset = tables.get(tag);
    if (offset === undefined) throw new Error(`${path}: no "${tag}" table`);
    return offset;
  };
  const unitsPerEm = view.getUint16(table("head") + 18);
  const metricCount = view.getUint16(table("hhea") + 34);
  const hmtx = table("hmtx");
  const advanceOf = (glyph: number): number => view.getUint16(hmtx + 4 * Math.min(glyph, metricCount - 1));
  const glyphOf = cmapLookup(view, table("cmap"));
  const cache = new Map<number, number>();
  const advance = (codePoint: number): number => {
    let width = cache.get(codePoint);
    if (width === undefined) {
      width = advanceOf(glyphOf(codePoint));
      cache.set(codePoint, width);
    }
    return width;
  };
  return {
    unitsPerEm,
    width(text, fontSize) {
      let units = 0;
      for (const character of text) units += advance(character.codePointAt(0)!);
      return (units / unitsPerEm) * fontSize;
    },
  };
}

/** Code point → glyph id through the best Unicode subtable (format 12 if present, else 4); 0 = missing glyph. */
function cmapLookup(view: DataView, cmap: number): (codePoint: number) => number {
  const count = view.getUint16(cmap + 2);
  let format4 = -1;
  let format12 = -1;
  for (let index = 0; index < count; index++) {
    const record = cmap + 4 + index * 8;
    const platform = view.getUint16(record);
    const encoding = view.getUint16(record + 2);
    const offset = cmap + view.getUint32(record + 4);
    const unicode = platform === 0 || (platform === 3 && (encoding === 1 || encoding === 10));
    if (!unicode) continue;
    const format = view.getUint16(offset);
    if (format === 12 && format12 < 0) format12 = offset;
    if (format === 4 && format4 < 0) format4 = offset;
  }
  if (format12 >= 0) {
    const groups = view.getUint32(format12 + 12);
    return (codePoint) => {
      for (let group = 0; group < groups; group++) {
        const at = format12 + 16 + group * 12;
        const start = view.getUint32(at);
        if (codePoint >= start && codePoint <= view.getUint32(at + 4)) return view.getUint32(at + 8) + (codePoint - start);
      }
      return 0;
    };
  }
  if (format4 < 0) return () => 0;
  const segments = view.getUint16(format4 + 6) / 2;
  const ends = format4 + 14;
  const starts = ends + segments * 2 + 2;
  const deltas = starts + segments * 2;
  const rangeOffsets = deltas + segments * 2;
  return (codePoint) => {
    if (codePoint > 0xffff) return 0;
    for (let segment = 0; segment < segments; segment++) {
      if (codePoint > view.getUint16(ends + segment * 2)) continue;
      const start = view.getUint16(starts + segment * 2);
      if (codePoint < start) return 0;
      const delta = view.getInt16(deltas + segment * 2);
      const rangeOffsetAt = rangeOffsets + segment * 2;
      const rangeOffset = view.getUint16(rangeOffsetAt);
      if (rangeOffset === 0) return (codePoint + delta) & 0xffff;
      const glyph = view.getUint16(rangeOffsetAt + rangeOffset + (codePoint - start) * 2);
      return glyph === 0 ? 0 : (glyph + delta) & 0xffff;
    }
    return 0;
  };
}
