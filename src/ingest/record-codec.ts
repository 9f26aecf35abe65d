// Trace records in a form that crosses a worker-thread boundary cheaply (read-worker.ts): one
// Float64Array of numbers per batch and, for line-based input, the lines' own bytes (both
// transferred, not copied), instead of thousands of small objects for structured clone to walk.
// Event arguments are sent as offsets into the line when they are a piece of it (the log format:
// always). Lines go as bytes, not strings: strings that cross a thread boundary are allocated in
// the receiver's old generation (measured in a micro test: +20 MB per 500 batches of 4096), where
// a gigabyte of lines is garbage collected late; strings decoded from bytes are young and die
// young. (The larger share of the peak-RSS fix was the heap growth cap, src/cli/heap.ts.) Other
// strings (messages, thread names, rebuilt arguments) are rare and go as strings. Events the
// reader scanned as bytes (BYTES) are written here without a record object, with the catalog
// rows' mask; for a plain file the receiver keeps the line's offset (read-back.ts) and makes a
// string of its arguments only if the replay reads them (catalog.ts argsUse). Pure: no I/O.
import type { Side } from '../types.js';
import type { LineBatch, LineBytes } from './lines.js';
import { BYTE_NAME_SLOTS, ByteNames, sameBytes, type ByteEvent } from './log-format.js';
import type { EncodedBatch, LineSink, TraceRecord } from './records.js';
import { bytesMatcherOf, matchMask, type ArgsUse, type BytesMatcher, type RowMatcher } from '../model/catalog.js';
import type { RenderedSink, RenderedText, SinkName } from './records.js';

/** Numbers per record: flags, name id, tid, ts, line, a, b, pid, catalog rows mask. */
const STRIDE = 9;

const MESSAGE = 1;
const SIDE_SRC = 2;
const SIDE_DST = 4;
const ARGS_STRING = 8; // args sent as their own string (not a piece of raw)
const THREAD = 16;
const PROGRAM = 32;
const DROPPED = 64;
const PID = 128;
const RAW_LINE = 256; // raw is line (line - firstLine) of the batch's bytes
const ROWS_MASK = 512; // the event's catalog rows were matched here (catalog.ts matchMask)
const BYTES = 1024; // scanned as bytes: the line is ASCII, a and b are byte offsets

/**
 * Per input: names get small ids once, so a name crosses the boundary once. Also the sink a text
 * reader fills on a reader thread (text-reader.ts readTextLines): records one by one, or events
 * scanned from the line's bytes, which never become strings or objects here.
 */
export class RecordEncoder implements LineSink<EncodedBatch>, RenderedSink<EncodedBatch> {
  readonly bytesOnly = true;
  private readonly ids = new Map<string, number>();
  private readonly byteNames = new ByteNames();
  // Per name met as bytes, in ByteNames' slot: its bytes (checked against each line's), id and catalog rows.
  private readonly bySlot = new Array<{ name: string; bytes: Uint8Array; id: number; rows: BytesMatcher | undefined } | undefined>(BYTE_NAME_SLOTS);
  private meta = new Float64Array(0);
  private strs: string[] = [];
  private names: string[] = [];
  private o = 0;
  private count = 0;
  private lines: (LineBytes & { firstLine: number }) | undefined;
  private rereadable = false;

  /**
   * `matchers`: the catalog's conditional events (catalog.ts patternsOf/matchersOf): their rows
   * are matched against the arguments here, and the mask sent, so the replay thread runs no regex.
   */
  constructor(private readonly matchers: ReadonlyMap<string, RowMatcher[]> = new Map()) {}

  /** A whole list of records (formats read without a LineSink: binary, CSV). */
  encode(records: readonly TraceRecord[]): EncodedBatch {
    this.start(records.length, undefined);
    for (const r of records) this.add(r);
    return this.end();
  }

  begin(lines: LineBatch, rereadable: boolean): void {
    this.start(lines.count, lines.bytes ? { ...lines.bytes, firstLine: lines.firstLine } : undefined);
    this.rereadable = rereadable;
  }

  private start(capacity: number, lines: (LineBytes & { firstLine: number }) | undefined): void {
    this.meta = new Float64Array(capacity * STRIDE);
    this.strs = [];
    // names: kept until a batch carries them (end()), so a batch with none to send loses none.
    this.o = 0;
    this.count = 0;
    this.lines = lines;
    this.rereadable = false;
  }

  private matcherOf(name: string): BytesMatcher | undefined {
    const rows = this.matchers.get(name);
    return rows && bytesMatcherOf(rows);
  }

  private idOf(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(name, id);
      this.names.push(name);
    }
    return id;
  }

  add(r: TraceRecord): void {
    if (this.o + STRIDE > this.meta.length) this.grow();
    const { meta, strs, o } = this;
    let flags = 0;
    if (r.kind === 'message') {
      flags |= MESSAGE;
      strs.push(r.text);
      if (r.program !== null) {
        flags |= PROGRAM;
        strs.push(r.program);
      }
      if (r.dropped !== undefined) {
        flags |= DROPPED;
        meta[o + 5] = r.dropped;
      }
    } else {
      if (r.side === 'src') flags |= SIDE_SRC;
      else if (r.side === 'dst') flags |= SIDE_DST;
      meta[o + 1] = this.idOf(r.name);
      if (this.lines) flags |= RAW_LINE;
      else strs.push(r.raw);
      // Arguments the reader found inside the line go as offsets; others (a cleaned line, a
      // binary or CSV record) as a string of their own.
      const at = r.argsAt;
      if (at !== undefined && at >= 0) {
        meta[o + 5] = at;
        meta[o + 6] = at + r.args.length;
      } else {
        flags |= ARGS_STRING;
        strs.push(r.args);
      }
      if (r.thread !== undefined) {
        flags |= THREAD;
        strs.push(r.thread);
      }
      if (r.pid !== undefined) {
        flags |= PID;
        meta[o + 7] = r.pid;
      }
      meta[o + 2] = r.tid === null ? NaN : r.tid;
      const rows = this.matchers.get(r.name);
      if (rows) {
        flags |= ROWS_MASK;
        meta[o + 8] = matchMask(rows, r.args);
      }
    }
    meta[o] = flags;
    meta[o + 3] = r.ts === null ? NaN : r.ts;
    meta[o + 4] = r.line;
    this.o += STRIDE;
    this.count++;
  }

  byteEvent(e: ByteEvent, b: Uint8Array, lineStart: number, _end: number, _at: number, side: Side | null, line: number): void {
    const { meta, o } = this;
    const slot = e.nameHash & (BYTE_NAME_SLOTS - 1);
    let hit = this.bySlot[slot];
    // The slot's entry, checked byte for byte (one compare a line): a collision costs a new entry, never a wrong name.
    if (hit === undefined || !sameBytes(hit.bytes, b, lineStart + e.nameStart, lineStart + e.nameEnd)) {
      const name = this.byteNames.nameOf(b, lineStart, e);
      this.bySlot[slot] = hit = { name, bytes: Buffer.from(name, 'latin1'), id: this.idOf(name), rows: this.matcherOf(name) };
    }
    let flags = RAW_LINE | BYTES | (side === 'src' ? SIDE_SRC : side === 'dst' ? SIDE_DST : 0);
    if (hit.rows) {
      // scanEventBytes passed only ASCII: latin1 is the string parseInto would have made.
      flags |= ROWS_MASK;
      meta[o + 8] = hit.rows.mask(b as Buffer, lineStart + e.argsAt, lineStart + e.argsEnd);
    }
    meta[o] = flags;
    meta[o + 1] = hit.id;
    meta[o + 2] = e.tid === null ? NaN : e.tid;
    meta[o + 3] = e.ts;
    meta[o + 4] = line;
    meta[o + 5] = e.argsAt;
    meta[o + 6] = e.argsEnd;
    this.o += STRIDE;
    this.count++;
  }

  private grow(): void {
    const m = new Float64Array(Math.max(this.meta.length * 2, 64 * STRIDE));
    m.set(this.meta);
    this.meta = m;
  }

  // ---- the simple reader's sink (formats/simple-decode.ts): events it rendered as ASCII text ----

  /** Once per mapping record: the name's id (sent with the next batch) and its catalog rows. */
  nameRef(name: string): SinkName {
    return { name, id: this.idOf(name), rows: this.matcherOf(name) };
  }

  beginRendered(maxRecords: number): void {
    this.start(maxRecords, undefined);
  }

  renderedEvent(n: SinkName, text: Buffer, start: number, argsAt: number, end: number, ts: number, pid: number, side: Side | null, line: number): void {
    if (this.o + STRIDE > this.meta.length) this.grow();
    const { meta, o } = this;
    // BYTES: the rendered text is ASCII (latin1 decodes it as utf8 would, faster).
    let flags = RAW_LINE | PID | BYTES | (side === 'src' ? SIDE_SRC : side === 'dst' ? SIDE_DST : 0);
    if (n.rows) {
      flags |= ROWS_MASK;
      meta[o + 8] = n.rows.mask(text, argsAt, argsAt < end ? end : argsAt);
    }
    meta[o] = flags;
    meta[o + 1] = n.id;
    meta[o + 2] = NaN;
    meta[o + 3] = ts;
    meta[o + 4] = line;
    meta[o + 5] = argsAt - start;
    meta[o + 6] = end - start;
    meta[o + 7] = pid;
    this.o += STRIDE;
    this.count++;
  }

  /** The batch, with the text as its line bytes; null when it has neither records nor new names. */
  endRendered(text: RenderedText): EncodedBatch | null {
    if (this.count === 0 && this.names.length === 0) return null;
    const out = this.end();
    out.lineBytes = { bytes: text.bytes, starts: text.starts, ends: text.ends, firstLine: text.firstLine };
    return out;
  }

  end(): EncodedBatch {
    const out: EncodedBatch = { meta: this.meta, strs: this.strs, names: this.names, count: this.count };
    this.names = [];
    const lines = this.lines;
    if (lines) {
      out.lineBytes = { bytes: lines.bytes, starts: lines.starts, ends: lines.ends, firstLine: lines.firstLine };
      // A plain file's scanned lines stay in the file: the replay reads back only those it reports.
      if (this.rereadable) out.lineBytes.offsets = lines.offsets;
    }
    return out;
  }
}

/**
 * The other end: rebuilds the records (same fields, same key order), plus what the reader found
 * for the replay: `rowsMask` (-1: not matched there) and, for a plain file's scanned lines, `at`
 * with raw '' (the line left in the file; -1 otherwise).
 */
export class RecordDecoder {
  private readonly names: string[] = [];
  /** Per name id: its arguments become a string always (2), only without a rows mask (1), never (0) (a line kept whole has them inside raw). */
  private readonly argsKind: number[] = [];

  /**
   * `argsUse`: which events' arguments the replay reads (catalog.ts argsUse); the others' lines
   * left in their file come with args '' (the line is read back if a report names it). Without it
   * every event has its arguments.
   */
  constructor(
    private readonly input: number,
    private readonly argsUse?: ArgsUse,
  ) {}

  decode(b: EncodedBatch): TraceRecord[] {
    for (const n of b.names) {
      this.names.push(n);
      const use = this.argsUse ? this.argsUse.get(n) : 'fields';
      this.argsKind.push(use === 'fields' ? 2 : use ? 1 : 0);
    }
    const out = new Array<TraceRecord>(b.count);
    const { meta, strs } = b;
    let k = 0;
    const lb = b.lineBytes;
    const bytes = lb ? Buffer.from(lb.bytes.buffer, lb.bytes.byteOffset, lb.bytes.byteLength) : null;
    const offsets = lb?.offsets;
    const first = lb ? lb.firstLine : 0;
    const input = this.input;
    for (let i = 0, o = 0; i < b.count; i++, o += STRIDE) {
      const flags = meta[o] as number;
      const tsv = meta[o + 3] as number;
      const ts = tsv === tsv ? tsv : null; // NaN stands for null
      const line = smallInt(meta[o + 4] as number);
      if (flags & MESSAGE) {
        const text = strs[k++] as string;
        const program = flags & PROGRAM ? (strs[k++] as string) : null;
        const rec: TraceRecord = { kind: 'message', text, program, ts, input, line };
        if (flags & DROPPED) rec.dropped = meta[o + 5] as number;
        out[i] = rec;
        continue;
      }
      let raw: string;
      let args: string;
      let at = -1;
      if (flags & RAW_LINE) {
        const j = line - first;
        const start = (lb as NonNullable<typeof lb>).starts[j] as number;
        if (flags & BYTES && offsets) {
          // Left in the file (src/ingest/read-back.ts): no string for the line, one for its
          // arguments only if the replay reads them.
          raw = '';
          at = smallInt(offsets[j] as number);
          args = this.readsArgs(meta[o + 1] as number, flags) ? (bytes as Buffer).toString('latin1', start + (meta[o + 5] as number), start + (meta[o + 6] as number)) : '';
        } else {
          raw = (bytes as Buffer).toString(flags & BYTES ? 'latin1' : 'utf8', start, (lb as NonNullable<typeof lb>).ends[j]);
          if (flags & ARGS_STRING) args = strs[k++] as string;
          else args = this.readsArgs(meta[o + 1] as number, flags) ? raw.slice(meta[o + 5] as number, meta[o + 6] as number) : '';
        }
      } else {
        raw = strs[k++] as string;
        args = flags & ARGS_STRING ? (strs[k++] as string) : raw.slice(meta[o + 5] as number, meta[o + 6] as number);
      }
      const side: Side | null = flags & SIDE_SRC ? 'src' : flags & SIDE_DST ? 'dst' : null;
      const tidv = meta[o + 2] as number;
      const rec: TraceRecord = { kind: 'event', name: this.names[meta[o + 1] as number] as string, side, args, tid: tidv !== tidv ? null : smallInt(tidv), ts, input, line, raw, argsAt: flags & ARGS_STRING ? -1 : (meta[o + 5] as number) | 0, rowsMask: flags & ROWS_MASK ? (meta[o + 8] as number) | 0 : -1, at };
      if (flags & PID) rec.pid = meta[o + 7] as number;
      if (flags & THREAD) rec.thread = strs[k++] as string;
      out[i] = rec;
    }
    return out;
  }

  /** Whether the replay reads this event's arguments: always, or only to match rows no reader matched (no mask). */
  private readsArgs(nameId: number, flags: number): boolean {
    const use = this.argsKind[nameId] as number;
    return use === 2 || (use === 1 && (flags & ROWS_MASK) === 0);
  }
}

/**
 * Numbers read from a Float64Array are doubles: turned back into small integers where they fit,
 * records from here have the same field representations as records read in the replay thread, and
 * the replay's property accesses stay monomorphic.
 */
function smallInt(x: number): number {
  return x <= 0x3fffffff ? x | 0 : x;
}
