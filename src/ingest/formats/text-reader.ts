// The accounting every line-based format shares (log, ftrace, babeltrace, syslog, JSON Lines):
// bytes come from bytes.ts (file, .gz or stdin), are split into lines (lines.ts), and each line is
// exactly one of event, message, unparsed or blank. A format supplies only the per-line parse.
import { isAscii } from 'node:buffer';
import { openBytes } from '../bytes.js';
import { splitLines, type LineBatch, type LineBytes } from '../lines.js';
import type { ByteEvent, LineKind, ParseScratch } from '../log-format.js';
import { ByteNames, newByteEvent, newScratch } from '../log-format.js';
import { fileSize, InputError, type InputCounters, type InputReadOptions, type LineSink, type TraceFormat, type TraceRecord } from '../records.js';
import { bytesMatcherOf, type ArgsUse, type BytesMatcher } from '../../model/catalog.js';
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

/**
 * Records in a plain list: what this thread's replay consumes. With `bytesOnly` (the replay's own
 * reads of a log, InputReadOptions.textLater), lines of the common form are scanned as bytes, and a
 * plain file's are left in the file (TraceEvent.at, read back when reported) as a reader thread
 * leaves them.
 */
class RecordListSink implements LineSink<TraceRecord[]> {
  private out: TraceRecord[] = [];
  private rereadable = false;
  private readonly names = new ByteNames();
  // The previous event's name and what the replay does with its arguments: runs of one event are common.
  private lastName = '';
  private lastUse: 'fields' | BytesMatcher | undefined = 'fields';
  constructor(
    readonly bytesOnly: boolean,
    private readonly input: number,
    private readonly argsUse?: ArgsUse,
  ) {}
  begin(_lines: LineBatch, rereadable: boolean): void {
    this.out = [];
    this.rereadable = rereadable;
  }
  byteEvent(e: ByteEvent, b: Uint8Array, start: number, end: number, at: number, side: Side | null, line: number): void {
    const s = b as Buffer; // lines.ts keeps them in a Buffer; scanEventBytes passed only ASCII
    const later = this.rereadable;
    const name = this.names.nameOf(b, start, e);
    if (name !== this.lastName) {
      this.lastName = name;
      const use = this.argsUse ? this.argsUse.get(name) : 'fields';
      this.lastUse = use === undefined || use === 'fields' ? use : bytesMatcherOf(use);
    }
    // The arguments become a string only if the replay reads them (a line left in its file keeps them
    // there; a gzip line keeps them in its text), and which of an event's conditional rows apply is
    // matched here, on the bytes: as a reader thread's decoder does (record-codec.ts readsArgs).
    const use = this.lastUse;
    const args = use === 'fields' ? s.toString('latin1', start + e.argsAt, start + e.argsEnd) : '';
    const rowsMask = use === 'fields' || use === undefined ? -1 : use.mask(s, start + e.argsAt, start + e.argsEnd);
    this.out.push({ kind: 'event', name, side, args, tid: e.tid, ts: e.ts, input: this.input, line, raw: later ? '' : s.toString('latin1', start, end), argsAt: -1, at: later ? at : -1, rowsMask });
  }
  add(rec: TraceRecord): void {
    this.out.push(rec);
  }
  end(): TraceRecord[] {
    return this.out;
  }
}

/** A format's byte fast path (log-format.ts scanEventBytes). */
export type ByteScanner = (b: Uint8Array, start: number, end: number, out: ByteEvent, asciiNoEsc: boolean) => boolean;

/**
 * A line-based format's two reads (TraceFormat read and readEncoded) from its line parser.
 * `leaveInFile`: a plain file's scanned lines may stay in the file (the format's lineEvent reads
 * them back: log and ftrace); false keeps their text.
 */
export function textReads(parser: (counters: InputCounters) => LineParser, scanBytes?: ByteScanner, leaveInFile = true): Pick<TraceFormat, 'read' | 'readEncoded'> {
  return {
    read: (path, input, side, counters, opts) => readTextLines(path, input, side, counters, opts, parser(counters), new RecordListSink(opts.textLater === true && scanBytes !== undefined, input, opts.argsUse), scanBytes, leaveInFile),
    readEncoded: (path, input, side, counters, opts, enc) => readTextLines(path, input, side, counters, opts, parser(counters), enc, scanBytes, leaveInFile),
  };
}

export function readTextRecords(path: string, input: number, side: Side | null, counters: InputCounters, opts: InputReadOptions, parser: LineParser): AsyncGenerator<TraceRecord[]> {
  return readTextLines(path, input, side, counters, opts, parser, new RecordListSink(false, input));
}

/**
 * Reads a line-based input into `sink`, batch by batch. With a bytesOnly sink and `scanBytes`
 * (the log format), lines of the common event form are read from their bytes and never become
 * strings; every other line goes through `parser` as a string, as it would without them.
 */
export async function* readTextLines<B>(
  path: string,
  input: number,
  side: Side | null,
  counters: InputCounters,
  opts: InputReadOptions,
  parser: LineParser,
  sink: LineSink<B>,
  scanBytes?: ByteScanner,
  leaveInFile = true,
): AsyncGenerator<B> {
  counters.totalBytes = await fileSize(path);
  const src = openBytes(path, { headOnly: opts.headOnly === true, reuseChunks: true });
  const lines = new LineAccounting(path, input, side, counters, opts, parser, sink, sink.bytesOnly && sink.byteEvent ? scanBytes : undefined);
  try {
    for await (const batch of splitLines(src.chunks, { strings: !sink.bytesOnly })) {
      sink.begin(batch, leaveInFile && src.rereadable());
      lines.batch(batch);
      counters.bytes = src.rawBytes();
      yield sink.end();
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${path}:${counters.lines + 1}: read failed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  counters.notes.push(...src.warnings, ...(parser.notes?.() ?? []));
}

/**
 * Every line of a batch into exactly one of event, message, unparsed or blank, counted, and the
 * records into the sink. A class with a plain method rather than the generator's own loop: V8
 * keeps this loop's state in registers and number fields, where the generator's closure variables
 * boxed every timestamp stored (an allocation per event).
 */
class LineAccounting<B> {
  // Each thread's latest timestamp, in a typed array by the thread's slot: a Map's values boxed
  // every number stored (an allocation per change of thread, which on a busy destination is most events).
  private readonly slotOfTid = new Map<number, number>();
  private lastTsBySlot = new Float64Array(16);
  /** The thread of the latest timed event (NaN: none yet), whose ts is prevTs (not yet in the map). */
  private prevTid = NaN;
  private prevTs = 0;
  private samples = 0;
  private readonly p = newTextScratch();
  private readonly be = newByteEvent();
  private readonly stampTid: number | null;

  constructor(
    private readonly path: string,
    private readonly input: number,
    private readonly side: Side | null,
    private readonly counters: InputCounters,
    private readonly opts: InputReadOptions,
    private readonly parser: LineParser,
    private readonly sink: LineSink<B>,
    private readonly scan: ByteScanner | undefined,
  ) {
    this.stampTid = opts.tid ?? null;
  }

  batch(batch: LineBatch): void {
    const { counters, sink, scan, be, p } = this;
    // Without strings (bytesOnly sinks) every line is in the batch's bytes; with them, none need be.
    const lb = batch.bytes as LineBytes;
    const bytes = lb?.bytes;
    const text = (j: number) => batch.lines[j] ?? bytes.toString('utf8', lb.starts[j], lb.ends[j]);
    let lineNo = batch.firstLine;
    let overlongIdx = 0;
    // Two native passes over the batch spare the scanner a check of every argument byte.
    // (And no CR, which ftrace's regex stops at: a batch with one has each line checked.)
    const asciiNoEsc = scan !== undefined && lb !== undefined && isAscii(lb.bytes) && lb.bytes.indexOf(0x1b) < 0 && lb.bytes.indexOf(13) < 0;
    for (let j = 0; j < batch.count; j++, lineNo++) {
      counters.lines++;
      if (batch.overlong[overlongIdx] === lineNo) {
        overlongIdx++;
        counters.overlong++;
        this.unparsed(lineNo, text(j), 'line longer than 1 MiB (cut)');
        continue;
      }
      if (scan) {
        const start = lb.starts[j] as number;
        const end = lb.ends[j] as number;
        if (scan(lb.bytes, start, end, be, asciiNoEsc)) {
          counters.events++;
          // As for a parsed line below: an ISO line has no TID but may be stamped with the file's.
          const tid = be.tid ?? this.stampTid;
          if (tid === null) counters.eventsWithoutTid++;
          else this.timed(tid, be.ts);
          be.tid = tid;
          (sink.byteEvent as NonNullable<LineSink<B>['byteEvent']>)(be, lb.bytes, start, end, lb.offsets[j] as number, this.side, lineNo);
          continue;
        }
      }
      const raw = text(j);
      p.pid = undefined;
      p.side = undefined;
      p.embedded = false;
      p.dropped = 0;
      p.argsAt = -1;
      switch (this.parser.parse(raw, p)) {
        case 'blank':
          counters.blank++;
          break;
        case 'unparsed':
          this.unparsed(lineNo, raw, p.reason);
          break;
        case 'message': {
          counters.messages++;
          const rec: TraceRecord = { kind: 'message', text: p.text, program: p.program, ts: p.ts, input: this.input, line: lineNo };
          if (p.dropped > 0) {
            rec.dropped = p.dropped;
            counters.dropped += p.dropped;
          }
          sink.add(rec);
          break;
        }
        case 'event': {
          counters.events++;
          if (p.embedded) counters.embedded++;
          const tid = p.tid ?? this.stampTid;
          if (tid === null) counters.eventsWithoutTid++;
          if (p.ts === null) counters.eventsWithoutTs++;
          else if (tid !== null) this.timed(tid, p.ts);
          const rec: TraceRecord = { kind: 'event', name: p.name, side: this.side ?? p.side ?? null, args: p.args, tid, ts: p.ts, input: this.input, line: lineNo, raw, argsAt: p.argsAt };
          if (p.pid !== undefined) rec.pid = p.pid;
          if (p.threadName !== undefined) rec.thread = p.threadName;
          sink.add(rec);
          break;
        }
      }
    }
  }

  private unparsed(line: number, text: string, reason: string): void {
    this.counters.unparsed++;
    if (this.samples++ < this.opts.maxSamples) this.opts.onUnparsed?.({ file: this.path, line, text: text.slice(0, 200), reason });
  }

  private slotOf(tid: number): number {
    let slot = this.slotOfTid.get(tid);
    if (slot === undefined) {
      slot = this.slotOfTid.size;
      this.slotOfTid.set(tid, slot);
      if (slot >= this.lastTsBySlot.length) {
        const grown = new Float64Array(this.lastTsBySlot.length * 2);
        grown.set(this.lastTsBySlot);
        this.lastTsBySlot = grown;
      }
    }
    return slot;
  }

  /** Counts a timestamp that goes back within its thread. */
  private timed(tid: number, ts: number): void {
    // Consecutive events mostly come from one thread: skip the map for them.
    if (tid === this.prevTid) {
      if (ts < this.prevTs) this.counters.outOfOrder++;
    } else {
      if (this.prevTid === this.prevTid) this.lastTsBySlot[this.slotOf(this.prevTid)] = this.prevTs; // not NaN: there was one
      const slot = this.slotOfTid.get(tid);
      if (slot !== undefined && ts < (this.lastTsBySlot[slot] as number)) this.counters.outOfOrder++;
      this.prevTid = tid;
    }
    this.prevTs = ts;
  }
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
