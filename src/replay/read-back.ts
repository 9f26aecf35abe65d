// The replay's read-back step: the lines reports name whose text a reader left in its file are
// read from their offsets, one open per input, each checked to be still the event it was.
import { readLinesAt } from '../ingest/read-back.js';
import { newScratch, parseInto } from '../ingest/log-format.js';
import { locationText, type LeftInFile } from './model.js';

export async function readBackTexts(leftInFile: readonly LeftInFile[], fileOf: (input: number) => string): Promise<void> {
  const byInput = new Map<number, LeftInFile[]>();
  for (const p of leftInFile) {
    const list = byInput.get(p.input);
    if (list) list.push(p);
    else byInput.set(p.input, [p]);
  }
  const s = newScratch();
  for (const [input, items] of byInput) {
    const lines = await readLinesAt(fileOf(input), items.map((p) => p.at));
    for (const { loc, at } of items) {
      const text = lines.get(at);
      if (text instanceof Error || text === undefined) loc.text = `(line not read back: ${text?.message ?? 'not read'})`;
      // A per-thread file's line has no TID of its own (it is in the file name): only a TID the line carries must match.
      else if (parseInto(text, s) !== 'event' || s.name !== loc.event || (s.tid !== null && s.tid !== loc.tid)) loc.text = '(line not read back: the file changed after it was analysed)';
      else loc.text = locationText(text);
    }
  }
}
