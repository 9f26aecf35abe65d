// Decides each input's side before the replay, from its first events (see model/side.ts).
import { newCounters, readTraceRecords, type TraceFormat } from '../ingest/trace-input.js';
import type { Catalog } from '../model/catalog.js';
import { decideSide, newSideScore, scoreEvent, type SideScore } from '../model/side.js';
import type { Side } from '../types.js';

const HEAD_EVENTS = 50_000;

export async function inferSide(path: string, format: TraceFormat, catalog: Catalog): Promise<{ side: Side | null; why: string; tidSides?: Map<number, Side>; score: SideScore; events: number }> {
  const score = newSideScore();
  let events = 0;
  // headOnly: standard input can be read once; its side is inferred from the kept head (bytes.ts).
  const it = readTraceRecords(path, 0, null, newCounters(path), { maxSamples: 0, headOnly: true }, format);
  try {
    outer: for await (const batch of it) {
      for (const rec of batch) {
        if (rec.kind !== 'event') continue;
        events++;
        if (scoreEvent(score, catalog, rec.name, rec.args, `${path}:${rec.line}`, rec.tid) || events >= HEAD_EVENTS) break outer;
      }
    }
  } finally {
    await it.return(undefined);
  }
  const d = decideSide(score);
  return events === 0 ? { side: null, why: 'no trace events in it', score, events } : { ...d, score, events };
}
