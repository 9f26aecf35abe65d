// The `log` trace backend as a format: lines parsed by log-format.ts. Per-thread files written
// with `-d tid -D name-%d` carry no TID in their lines on QEMU >= 10.1: the reader stamps the one
// given in InputReadOptions.tid (taken from the file name, see per-thread.ts).
import { newScratch, parseInto, scanEventBytes } from '../log-format.js';
import type { TraceFormat } from '../records.js';
import { textReads, type LineParser } from './text-reader.js';

/**
 * Records come in file order; timestamps that go backwards within one thread are counted
 * (cross-thread reordering by a few µs is normal: QEMU takes the time before it takes the log lock).
 */
const logParser: LineParser = { parse: parseInto };

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
  lineEvent(line) {
    const s = newScratch();
    return parseInto(line, s) === 'event' ? { name: s.name, tid: s.tid } : null;
  },
  // Its common line form is scanned as bytes on a reader thread (scanEventBytes).
  ...textReads(() => logParser, scanEventBytes),
};
