// The model reference, docs/model.md: what every `§` citation in findings, `explain`, the catalog's
// ref column, the rules' refs and code comments points to. A citation is a section (`C.3`, a
// heading) with optional items (`S4`, `#12`, `item 3`, bold labels inside that section); ranges
// (`S5-S6`, `#8-10`) and alternatives (`S9/D8`) cite each item they span. Pure, except for where
// the file is.
import { fileURLToPath } from 'node:url';

/** The document, as the repository (and the npm package) names it. */
export const MODEL_DOC = 'docs/model.md';
/** Where it is next to this build (dist/src/model → the package root). */
export const MODEL_DOC_PATH = fileURLToPath(new URL('../../../docs/model.md', import.meta.url));

const SECTION = String.raw`(?:0|[A-H])(?:\.\d+)*`;
const ITEM = String.raw`(?:item\s+\d+|#\d+|[SDI]\d+)`;
const ITEM_TAIL = String.raw`(?:item\s+\d+|#?\d+|[SDI]\d+)`;
/** A citation at the start of a string: section, then items joined by `-` (range) or `/`. */
const CITATION = new RegExp(String.raw`^§?(${SECTION})(?:\s+(${ITEM}(?:\s*[-/]\s*${ITEM_TAIL})*))?`);
const HEADING = new RegExp(String.raw`^#{2,4}\s+(${SECTION})\.?\s+(.*)$`);
const LABEL = /\*\*(item \d+|#\d+|[SDI]\d+)\*\*/;

/** The headings and labelled items of the model document: id (`C.3`, `C.3 S4`, `E #12`) → title. */
export function modelAnchors(markdown: string): Map<string, string> {
  const anchors = new Map<string, string>();
  let section: string | null = null;
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    if (fenced) continue;
    const h = HEADING.exec(line);
    if (h) {
      section = h[1]!;
      anchors.set(section, plain(h[2]!));
      continue;
    }
    const l = LABEL.exec(line);
    if (l && section !== null) anchors.set(`${section} ${l[1]}`, labelTitle(line, l.index + l[0].length));
  }
  return anchors;
}

/** An item's title: the bold phrase after `**S4** —`, or the subject cell of a table row. */
function labelTitle(line: string, after: number): string {
  if (line.trimStart().startsWith('|')) {
    const cells = line.split('|').map((c) => c.trim());
    const at = cells.findIndex((c) => LABEL.test(c));
    return plain(cells[at + 2] ?? cells[at + 1] ?? '');
  }
  const rest = line.slice(after).replace(/^\s*—\s*/, '');
  const bold = /^\*\*(.+?)\*\*/.exec(rest);
  return plain(bold ? bold[1]! : rest.split(/(?<=\.)\s/)[0]!);
}

function plain(s: string): string {
  return s.replace(/\*\*|`/g, '').replace(/[.:]$/, '').trim();
}

/** The ids one citation names: `C.3 S5-S6` → C.3 S5, C.3 S6; `E #8-10` → E #8, E #9, E #10. */
export function citationIds(citation: string): string[] {
  const m = CITATION.exec(citation.trim());
  if (!m) return [];
  const section = m[1]!;
  if (!m[2]) return [section];
  const ids: string[] = [];
  for (const part of m[2].split(/\s*\/\s*/)) {
    const [from, to] = part.split(/\s*-\s*/) as [string, string | undefined];
    const a = /^(item\s+|#|[SDI])(\d+)$/.exec(from)!;
    const b = to === undefined ? null : /^(item\s+|#|[SDI])?(\d+)$/.exec(to);
    const prefix = a[1]!.replace(/\s+/, ' ');
    const last = b && (b[1] === undefined || b[1].replace(/\s+/, ' ') === prefix) ? Number(b[2]) : Number(a[2]);
    for (let n = Number(a[2]); n <= Math.min(last, Number(a[2]) + 50); n++) ids.push(`${section} ${prefix}${n}`);
  }
  return ids;
}

/** The title of a cited id, or null when the document has no such heading or label. `A.2.4` is
 * accepted as item 4 of §A.2 when §A.2.4 is no heading (both spellings are in use). */
export function resolveId(id: string, anchors: ReadonlyMap<string, string>): string | null {
  const direct = anchors.get(id);
  if (direct !== undefined) return direct;
  const nested = /^((?:0|[A-H])\.\d+)\.(\d+)$/.exec(id);
  return nested ? (anchors.get(`${nested[1]} item ${nested[2]}`) ?? null) : null;
}
