// The replay's read-back step: the lines reports name whose text a reader left in its file are
// read from their offsets, one open per input, each checked to be still the event it was.
import { readLinesAt } from '../ingest/read-back.js';
import type { TraceFormat } from '../ingest/records.js';
import { locationText, type LeftInFile } from './model.js';

/** `formatOf`: each input's format; only formats with `lineEvent` leave lines in their file. */
export async function readBackTexts(leftInFile: readonly LeftInFile[], fileOf: (input: number) => string, formatOf: (input: number) => Pick<TraceFormat, 'lineEvent'>): Promise<void> {
  const byInput = new Map<number, LeftInFile[]>();
  for (const p of leftInFile) {
    const list = byInput.get(p.input);
    if (list) list.push(p);
    else byInput.set(p.input, [p]);
  }
  for (const [input, items] of byInput) {
    const lineEvent = formatOf(input).lineEvent ?? (() => null);
    const lines = await readLinesAt(fileOf(input), items.map((p) => p.at));
    for (const { loc, at } of items) {
      const text = lines.get(at);
      if (text instanceof Error || text === undefined) loc.text = `(line not read back: ${text?.message ?? 'not read'})`;
      else if (!sameEvent(lineEvent(text), loc)) loc.text = '(line not read back: the file changed after it was analysed)';
      else loc.text = locationText(text);
    }
  }
}

// A per-thread file's line has no TID of its own (it is in the file name): only a TID the line carries must match.
function sameEvent(ev: { name: string; tid: number | null } | null, loc: { event: string; tid: number | null }): boolean {
  return ev !== null && ev.name === loc.event && (ev.tid === null || ev.tid === loc.tid);
}
