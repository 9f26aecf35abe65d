// The `log` trace backend as a format: lines parsed by log-format.ts.
import { readLineBatches } from '../lines.js';
import { newScratch, parseInto } from '../log-format.js';
import { fileSize, InputError, type InputCounters, type InputReadOptions, type TraceFormat, type TraceRecord } from '../records.js';
import type { Side } from '../../types.js';

/**
 * Reads one log-backend trace file. Records come in file order; timestamps that go backwards
 * within one thread are counted (cross-thread reordering by a few µs is normal: QEMU takes the
 * time before it takes the log lock).
 */
async function* readLogRecords(
  path: string,
  input: number,
  side: Side | null,
  counters: InputCounters,
  opts: InputReadOptions,
): AsyncGenerator<TraceRecord[]> {
  counters.totalBytes = await fileSize(path);
  const lastTsByTid = new Map<number, number>();
  const p = newScratch();
  let samples = 0;
  try {
    for await (const batch of readLineBatches(path)) {
      const out: TraceRecord[] = [];
      let lineNo = batch.firstLine;
      let overlongIdx = 0;
      for (const raw of batch.lines) {
        counters.lines++;
        const isOverlong = batch.overlong[overlongIdx] === lineNo;
        if (isOverlong) {
          overlongIdx++;
          counters.overlong++;
          counters.unparsed++;
          if (samples++ < opts.maxSamples) opts.onUnparsed?.({ file: path, line: lineNo, text: raw.slice(0, 200), reason: 'line longer than 1 MiB (cut)' });
          lineNo++;
          continue;
        }
        switch (parseInto(raw, p)) {
          case 'blank':
            counters.blank++;
            break;
          case 'unparsed':
            counters.unparsed++;
            if (samples++ < opts.maxSamples) opts.onUnparsed?.({ file: path, line: lineNo, text: raw.slice(0, 200), reason: p.reason });
            break;
          case 'message':
            counters.messages++;
            out.push({ kind: 'message', text: p.text, program: p.program, ts: p.ts, input, line: lineNo });
            break;
          case 'event': {
            counters.events++;
            if (p.embedded) counters.embedded++;
            if (p.tid === null) counters.eventsWithoutTid++;
            if (p.ts === null) counters.eventsWithoutTs++;
            else if (p.tid !== null) {
              const last = lastTsByTid.get(p.tid);
              if (last !== undefined && p.ts < last) counters.outOfOrder++;
              lastTsByTid.set(p.tid, p.ts);
            }
            out.push({ kind: 'event', name: p.name, side, args: p.args, tid: p.tid, ts: p.ts, input, line: lineNo, raw });
            break;
          }
        }
        lineNo++;
      }
      counters.bytes = batch.bytesRead;
      yield out;
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${path}:${counters.lines + 1}: read failed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

export const LOG_FORMAT: TraceFormat = {
  name: 'log',
  describe: "QEMU 'log' trace backend: TID@sec.usec:event args (-msg timestamp=on, QEMU <= 10.0), bare 'event args', or ISO-timestamped (QEMU >= 10.1)",
  threadIds: true,
  detect(head) {
    // Any line that parses as an event: the log format is the fallback for text.
    const text = head.toString('utf8', 0, Math.min(head.length, 65536));
    const s = newScratch();
    let events = 0;
    let lines = 0;
    for (const line of text.split('\n').slice(0, 200)) {
      if (!line.trim()) continue;
      lines++;
      if (parseInto(line, s) === 'event' || s.kind === 'message') events++;
    }
    return lines === 0 ? 0.1 : events / lines;
  },
  read: readLogRecords,
};
