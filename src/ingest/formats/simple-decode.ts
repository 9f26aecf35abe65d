// The decoding stage of the `simple` reader (simple.ts has the header and the framing): an event
// record's arguments printed with its trace-events format, exactly as the log backend prints them
// (printf.ts), but straight from the record's bytes into one text buffer per batch, `name args`
// per event, ASCII. The sink then makes what it needs of that text: this thread's records slice it
// into strings; a reader thread's encoder (record-codec.ts) only notes the offsets and transfers
// the buffer, so it makes no string at all. Event ids are resolved once, at their mapping record,
// to everything their events need (name, declaration, compiled printer, the sink's handle).
// Conversions outside the common ones (%d %i %u %x %X %p %s, zero-padded %u/%x), arguments that do
// not fit the declaration, and non-ASCII strings go through formatPrintf as before.
import type { Side } from '../../types.js';
import type { RenderedSink, SinkName, TraceRecord } from '../records.js';
import type { TraceEventDef } from '../trace-events.js';
import { formatPrintf, type ArgValue, type Conv } from './printf.js';

/** Records of this thread: the list the replay (or convert, timeline) consumes. */
export class SimpleListSink implements RenderedSink<TraceRecord[]> {
  private out: TraceRecord[] = [];
  constructor(private readonly input: number) {}
  nameRef(name: string): SinkName {
    return { name, id: -1, rows: undefined };
  }
  beginRendered(): void {
    this.out = [];
  }
  renderedEvent(n: SinkName, text: Buffer, start: number, argsAt: number, end: number, ts: number, pid: number, side: Side | null, line: number): void {
    const raw = text.toString('latin1', start, end);
    const args = argsAt < end ? raw.slice(argsAt - start) : '';
    this.out.push({ kind: 'event', name: n.name, side, args, tid: null, ts, input: this.input, line, raw, pid });
  }
  add(rec: TraceRecord): void {
    this.out.push(rec);
  }
  endRendered(): TraceRecord[] | null {
    return this.out.length ? this.out : null;
  }
}

/** u32 and u64 reads in the trace's byte order. */
export interface Decoder {
  le: boolean;
  u32(b: Buffer, o: number): number;
  /** u64 as a Number (exact below 2^53) */
  u64n(b: Buffer, o: number): number;
  /** u64 as [hi, lo] halves */
  hi(b: Buffer, o: number): number;
  lo(b: Buffer, o: number): number;
}

export function decoder(le: boolean): Decoder {
  // By hand: Buffer's readUInt32LE checks its arguments on every call (once per field here).
  const l32 = (b: Buffer, o: number) => ((b[o] as number) | ((b[o + 1] as number) << 8) | ((b[o + 2] as number) << 16)) + (b[o + 3] as number) * 16777216;
  const b32 = (b: Buffer, o: number) => (b[o] as number) * 16777216 + (((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number));
  return le
    ? { le, u32: l32, u64n: (b, o) => l32(b, o + 4) * 4294967296 + l32(b, o), hi: (b, o) => l32(b, o + 4), lo: l32 }
    : { le, u32: b32, u64n: (b, o) => b32(b, o) * 4294967296 + b32(b, o + 4), hi: b32, lo: (b, o) => b32(b, o + 4) };
}

/** Copies src into o at p (short copies: a loop beats Buffer.copy's checks); returns the end. */
function put(o: Buffer, p: number, src: Buffer): number {
  const n = src.length;
  for (let k = 0; k < n; k++) o[p + k] = src[k] as number;
  return p + n;
}

export function hexDump(b: Buffer, o: number, n = 32): string {
  return b
    .subarray(o, Math.min(b.length, o + n))
    .toString('hex')
    .replace(/(.{16})/g, '$1 ')
    .trim();
}

function u64Value(d: Decoder, b: Buffer, o: number): number | bigint {
  const hi = d.hi(b, o);
  const lo = d.lo(b, o);
  return hi < 0x200000 ? hi * 4294967296 + lo : (BigInt(hi) << 32n) | BigInt(lo);
}

function isTextByte(c: number): boolean {
  return (c >= 0x20 && c !== 0x7f) || c === 0x09;
}

/** Decodes args by their declaration; null when the payload does not fit it (wrong trace-events). */
function decodeDeclared(d: Decoder, b: Buffer, start: number, end: number, def: TraceEventDef): ArgValue[] | null {
  const vals: ArgValue[] = [];
  let q = start;
  for (const a of def.args) {
    if (a.isString) {
      if (q + 4 > end) return null;
      const len = d.u32(b, q);
      if (q + 4 + len > end) return null;
      // The backend records NULL as length 0 (and "" the same way): print what glibc prints for NULL.
      vals.push(len === 0 ? '(null)' : b.toString('utf8', q + 4, q + 4 + len));
      q += 4 + len;
    } else {
      if (q + 8 > end) return null;
      vals.push(u64Value(d, b, q));
      q += 8;
    }
  }
  return q === end ? vals : null;
}

/** Without a declaration: a u32 length followed by that many text bytes is a string, else a u64. */
function decodePositional(d: Decoder, b: Buffer, start: number, end: number): string {
  const parts: string[] = [];
  let q = start;
  while (q < end) {
    const rest = end - q;
    if (rest >= 4) {
      const len = d.u32(b, q);
      const after = rest - 4 - len;
      if (len > 0 && len <= 512 && after >= 0 && (after === 0 || after >= 4)) {
        let text = true;
        for (let k = q + 4; k < q + 4 + len; k++)
          if (!isTextByte(b[k]!)) {
            text = false;
            break;
          }
        if (text) {
          parts.push(`arg${parts.length}=${b.toString('utf8', q + 4, q + 4 + len)}`);
          q += 4 + len;
          continue;
        }
      }
    }
    if (rest >= 8) {
      parts.push(`arg${parts.length}=0x${u64Value(d, b, q).toString(16)}`);
      q += 8;
      continue;
    }
    parts.push(`arg${parts.length}=<${rest} bytes: ${hexDump(b, q, rest)}>`);
    break;
  }
  return parts.join(' ');
}

function trimEnd(s: string): string {
  let e = s.length;
  while (e > 0 && s.charCodeAt(e - 1) <= 32) e--;
  return e === s.length ? s : s.slice(0, e);
}

// ---- the compiled printer ------------------------------------------------------------------------

const LIT = 0;
const DEC_S32 = 1; // %d %i of an int
const DEC_S64 = 2; // %ld %lld ...
const DEC_U32 = 3;
const DEC_U64 = 4;
const HEX32 = 5;
const HEX64 = 6;
const PTR = 7;
const STR = 8;

/** One piece of a compiled format: a literal, or a conversion of the next argument. */
interface Op {
  kind: number;
  lit: Buffer | null;
  upper: boolean;
  /** Zero-padded to this width (0: none). */
  zeroWidth: number;
}

/** The ops for a declaration's format, or null when it needs formatPrintf. */
function compileOps(def: TraceEventDef): Op[] | null {
  const ops: Op[] = [];
  let arg = 0;
  for (const p of def.pieces) {
    if (typeof p === 'string') {
      const lit = Buffer.from(p, 'utf8');
      if (lit.length !== p.length) return null; // non-ASCII literal
      ops.push({ kind: LIT, lit, upper: false, zeroWidth: 0 });
      continue;
    }
    const a = def.args[arg++];
    if (a === undefined) return null;
    const kind = convKind(p, a.isString);
    if (kind < 0) return null;
    ops.push({ kind, lit: null, upper: p.conv === 'X', zeroWidth: p.flags === '0' && typeof p.width === 'number' ? p.width : 0 });
  }
  return arg === def.args.length ? ops : null;
}

function convKind(p: Conv, isString: boolean): number {
  if (p.prec !== null) return -1;
  const padded = p.flags === '0' && typeof p.width === 'number';
  if (!padded && (p.flags !== '' || p.width !== null)) return -1;
  if (isString) return p.conv === 's' && !padded ? STR : -1;
  if (p.bits !== 32 && p.bits !== 64) return -1;
  switch (p.conv) {
    case 'd':
    case 'i':
      if (padded) return -1; // a sign goes before the zeros: formatPrintf
      return p.bits === 32 ? DEC_S32 : DEC_S64;
    case 'u':
      return p.bits === 32 ? DEC_U32 : DEC_U64;
    case 'x':
    case 'X':
      return p.bits === 32 ? HEX32 : HEX64;
    case 'p':
      return padded ? -1 : PTR;
    default:
      return -1;
  }
}

/** One mapped event id: resolved once, at its mapping record. */
export interface MappedEvent {
  name: string;
  nameBytes: Buffer;
  def: TraceEventDef | undefined;
  ops: Op[] | null;
  /** Bytes of the format's literals and zero padding (for the text buffer's headroom). */
  litBytes: number;
  sinkName: SinkName;
}

export function mapEvent(name: string, def: TraceEventDef | undefined, sink: RenderedSink<unknown>): MappedEvent {
  const ops = def ? compileOps(def) : null;
  // Headroom beyond 3 text bytes per record byte: the literals, and zero padding (%030x).
  const litBytes = ops ? ops.reduce((n, o) => n + (o.lit?.length ?? 0) + o.zeroWidth, 0) : 0;
  return { name, nameBytes: Buffer.from(name, 'latin1'), def, ops, litBytes, sinkName: sink.nameRef(name) };
}

/** The text buffer of a batch: grows as events are rendered into it. */
export class TextBuffer {
  bytes: Buffer;
  p = 0;
  constructor(size: number) {
    this.bytes = Buffer.allocUnsafeSlow(size); // an ArrayBuffer of its own: a reader thread transfers it
  }
  ensure(n: number): void {
    if (this.p + n <= this.bytes.length) return;
    const next = Buffer.allocUnsafeSlow(Math.max(this.bytes.length * 2, this.p + n));
    this.bytes.copy(next, 0, 0, this.p);
    this.bytes = next;
  }
}

/** What decoding an event gave: where its text is, or that it fell back (see EventDecoder.render). */
export interface Rendered {
  start: number;
  argsAt: number;
  end: number;
  /** Set when the text is not ASCII: the strings made by formatPrintf (not in the buffer). */
  args: string | null;
}

/**
 * Renders event records. `mismatched`/`undeclared` collect names whose arguments went positional
 * (for the reader's notes).
 */
export class EventDecoder {
  private readonly argAt: number[] = [];
  readonly mismatched = new Set<string>();
  readonly undeclared = new Set<string>();
  constructor(
    private readonly d: Decoder,
    private readonly haveDecls: boolean,
  ) {}

  /**
   * Event `m`'s text from record bytes b[argStart, argEnd) into `t`: true when it is there (ASCII),
   * false when `out.args` holds the arguments as a string instead.
   */
  render(m: MappedEvent, b: Buffer, argStart: number, argEnd: number, t: TextBuffer, out: Rendered): boolean {
    if (m.ops !== null && this.layout(m.def as TraceEventDef, b, argStart, argEnd)) {
      t.ensure(m.nameBytes.length + 1 + m.litBytes + 3 * (argEnd - argStart) + 16);
      const start = t.p;
      const o = t.bytes;
      let p = put(o, start, m.nameBytes);
      o[p++] = 32;
      const argsAt = p;
      p = this.renderOps(m.ops, b, o, p);
      if (p >= 0) {
        while (p > argsAt && (o[p - 1] as number) <= 32) p--;
        out.start = start;
        out.argsAt = argsAt;
        out.end = p > argsAt ? p : argsAt - 1; // no arguments: the name alone
        out.args = null;
        t.p = out.end;
        return true;
      }
    }
    return this.slow(m, b, argStart, argEnd, t, out);
  }

  /** Checks the record's arguments against the declaration, noting where each starts. */
  private layout(def: TraceEventDef, b: Buffer, q: number, end: number): boolean {
    const d = this.d;
    const at = this.argAt;
    const args = def.args;
    for (let i = 0; i < args.length; i++) {
      at[i] = q;
      if ((args[i] as { isString: boolean }).isString) {
        if (q + 4 > end) return false;
        q += 4 + d.u32(b, q);
        if (q > end) return false;
      } else {
        q += 8;
        if (q > end) return false;
      }
    }
    return q === end;
  }

  /** The ops into o from p; -1 when a string is not ASCII. */
  private renderOps(ops: Op[], b: Buffer, o: Buffer, p: number): number {
    const d = this.d;
    let arg = 0;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i] as Op;
      if (op.kind === LIT) {
        p = put(o, p, op.lit as Buffer);
        continue;
      }
      const q = this.argAt[arg++] as number;
      switch (op.kind) {
        case STR: {
          const len = d.u32(b, q);
          if (len === 0) {
            p += o.write('(null)', p, 'latin1');
            break;
          }
          for (let k = q + 4; k < q + 4 + len; k++) {
            const c = b[k] as number;
            if (c >= 0x80) return -1;
            o[p++] = c;
          }
          break;
        }
        case DEC_S32: {
          const v = d.lo(b, q) | 0;
          if (v < 0) {
            o[p++] = 45;
            p = writeDec(o, p, -v);
          } else p = writeDec(o, p, v);
          break;
        }
        case DEC_U32:
          p = padDec(o, p, d.lo(b, q), op.zeroWidth);
          break;
        case HEX32:
          p = writeHex(o, p, 0, d.lo(b, q), op.upper, op.zeroWidth);
          break;
        case HEX64:
          p = writeHex(o, p, d.hi(b, q), d.lo(b, q), op.upper, op.zeroWidth);
          break;
        case PTR: {
          const hi = d.hi(b, q);
          const lo = d.lo(b, q);
          if (hi === 0 && lo === 0) p += o.write('(nil)', p, 'latin1');
          else {
            o[p++] = 48;
            o[p++] = 120;
            p = writeHex(o, p, hi, lo, false, 0);
          }
          break;
        }
        default: {
          // 64-bit decimal: exact as a Number below 2^53, else through BigInt (as formatPrintf).
          const hi = d.hi(b, q);
          const lo = d.lo(b, q);
          if (hi < 0x200000) p = op.kind === DEC_U64 ? padDec(o, p, hi * 4294967296 + lo, op.zeroWidth) : writeDec(o, p, hi * 4294967296 + lo);
          else {
            const big = (BigInt(hi) << 32n) | BigInt(lo);
            let s = (op.kind === DEC_U64 ? big : BigInt.asIntN(64, big)).toString();
            if (op.zeroWidth > s.length) s = s.padStart(op.zeroWidth, '0');
            p += o.write(s, p, 'latin1');
          }
        }
      }
    }
    return p;
  }

  /** formatPrintf (or positional arguments), as the reader did before the compiled printer. */
  private slow(m: MappedEvent, b: Buffer, argStart: number, argEnd: number, t: TextBuffer, out: Rendered): boolean {
    let args: string;
    const def = m.def;
    const vals = def ? decodeDeclared(this.d, b, argStart, argEnd, def) : null;
    if (def && vals) args = trimEnd(formatPrintf(def.pieces, vals));
    else {
      if (def) this.mismatched.add(m.name);
      else if (this.haveDecls) this.undeclared.add(m.name);
      args = decodePositional(this.d, b, argStart, argEnd);
    }
    const n = Buffer.byteLength(args, 'utf8');
    if (n !== args.length) {
      out.args = args;
      return false;
    }
    t.ensure(m.nameBytes.length + 1 + n);
    const start = t.p;
    let p = put(t.bytes, start, m.nameBytes);
    out.start = start;
    if (n > 0) {
      t.bytes[p++] = 32;
      out.argsAt = p;
      p += t.bytes.write(args, p, 'latin1');
    } else out.argsAt = p + 1;
    out.end = p;
    out.args = null;
    t.p = p;
    return true;
  }
}

/** Decimal digits of a non-negative integer below 2^53 at o[p...]; returns the end. */
function writeDec(o: Buffer, p: number, v: number): number {
  let n = 1;
  for (let x = v; x >= 10; x = Math.floor(x / 10)) n++;
  let k = p + n;
  do {
    const q = Math.floor(v / 10);
    o[--k] = 48 + (v - q * 10);
    v = q;
  } while (v > 0);
  return p + n;
}

function padDec(o: Buffer, p: number, v: number, width: number): number {
  if (width > 0) {
    let n = 1;
    for (let x = v; x >= 10; x = Math.floor(x / 10)) n++;
    for (; n < width; n++) o[p++] = 48;
  }
  return writeDec(o, p, v);
}

/** Hex digits of the u64 hi:lo (no prefix), zero-padded to width. */
function writeHex(o: Buffer, p: number, hi: number, lo: number, upper: boolean, width: number): number {
  const a = upper ? 55 : 87; // 'A' - 10, 'a' - 10
  let digits = hi !== 0 ? 8 + hexLen(hi) : hexLen(lo);
  for (; digits < width; width--) o[p++] = 48;
  if (hi !== 0) {
    for (let s = (hexLen(hi) - 1) * 4; s >= 0; s -= 4) {
      const x = (hi >>> s) & 15;
      o[p++] = x < 10 ? 48 + x : a + x;
    }
    digits = 8;
  } else digits = hexLen(lo);
  for (let s = (digits - 1) * 4; s >= 0; s -= 4) {
    const x = (lo >>> s) & 15;
    o[p++] = x < 10 ? 48 + x : a + x;
  }
  return p;
}

function hexLen(v: number): number {
  return v === 0 ? 1 : 8 - (Math.clz32(v) >>> 2);
}
