// The accounting every line-based format shares (log, ftrace, babeltrace, syslog, JSON Lines):
// bytes come from bytes.ts (file, .gz or stdin), are split into lines (lines.ts), and each line is
// exactly one of event, message, unparsed or blank. A format supplies only the per-line parse.
import { openBytes } from '../bytes.js';
import { splitLines } from '../lines.js';
import type { LineKind, ParseScratch } from '../log-format.js';
import { newScratch } from '../log-format.js';
import { fileSize, InputError, type InputCounters, type InputReadOptions, type RecordBatch, type TraceRecord } from '../records.js';
import type { Side } from '../../types.js';

/** ParseScratch plus what formats other than `log` know: the process id. */
export interface TextScratch extends ParseScratch {
  /** Process id (ftrace TGID, LTTng vpid, syslog [pid], CSV/JSONL pid), or undefined. */
  pid: number | undefined;
  /** Side named by the line itself (CSV/JSONL `side`), or undefined. */
  side: Side | undefined;
  /** For a message: events the backend says it lost here (ftrace LOST lines); 0 otherwise. */
  dropped: number;
}

export function newTextScratch(): TextScratch {
  return { ...newScratch(), pid: undefined, side: undefined, dropped: 0 };
}

/**
 * A format whose line wraps QEMU's own `name args` (ftrace marker writes, syslog messages): when
 * the wrapped text parsed (into `inner`) as a bare event, the line is that event, with the thread,
 * time and process the wrapper gives.
 */
export function wrappedEvent(s: TextScratch, inner: ParseScratch, tid: number | null, ts: number | null, threadName: string | undefined, pid: number | undefined): LineKind {
  s.kind = 'event';
  s.name = inner.name;
  s.args = inner.args;
  s.tid = tid;
  s.ts = ts;
  s.threadName = threadName;
  s.pid = pid;
  return 'event';
}

/** One read's line parser; it may keep state across lines (e.g. a clock that wraps at midnight). */
export interface LineParser {
  /** Fills `s` (name, args, tid, ts in µs, threadName, pid; or text/program; or reason). */
  parse(line: string, s: TextScratch): LineKind;
  /** Notes for the data-quality section, asked once at the end. */
  notes?(): string[];
}

export async function* readTextRecords(
  path: string,
  input: number,
  side: Side | null,
  counters: InputCounters,
  opts: InputReadOptions,
  parser: LineParser,
): AsyncGenerator<TraceRecord[]> {
  counters.totalBytes = await fileSize(path);
  const src = openBytes(path, { headOnly: opts.headOnly === true, reuseChunks: true });
  const lastTsByTid = new Map<number, number>();
  let prevTid: number | null = null; // the thread of the latest timed event, whose ts is prevTs (not yet in the map)
  let prevTs = 0;
  const p = newTextScratch();
  const stampTid = opts.tid ?? null;
  let samples = 0;
  const unparsed = (line: number, text: string, reason: string) => {
    counters.unparsed++;
    if (samples++ < opts.maxSamples) opts.onUnparsed?.({ file: path, line, text: text.slice(0, 200), reason });
  };
  try {
    for await (const batch of splitLines(src.chunks, { keepBytes: opts.keepLineBytes === true })) {
      const out: RecordBatch = [];
      if (batch.bytes) out.lineBytes = { ...batch.bytes, firstLine: batch.firstLine };
      let lineNo = batch.firstLine;
      let overlongIdx = 0;
      for (const raw of batch.lines) {
        counters.lines++;
        if (batch.overlong[overlongIdx] === lineNo) {
          overlongIdx++;
          counters.overlong++;
          unparsed(lineNo, raw, 'line longer than 1 MiB (cut)');
          lineNo++;
          continue;
        }
        p.pid = undefined;
        p.side = undefined;
        p.embedded = false;
        p.dropped = 0;
        p.argsAt = -1;
        switch (parser.parse(raw, p)) {
          case 'blank':
            counters.blank++;
            break;
          case 'unparsed':
            unparsed(lineNo, raw, p.reason);
            break;
          case 'message': {
            counters.messages++;
            const rec: TraceRecord = { kind: 'message', text: p.text, program: p.program, ts: p.ts, input, line: lineNo };
            if (p.dropped > 0) {
              rec.dropped = p.dropped;
              counters.dropped += p.dropped;
            }
            out.push(rec);
            break;
          }
          case 'event': {
            counters.events++;
            if (p.embedded) counters.embedded++;
            const tid = p.tid ?? stampTid;
            if (tid === null) counters.eventsWithoutTid++;
            if (p.ts === null) counters.eventsWithoutTs++;
            else if (tid !== null) {
              // Consecutive events mostly come from one thread: skip the map for them.
              if (tid === prevTid) {
                if (p.ts < prevTs) counters.outOfOrder++;
              } else {
                if (prevTid !== null) lastTsByTid.set(prevTid, prevTs);
                const last = lastTsByTid.get(tid);
                if (last !== undefined && p.ts < last) counters.outOfOrder++;
                prevTid = tid;
              }
              prevTs = p.ts;
            }
            const rec: TraceRecord = { kind: 'event', name: p.name, side: side ?? p.side ?? null, args: p.args, tid, ts: p.ts, input, line: lineNo, raw, argsAt: p.argsAt };
            if (p.pid !== undefined) rec.pid = p.pid;
            if (p.threadName !== undefined) rec.thread = p.threadName;
            out.push(rec);
            break;
          }
        }
        lineNo++;
      }
      counters.bytes = src.rawBytes();
      yield out;
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${path}:${counters.lines + 1}: read failed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  counters.notes.push(...src.warnings, ...(parser.notes?.() ?? []));
}

/** Seconds as decimal text ("8123.456789", "1795636379.825007") → µs, without float drift. */
export function secondsTextToMicros(text: string): number | null {
  // Scanned by hand: this runs once per event of the text formats (a regex pair cost ~150 ns here).
  const n = text.length;
  const neg = n > 0 && text.charCodeAt(0) === 45;
  let i = neg ? 1 : 0;
  const intStart = i;
  let whole = 0;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    whole = whole * 10 + (c - 48);
  }
  if (i === intStart) return null;
  if (i - intStart > 15) whole = Math.abs(Number(text.slice(0, i))); // beyond exact integers: as Number() rounds
  // Up to 9 fractional digits: µs plus a fraction (ns clocks keep their order within a µs).
  let f = 0;
  if (i < n) {
    if (text.charCodeAt(i) !== 46) return null;
    let digits = 0;
    for (i++; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) return null;
      if (digits < 9) {
        f = f * 10 + (c - 48);
        digits++;
      }
    }
    for (; digits < 9; digits++) f *= 10;
  }
  const us = whole * 1e6 + f / 1000;
  return neg ? -us : us;
}
