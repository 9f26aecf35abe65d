// QEMU's `simple` trace backend (§F.2; trace/simple.c, scripts/simpletrace.py), streamed:
//   header   u64 0xffffffffffffffff, u64 magic 0xf2b177cb0aa429b4, u64 version (4)
//   records  u64 type; 0 = mapping: u64 id, u32 len, name[len]   (any time before the id is used)
//                      1 = event:   u64 id, u64 timestamp_ns, u32 length (incl. these 24 bytes),
//                                   u32 pid, args: u64 each, or u32 len + bytes for strings
//   id 0xfffffffffffffffe = "dropped events", one u64 count.
// Host byte order: both orders are accepted (the magic says which). Records carry getpid(), never a
// thread id, so every event has tid null. Timestamps are get_clock() (CLOCK_MONOTONIC) ns.
// Argument names and types come from the build's trace-events file; arguments are printed with its
// format so the text equals what the log backend prints. Each record is one "line" of the
// accounting: header and mappings are blank, events are events, drop records are messages, and a
// damaged stretch (unknown type, impossible length, truncated tail) is one unparsed record.
// The reader is three stages: the header (readHeader), the framing of records in the byte stream
// with its damage accounting (Framing), and the decoding of an event's arguments into text
// (simple-decode.ts), which goes to a sink: records for this thread, or a reader thread's encoder.
import { openBytes } from '../bytes.js';
import { fileSize, InputError, type InputCounters, type InputReadOptions, type RenderedSink, type TraceFormat, type TraceRecord } from '../records.js';
import { traceEventsFor, type TraceEvents } from '../trace-events.js';
import type { Side } from '../../types.js';
import { decoder, EventDecoder, hexDump, mapEvent, SimpleListSink, TextBuffer, type Decoder, type MappedEvent, type Rendered } from './simple-decode.js';

const HEADER_BYTES = 24;
const MAGIC_HI = 0xf2b177cb;
const MAGIC_LO = 0x0aa429b4;
const DROPPED_HI = 0xffffffff;
const DROPPED_LO = 0xfffffffe;
/** A record longer than this is corruption: 24 bytes of header and a few args of at most 516 bytes. */
const MAX_RECORD = 1 << 16;
const MAX_NAME = 1024;
const SIMPLE_CHUNK = 64 << 10;
/** How far a resync may look ahead for the next plausible record before giving up on a chunk. */
const RESYNC_WINDOW = 64;

/** Byte order from the header, or null when it is not a simple trace header. */
function headerOrder(b: Buffer): 'le' | 'be' | null {
  if (b.length < 16) return null;
  if (b.readUInt32LE(0) !== 0xffffffff || b.readUInt32LE(4) !== 0xffffffff) return null;
  if (b.readUInt32LE(12) === MAGIC_HI && b.readUInt32LE(8) === MAGIC_LO) return 'le';
  if (b.readUInt32BE(8) === MAGIC_HI && b.readUInt32BE(12) === MAGIC_LO) return 'be';
  return null;
}

/** The header's byte order and version (at least HEADER_BYTES of b), or the input error that says what is wrong. */
function readHeader(path: string, b: Buffer): Decoder {
  const order = headerOrder(b);
  if (order === null) {
    if (b.readUInt32LE(0) !== 0xffffffff || b.readUInt32LE(4) !== 0xffffffff) throw new InputError(`${path}: byte offset 0: not a simple trace (no header record: expected 8 bytes 0xff, found ${hexDump(b, 0, 8)})`);
    throw new InputError(`${path}: byte offset 8: bad magic ${hexDump(b, 8, 8)} (a simple trace has 0xf2b177cb0aa429b4 in host byte order)`);
  }
  const d = decoder(order === 'le');
  const version = d.u64n(b, 16);
  if (version !== 4) throw new InputError(`${path}: byte offset 16: simple trace log version ${version} is not supported (only version 4, QEMU >= 2.11)`);
  return d;
}

function isNameByte(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/**
 * The records of the byte stream, chunk by chunk: each is counted as exactly one of blank (header,
 * mapping), event, message (dropped events) or unparsed (a damaged stretch, skipped to the next
 * plausible record; a truncated tail). Events are decoded into the batch's text and the sink.
 */
class Framing<B> {
  readonly names = new Map<number, MappedEvent>(); // runtime id → event (ids above 2^53 cannot be real)
  readonly unmapped = new Map<number, number>(); // id → events seen before (or without) its mapping
  private pid: number | null = null;
  private lastTsNs = -1;
  private samples = 0;
  recNo = 0;
  private damagedAt = -1; // file offset where the current damaged stretch started (-1: none)
  private damageReason = '';
  private damageDump = '';
  private damageRec = 0;
  private readonly rendered: Rendered = { start: 0, argsAt: 0, end: 0, args: null };
  // Per batch: the events' text, and where each record's is (by record number).
  private text = new TextBuffer(0);
  private starts = new Uint32Array(0);
  private ends = new Uint32Array(0);
  private firstRec = 0;
  readonly events: EventDecoder;

  constructor(
    private readonly path: string,
    private readonly input: number,
    private readonly side: Side | null,
    private readonly counters: InputCounters,
    private readonly opts: InputReadOptions,
    private readonly d: Decoder,
    private readonly te: TraceEvents | null,
    private readonly sink: RenderedSink<B>,
  ) {
    this.events = new EventDecoder(d, te !== null);
    this.recNo = 1; // the header
    counters.lines++;
    counters.blank++; // the header is structure, not content
  }

  private unparsed(rec: number, offset: number, dump: string, reason: string): void {
    this.counters.unparsed++;
    this.counters.lines++;
    if (this.samples++ < this.opts.maxSamples) this.opts.onUnparsed?.({ file: this.path, line: rec, text: dump, reason: `byte offset ${offset}: ${reason}` });
  }

  /** Closes a damaged stretch at `resumeAt` (the next good record, or the end of the input). */
  endDamage(resumeAt: number, atEnd: boolean): boolean {
    if (this.damagedAt < 0) return false;
    this.unparsed(this.damageRec, this.damagedAt, this.damageDump, `${this.damageReason}; skipped ${resumeAt - this.damagedAt} bytes to ${atEnd ? 'the end of the input' : `the next record at byte offset ${resumeAt}`}`);
    this.damagedAt = -1;
    return true;
  }

  private damage(b: Buffer, pos: number, base: number, reason: string): void {
    this.recNo++;
    this.damagedAt = base + pos;
    this.damageRec = this.recNo;
    this.damageDump = hexDump(b, pos);
    this.damageReason = reason;
  }

  /** The truncated record at the end of the input (`rest` is what there is of it). */
  truncated(rest: Buffer, base: number): void {
    this.recNo++;
    this.unparsed(this.recNo, base, hexDump(rest, 0), `truncated record: the file ends ${rest.length} bytes into it`);
  }

  /** Could a record start at o (for a resync)? Needs the bytes; 'more' when they are not there yet. */
  private plausible(b: Buffer, o: number): boolean | 'more' {
    const dd = this.d;
    if (o + 8 > b.length) return 'more';
    const thi = dd.hi(b, o);
    const tlo = dd.lo(b, o);
    if (thi !== 0 || tlo > 1) return false;
    if (tlo === 0) {
      if (o + 20 > b.length) return 'more';
      if (dd.hi(b, o + 8) !== 0) return false;
      const len = dd.u32(b, o + 16);
      if (len < 1 || len > 256) return false;
      if (o + 20 + len > b.length) return 'more';
      for (let k = o + 20; k < o + 20 + len; k++) if (!isNameByte(b[k]!)) return false;
      return true;
    }
    if (o + 32 > b.length) return 'more';
    const ihi = dd.hi(b, o + 8);
    const ilo = dd.lo(b, o + 8);
    const dropped = ihi === DROPPED_HI && ilo === DROPPED_LO;
    if (!dropped && (ihi !== 0 || !this.names.has(ilo))) return false;
    const len = dd.u32(b, o + 24);
    if (len < 24 || len > MAX_RECORD) return false;
    if (this.pid !== null && dd.u32(b, o + 28) !== this.pid) return false;
    const ts = dd.u64n(b, o + 16);
    return this.lastTsNs < 0 || (ts >= this.lastTsNs - 1e9 && ts <= this.lastTsNs + 3600e9);
  }

  /** Where a resync may go on (the next plausible record), or -1 with `pos` moved on when the chunk has none. */
  private resync(b: Buffer, pos: number, base: number): { pos: number; found: boolean } {
    for (let o = pos; o < b.length; o++) {
      const p = this.plausible(b, o);
      if (p === 'more') return { pos: o, found: false };
      if (p) {
        this.endDamage(base + o, false);
        return { pos: o, found: true };
      }
    }
    return { pos: Math.max(pos, b.length - RESYNC_WINDOW), found: false };
  }

  /**
   * The whole records of b from pos (b[0] is at file offset `base`) into the sink; returns how far
   * it got (the rest is a partial record, or bytes a resync must see again with more after them).
   */
  batch(b: Buffer, pos: number, base: number): number {
    const dd = this.d;
    this.sink.beginRendered(Math.floor(b.length / 48) + 16); // grows if records are shorter
    this.text = new TextBuffer(b.length + (b.length >> 2) + 4096); // grows if the text is longer
    this.firstRec = this.recNo + 1;
    // The encoder transfers them: each batch has its own (grown in event() if records are short).
    this.starts = new Uint32Array(Math.floor(b.length / 48) + 16);
    this.ends = new Uint32Array(this.starts.length);
    for (;;) {
      if (this.damagedAt >= 0) {
        const r = this.resync(b, pos, base);
        pos = r.pos;
        if (!r.found) break; // need more bytes
      }
      if (pos + 8 > b.length) break;
      const typeHi = dd.hi(b, pos);
      const type = typeHi === 0 ? dd.lo(b, pos) : -1;
      if (type === 0) {
        if (pos + 20 > b.length) break;
        const len = dd.u32(b, pos + 16);
        if (len > MAX_NAME || dd.hi(b, pos + 8) !== 0) {
          this.damage(b, pos, base, len > MAX_NAME ? `mapping record with a name of ${len} bytes` : 'mapping record with an impossible event id');
          pos++;
          continue;
        }
        if (pos + 20 + len > b.length) break;
        this.recNo++;
        this.counters.lines++;
        this.counters.blank++;
        const name = b.toString('latin1', pos + 20, pos + 20 + len);
        this.names.set(dd.lo(b, pos + 8), mapEvent(name, this.te?.events.get(name), this.sink));
        pos += 20 + len;
        continue;
      }
      if (type !== 1) {
        this.damage(b, pos, base, `unknown record type 0x${(typeHi * 4294967296 + dd.lo(b, pos)).toString(16)} (0 = mapping, 1 = event)`);
        pos++;
        continue;
      }
      if (pos + 32 > b.length) break;
      const length = dd.u32(b, pos + 24);
      if (length < 24 || length > MAX_RECORD) {
        this.damage(b, pos, base, `event record with an impossible length ${length}`);
        pos++;
        continue;
      }
      if (pos + 8 + length > b.length) break;
      this.recNo++;
      this.event(b, pos, base, length);
      pos += 8 + length;
    }
    return pos;
  }

  /** One whole event record at b[pos] (`length` from its id on). */
  private event(b: Buffer, pos: number, base: number, length: number): void {
    const dd = this.d;
    const counters = this.counters;
    const recNo = this.recNo;
    const idHi = dd.hi(b, pos + 8);
    const idLo = dd.lo(b, pos + 8);
    const tsNs = dd.u64n(b, pos + 16);
    const recPid = dd.u32(b, pos + 28);
    const argStart = pos + 32;
    const argEnd = pos + 8 + length;
    this.pid ??= recPid;
    this.lastTsNs = tsNs;
    const ts = tsNs / 1000;
    if (idHi === DROPPED_HI && idLo === DROPPED_LO) {
      const n = length >= 32 ? dd.u64n(b, argStart) : 0;
      counters.lines++;
      counters.messages++;
      counters.dropped += n;
      this.sink.add({ kind: 'message', text: `${n} trace events dropped (simple backend: trace buffer full)`, program: 'simple', ts, input: this.input, line: recNo, dropped: n });
      return;
    }
    const m = idHi === 0 ? this.names.get(idLo) : undefined;
    if (m === undefined) {
      const id = idHi * 4294967296 + idLo;
      this.unmapped.set(id, (this.unmapped.get(id) ?? 0) + 1);
      this.unparsed(recNo, base + pos, hexDump(b, pos), `event id ${id} has no mapping record before it (cannot name the event)`);
      return;
    }
    counters.lines++;
    counters.events++;
    counters.eventsWithoutTid++;
    const r = this.rendered;
    if (this.events.render(m, b, argStart, argEnd, this.text, r)) {
      const j = recNo - this.firstRec;
      if (j >= this.starts.length) this.grow(j);
      this.starts[j] = r.start;
      this.ends[j] = r.end;
      this.sink.renderedEvent(m.sinkName, this.text.bytes, r.start, r.argsAt, r.end, ts, recPid, this.side, recNo);
    } else {
      const args = r.args as string;
      this.sink.add({ kind: 'event', name: m.name, side: this.side, args, tid: null, ts, input: this.input, line: recNo, raw: args ? `${m.name} ${args}` : m.name, pid: recPid });
    }
  }

  private grow(j: number): void {
    const n = Math.max(j + 1, this.starts.length * 2);
    const s = new Uint32Array(n);
    const e = new Uint32Array(n);
    s.set(this.starts);
    e.set(this.ends);
    this.starts = s;
    this.ends = e;
  }

  /** The batch's sink output (null: nothing in it to send). */
  endBatch(): B | null {
    return this.sink.endRendered({ bytes: this.text.bytes, starts: this.starts, ends: this.ends, firstLine: this.firstRec });
  }

  /** What the read says about this input at its end. */
  notes(): string[] {
    const te = this.te;
    const out: string[] = [];
    const { undeclared, mismatched } = this.events;
    if (te === null) out.push(`no trace-events file (give --trace-events FILE, or put the build's trace-events-all beside the trace): arguments are positional (arg0=... arg1=...), so argument-matching catalog rows may not apply`);
    else out.push(`argument names and formats from ${te.path}`);
    if (undeclared.size && te) out.push(`${undeclared.size} event(s) not declared in ${te.path} (positional arguments): ${[...undeclared].slice(0, 5).join(', ')}${undeclared.size > 5 ? ', ...' : ''}`);
    if (mismatched.size) out.push(`${mismatched.size} event(s) whose recorded arguments do not fit their trace-events declaration (a trace-events file from another build?), shown positionally: ${[...mismatched].slice(0, 5).join(', ')}`);
    const never = [...this.unmapped.keys()].filter((id) => !this.names.has(id));
    if (never.length) out.push(`event id(s) ${never.slice(0, 5).join(', ')} never got a mapping record (${never.reduce((a, id) => a + (this.unmapped.get(id) ?? 0), 0)} records unparsed): the start of the file is missing?`);
    if (this.counters.dropped) out.push(`the simple backend dropped ${this.counters.dropped} events (trace buffer full): verdicts over those stretches cannot be trusted`);
    out.push('simple records carry the process id only (no thread ids); timestamps are CLOCK_MONOTONIC, comparable only with other simple traces of the same host');
    return out;
  }
}

async function* readSimple<B>(path: string, input: number, side: Side | null, counters: InputCounters, opts: InputReadOptions, sink: RenderedSink<B>): AsyncGenerator<B> {
  counters.totalBytes = await fileSize(path);
  const te: TraceEvents | null = await traceEventsFor(path, opts.traceEvents);
  // Chunks are reused: what is kept of one (a partial record) is copied. A sixteenth of the usual
  // chunk: with a reader thread, 256 MiB (bench pair, interleaved on a busy machine) took 6.1-6.3 s
  // of CPU and 215-225 MiB peak RSS in 256 KiB batches, 8.0 s and 276 MiB in 1 MiB ones (each
  // batch's text and numbers are buffers of their own, up to 8 in flight). 64 KiB, later: peak RSS
  // 171-211 MiB in 7 runs against 201-235 (and up to 287 in a full bench) for 256 KiB, no slower.
  // In the worst 256 KiB runs the main heap grew to 135 MiB between full collections; likely (not
  // measured) the small source's records, made inline a batch at a time, waited longer for the
  // merge and were promoted.
  const src = openBytes(path, { headOnly: opts.headOnly === true, reuseChunks: true, highWaterMark: SIMPLE_CHUNK });
  let f: Framing<B> | null = null;
  let pending: Buffer | null = null;
  let base = 0; // file offset of buf[0]
  try {
    for await (const chunk of src.chunks) {
      const buf: Buffer = pending ? Buffer.concat([pending, chunk]) : chunk;
      pending = null;
      let pos = 0;
      if (f === null) {
        if (buf.length < HEADER_BYTES) {
          pending = Buffer.from(buf);
          continue;
        }
        f = new Framing(path, input, side, counters, opts, readHeader(path, buf), te, sink);
        pos = HEADER_BYTES;
      }
      pos = f.batch(buf, pos, base);
      if (pos < buf.length) pending = Buffer.from(buf.subarray(pos)); // small: at most one record
      base += pos;
      counters.bytes = src.rawBytes();
      const out = f.endBatch();
      if (out !== null) yield out;
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${path}: byte offset ${base}: read failed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (f === null) {
    if (opts.headOnly && path === '-') return;
    throw new InputError(`${path}: ${base + (pending?.length ?? 0)} bytes: too short for a simple trace header (24 bytes)`);
  }
  if (!f.endDamage(base + (pending?.length ?? 0), true) && pending && pending.length > 0 && !opts.headOnly) f.truncated(pending, base);
  counters.bytes = src.rawBytes();
  counters.notes.push(...src.warnings, ...f.notes());
}

export const SIMPLE_FORMAT: TraceFormat = {
  name: 'simple',
  describe: "QEMU 'simple' trace backend binary (trace-<pid>; --enable-trace-backends=simple, -trace file=F): process id only, no thread ids",
  threadIds: false,
  detect(head) {
    if (headerOrder(head)) return 1;
    // The header's first u64 without the right magic: name it, so the read says "bad magic".
    return head.length >= 8 && head.readUInt32LE(0) === 0xffffffff && head.readUInt32LE(4) === 0xffffffff ? 0.3 : 0;
  },
  // Its reader makes no string per record (simple-decode.ts): an 8 MiB young generation read the
  // 256 MiB bench pair as fast as 32 MiB, with a peak RSS of 256-260 MiB instead of 270-277 (3 rounds).
  readerYoungMb: 8,
  read: (path, input, side, counters, opts): AsyncGenerator<TraceRecord[]> => readSimple(path, input, side, counters, opts, new SimpleListSink(input)),
  readEncoded: (path, input, side, counters, opts, enc) => readSimple(path, input, side, counters, opts, enc),
};
