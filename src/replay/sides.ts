// Decides each input's side before the replay, from the head of the file (see model/side.ts).
import { readLineBatches } from '../ingest/lines.js';
import { newScratch, parseInto } from '../ingest/log-format.js';
import type { Catalog } from '../model/catalog.js';
import { decideSide, newSideScore, scoreEvent } from '../model/side.js';
import type { Side } from '../types.js';

const HEAD_EVENTS = 50_000;

export async function inferSide(path: string, catalog: Catalog): Promise<{ side: Side | null; why: string }> {
  const score = newSideScore();
  let events = 0;
  const p = newScratch();
  outer: for await (const batch of readLineBatches(path, { highWaterMark: 1 << 16, batchLines: 1024 })) {
    let line = batch.firstLine;
    for (const text of batch.lines) {
      if (parseInto(text, p) === 'event') {
        events++;
        if (scoreEvent(score, catalog, p.name, p.args, `${path}:${line}`) || events >= HEAD_EVENTS) break outer;
      }
      line++;
    }
  }
  return decideSide(score);
}
