// Trace records in a form that crosses a worker-thread boundary cheaply (read-worker.ts): one
// Float64Array of numbers per batch and, for line-based input, the lines' own bytes (both
// transferred, not copied), instead of thousands of small objects for structured clone to walk.
// Event arguments are sent as offsets into the line when they are a piece of it (the log format:
// always). Lines go as bytes, not strings: strings that cross a thread boundary are allocated in
// the receiver's old generation (measured in a micro test: +20 MB per 500 batches of 4096), where
// a gigabyte of lines is garbage collected late; strings decoded from bytes are young and die
// young. (The larger share of the peak-RSS fix was the heap growth cap, src/cli/heap.ts.) Other
// strings (messages, thread names, rebuilt arguments) are rare and go as strings. Pure: no I/O.
import type { Side } from '../types.js';
import type { RecordBatch, TraceRecord } from './records.js';

/** Numbers per record: flags, name id, tid, ts, line, a, b, pid. */
const STRIDE = 8;

const MESSAGE = 1;
const SIDE_SRC = 2;
const SIDE_DST = 4;
const ARGS_STRING = 8; // args sent as their own string (not a piece of raw)
const THREAD = 16;
const PROGRAM = 32;
const DROPPED = 64;
const PID = 128;
const RAW_LINE = 256; // raw is line (line - firstLine) of the batch's bytes

export interface EncodedBatch {
  meta: Float64Array;
  /** The records' strings in order (raw line, then args when not a piece of it, then thread name). */
  strs: string[];
  /** Event names first used in this batch; their ids follow the previous batches' names. */
  names: string[];
  count: number;
  lineBytes?: { bytes: Uint8Array; starts: Uint32Array; ends: Uint32Array; firstLine: number };
}

interface Utf8Slicer {
  utf8Slice(start: number, end: number): string;
}

/** Per input: names get small ids once, so a name crosses the boundary once. */
export class RecordEncoder {
  private readonly ids = new Map<string, number>();

  encode(records: RecordBatch): EncodedBatch {
    const lines = records.lineBytes;
    const meta = new Float64Array(records.length * STRIDE);
    const strs: string[] = [];
    const names: string[] = [];
    let o = 0;
    for (const r of records) {
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
        let id = this.ids.get(r.name);
        if (id === undefined) {
          id = this.ids.size;
          this.ids.set(r.name, id);
          names.push(r.name);
        }
        meta[o + 1] = id;
        if (lines) flags |= RAW_LINE;
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
      }
      meta[o] = flags;
      meta[o + 3] = r.ts === null ? NaN : r.ts;
      meta[o + 4] = r.line;
      o += STRIDE;
    }
    const out: EncodedBatch = { meta, strs, names, count: records.length };
    if (lines) out.lineBytes = { bytes: lines.bytes, starts: lines.starts, ends: lines.ends, firstLine: lines.firstLine };
    return out;
  }
}

/** The other end: rebuilds records equal to the encoded ones (same fields, same key order). */
export class RecordDecoder {
  private readonly names: string[] = [];

  constructor(private readonly input: number) {}

  decode(b: EncodedBatch): TraceRecord[] {
    for (const n of b.names) this.names.push(n);
    const out: TraceRecord[] = new Array(b.count);
    const { meta, strs } = b;
    let k = 0;
    const lb = b.lineBytes;
    const bytes = lb ? (Buffer.from(lb.bytes.buffer, lb.bytes.byteOffset, lb.bytes.byteLength) as unknown as Utf8Slicer) : null;
    const first = lb ? lb.firstLine : 0;
    const input = this.input;
    for (let i = 0, o = 0; i < b.count; i++, o += STRIDE) {
      const flags = meta[o] as number;
      const tsv = meta[o + 3] as number;
      const ts = tsv === tsv ? tsv : null; // NaN stands for null
      // Numbers read from a Float64Array are doubles: turned back into small integers where they
      // fit, records from here have the same field representations as records read in the replay
      // thread, and the replay's property accesses stay monomorphic.
      const lineD = meta[o + 4] as number;
      const line = lineD <= 0x3fffffff ? lineD | 0 : lineD;
      if (flags & MESSAGE) {
        const text = strs[k++] as string;
        const program = flags & PROGRAM ? (strs[k++] as string) : null;
        const rec: TraceRecord = { kind: 'message', text, program, ts, input, line };
        if (flags & DROPPED) rec.dropped = meta[o + 5] as number;
        out[i] = rec;
        continue;
      }
      let raw: string;
      if (flags & RAW_LINE) {
        const j = line - first;
        raw = (bytes as Utf8Slicer).utf8Slice((lb as NonNullable<typeof lb>).starts[j] as number, (lb as NonNullable<typeof lb>).ends[j] as number);
      } else raw = strs[k++] as string;
      const args = flags & ARGS_STRING ? (strs[k++] as string) : raw.slice(meta[o + 5] as number, meta[o + 6] as number);
      const side: Side | null = flags & SIDE_SRC ? 'src' : flags & SIDE_DST ? 'dst' : null;
      const tidv = meta[o + 2] as number;
      const rec: TraceRecord = { kind: 'event', name: this.names[meta[o + 1] as number] as string, side, args, tid: tidv !== tidv ? null : tidv <= 0x3fffffff ? tidv | 0 : tidv, ts, input, line, raw, argsAt: flags & ARGS_STRING ? -1 : (meta[o + 5] as number) | 0 };
      if (flags & PID) rec.pid = meta[o + 7] as number;
      if (flags & THREAD) rec.thread = strs[k++] as string;
      out[i] = rec;
    }
    return out;
  }
}
