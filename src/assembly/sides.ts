// Decides each input's side before the replay, from its first events (see model/side.ts).
import { newCounters, readTraceRecords, type TraceFormat } from '../ingest/trace-input.js';
import type { Catalog } from '../model/catalog.js';
import { decideSide, newSideScore, scoreEvent, type SideScore } from '../model/side.js';
import type { Side } from '../types.js';

const HEAD_EVENTS = 50_000;
/** Events whose time and name are kept to tell one input from another (the same process given twice). */
const SAMPLE = 16;
const SEEN = 5000;

export interface SideGuess {
  side: Side | null;
  why: string;
  tidSides?: Map<number, Side>;
  score: SideScore;
  /** Events and lines read (the head only, unless `complete`). */
  events: number;
  lines: number;
  /** Whether the whole input was read (a small file, or one with no side-specific event). */
  complete: boolean;
  /** Thread ids the events carry themselves (not stamped from a file name): at most a few. */
  ownTids: Set<number>;
  /** `time name` of the first SAMPLE timed events, and of the first SEEN: two inputs that share them are one process twice. */
  sample: string[];
  seen: Set<string>;
}

export async function inferSide(path: string, format: TraceFormat, catalog: Catalog): Promise<SideGuess> {
  const score = newSideScore();
  const counters = newCounters(path);
  const ownTids = new Set<number>();
  const sample: string[] = [];
  const seen = new Set<string>();
  let events = 0;
  let complete = true;
  // headOnly: standard input can be read once; its side is inferred from the kept head (bytes.ts).
  const it = readTraceRecords(path, 0, null, counters, { maxSamples: 0, headOnly: true }, format);
  try {
    outer: for await (const batch of it) {
      for (const rec of batch) {
        if (rec.kind !== 'event') continue;
        events++;
        if (rec.tid !== null && ownTids.size < 8) ownTids.add(rec.tid);
        if (rec.ts !== null && seen.size < SEEN) {
          const key = `${(rec.ts / 1e6).toFixed(6)} ${rec.name}`;
          if (sample.length < SAMPLE) sample.push(key);
          seen.add(key);
        }
        if (scoreEvent(score, catalog, rec.name, rec.args, `${path}:${rec.line}`, rec.tid) || events >= HEAD_EVENTS) {
          complete = false;
          break outer;
        }
      }
    }
  } finally {
    await it.return(undefined);
  }
  const head = { score, events, lines: counters.lines, complete, ownTids, sample, seen };
  const d = decideSide(score);
  return events === 0 ? { side: null, why: 'no trace events in it', ...head } : { ...d, ...head };
}
