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
import { openBytes } from '../bytes.js';
import { fileSize, InputError, type InputCounters, type InputReadOptions, type TraceFormat, type TraceRecord } from '../records.js';
import { traceEventsFor, type TraceEventDef, type TraceEvents } from '../trace-events.js';
import type { Side } from '../../types.js';
import { formatPrintf, type ArgValue } from './printf.js';

const HEADER_BYTES = 24;
const MAGIC_HI = 0xf2b177cb;
const MAGIC_LO = 0x0aa429b4;
const DROPPED_HI = 0xffffffff;
const DROPPED_LO = 0xfffffffe;
/** A record longer than this is corruption: 24 bytes of header and a few args of at most 516 bytes. */
const MAX_RECORD = 1 << 16;
const MAX_NAME = 1024;
/** How far a resync may look ahead for the next plausible record before giving up on a chunk. */
const RESYNC_WINDOW = 64;

interface Decoder {
  le: boolean;
  u32(b: Buffer, o: number): number;
  /** u64 as a Number (exact below 2^53) */
  u64n(b: Buffer, o: number): number;
  /** u64 as [hi, lo] halves */
  hi(b: Buffer, o: number): number;
  lo(b: Buffer, o: number): number;
}

function decoder(le: boolean): Decoder {
  return le
    ? { le, u32: (b, o) => b.readUInt32LE(o), u64n: (b, o) => b.readUInt32LE(o + 4) * 4294967296 + b.readUInt32LE(o), hi: (b, o) => b.readUInt32LE(o + 4), lo: (b, o) => b.readUInt32LE(o) }
    : { le, u32: (b, o) => b.readUInt32BE(o), u64n: (b, o) => b.readUInt32BE(o) * 4294967296 + b.readUInt32BE(o + 4), hi: (b, o) => b.readUInt32BE(o), lo: (b, o) => b.readUInt32BE(o + 4) };
}

/** Byte order from the header, or null when it is not a simple trace header. */
function headerOrder(b: Buffer): 'le' | 'be' | null {
  if (b.length < 16) return null;
  if (b.readUInt32LE(0) !== 0xffffffff || b.readUInt32LE(4) !== 0xffffffff) return null;
  if (b.readUInt32LE(12) === MAGIC_HI && b.readUInt32LE(8) === MAGIC_LO) return 'le';
  if (b.readUInt32BE(8) === MAGIC_HI && b.readUInt32BE(12) === MAGIC_LO) return 'be';
  return null;
}

function hexDump(b: Buffer, o: number, n = 32): string {
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

function isNameByte(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
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
        for (let k = q + 4; k < q + 4 + len; k++) if (!isTextByte(b[k]!)) {
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

async function* readSimpleRecords(
  path: string,
  input: number,
  side: Side | null,
  counters: InputCounters,
  opts: InputReadOptions,
): AsyncGenerator<TraceRecord[]> {
  counters.totalBytes = await fileSize(path);
  const te: TraceEvents | null = await traceEventsFor(path, opts.traceEvents);
  const src = openBytes(path, { headOnly: opts.headOnly === true });
  const names = new Map<number, string>(); // runtime id → name (ids above 2^53 cannot be real)
  const unmapped = new Map<number, number>(); // id → events seen before (or without) its mapping
  const undeclared = new Set<string>();
  const mismatched = new Set<string>();
  let d: Decoder | null = null;
  let pid: number | null = null;
  let lastTsNs = -1;
  let samples = 0;
  let pending: Buffer | null = null;
  let base = 0; // file offset of buf[0]
  let recNo = 0;
  let damagedAt = -1; // file offset where the current damaged stretch started (-1: none)
  let damageReason = '';
  let damageDump = '';
  let damageRec = 0;

  const unparsed = (rec: number, offset: number, dump: string, reason: string) => {
    counters.unparsed++;
    counters.lines++;
    if (samples++ < opts.maxSamples) opts.onUnparsed?.({ file: path, line: rec, text: dump, reason: `byte offset ${offset}: ${reason}` });
  };
  /** Closes a damaged stretch at `resumeAt` (the next good record, or the end of the input). */
  const endDamage = (resumeAt: number, atEnd: boolean) => {
    if (damagedAt < 0) return;
    unparsed(damageRec, damagedAt, damageDump, `${damageReason}; skipped ${resumeAt - damagedAt} bytes to ${atEnd ? 'the end of the input' : `the next record at byte offset ${resumeAt}`}`);
    damagedAt = -1;
  };

  /** Could a record start at o (for a resync)? Needs the bytes; 'more' when they are not there yet. */
  const plausible = (b: Buffer, o: number): boolean | 'more' => {
    const dd = d as Decoder;
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
    if (!dropped && (ihi !== 0 || !names.has(ilo))) return false;
    const len = dd.u32(b, o + 24);
    if (len < 24 || len > MAX_RECORD) return false;
    if (pid !== null && dd.u32(b, o + 28) !== pid) return false;
    const ts = dd.u64n(b, o + 16);
    return lastTsNs < 0 || (ts >= lastTsNs - 1e9 && ts <= lastTsNs + 3600e9);
  };

  try {
    for await (const chunk of src.chunks) {
      const buf: Buffer = pending ? Buffer.concat([pending, chunk]) : chunk;
      pending = null;
      let pos = 0;
      const out: TraceRecord[] = [];
      if (d === null) {
        if (buf.length < HEADER_BYTES) {
          pending = Buffer.from(buf);
          continue;
        }
        const order = headerOrder(buf);
        if (order === null) {
          if (buf.readUInt32LE(0) !== 0xffffffff || buf.readUInt32LE(4) !== 0xffffffff) throw new InputError(`${path}: byte offset 0: not a simple trace (no header record: expected 8 bytes 0xff, found ${hexDump(buf, 0, 8)})`);
          throw new InputError(`${path}: byte offset 8: bad magic ${hexDump(buf, 8, 8)} (a simple trace has 0xf2b177cb0aa429b4 in host byte order)`);
        }
        d = decoder(order === 'le');
        const version = d.u64n(buf, 16);
        if (version !== 4) throw new InputError(`${path}: byte offset 16: simple trace log version ${version} is not supported (only version 4, QEMU >= 2.11)`);
        recNo = 1;
        counters.lines++;
        counters.blank++; // the header is structure, not content
        pos = HEADER_BYTES;
      }
      const dd: Decoder = d;
      for (;;) {
        if (damagedAt >= 0) {
          // Resyncing: look for the next offset where a record plausibly starts.
          let found = -1;
          let more = false;
          for (let o = pos; o < buf.length; o++) {
            const p = plausible(buf, o);
            if (p === 'more') {
              more = true;
              pos = o;
              break;
            }
            if (p) {
              found = o;
              break;
            }
          }
          if (found < 0) {
            if (!more) pos = Math.max(pos, buf.length - RESYNC_WINDOW);
            break; // need more bytes
          }
          endDamage(base + found, false);
          pos = found;
        }
        if (pos + 8 > buf.length) break;
        const typeHi = dd.hi(buf, pos);
        const type = typeHi === 0 ? dd.lo(buf, pos) : -1;
        if (type === 0) {
          if (pos + 20 > buf.length) break;
          const len = dd.u32(buf, pos + 16);
          if (len > MAX_NAME || dd.hi(buf, pos + 8) !== 0) {
            recNo++;
            damagedAt = base + pos;
            damageRec = recNo;
            damageDump = hexDump(buf, pos);
            damageReason = len > MAX_NAME ? `mapping record with a name of ${len} bytes` : 'mapping record with an impossible event id';
            pos++;
            continue;
          }
          if (pos + 20 + len > buf.length) break;
          recNo++;
          counters.lines++;
          counters.blank++;
          names.set(dd.lo(buf, pos + 8), buf.toString('latin1', pos + 20, pos + 20 + len));
          pos += 20 + len;
          continue;
        }
        if (type !== 1) {
          recNo++;
          damagedAt = base + pos;
          damageRec = recNo;
          damageDump = hexDump(buf, pos);
          damageReason = `unknown record type 0x${(typeHi * 4294967296 + dd.lo(buf, pos)).toString(16)} (0 = mapping, 1 = event)`;
          pos++;
          continue;
        }
        if (pos + 32 > buf.length) break;
        const length = dd.u32(buf, pos + 24);
        if (length < 24 || length > MAX_RECORD) {
          recNo++;
          damagedAt = base + pos;
          damageRec = recNo;
          damageDump = hexDump(buf, pos);
          damageReason = `event record with an impossible length ${length}`;
          pos++;
          continue;
        }
        if (pos + 8 + length > buf.length) break;
        recNo++;
        const idHi = dd.hi(buf, pos + 8);
        const idLo = dd.lo(buf, pos + 8);
        const tsNs = dd.u64n(buf, pos + 16);
        const recPid = dd.u32(buf, pos + 28);
        const argStart = pos + 32;
        const argEnd = pos + 8 + length;
        pid ??= recPid;
        lastTsNs = tsNs;
        const ts = tsNs / 1000;
        if (idHi === DROPPED_HI && idLo === DROPPED_LO) {
          const n = length >= 32 ? dd.u64n(buf, argStart) : 0;
          counters.lines++;
          counters.messages++;
          counters.dropped += n;
          out.push({ kind: 'message', text: `${n} trace events dropped (simple backend: trace buffer full)`, program: 'simple', ts, input, line: recNo, dropped: n });
          pos = argEnd;
          continue;
        }
        const name = idHi === 0 ? names.get(idLo) : undefined;
        if (name === undefined) {
          const id = idHi * 4294967296 + idLo;
          unmapped.set(id, (unmapped.get(id) ?? 0) + 1);
          unparsed(recNo, base + pos, hexDump(buf, pos), `event id ${id} has no mapping record before it (cannot name the event)`);
          pos = argEnd;
          continue;
        }
        let args: string;
        const def = te?.events.get(name);
        const vals = def ? decodeDeclared(dd, buf, argStart, argEnd, def) : null;
        if (def && vals) args = trimEnd(formatPrintf(def.pieces, vals));
        else {
          if (def) mismatched.add(name);
          else undeclared.add(name);
          args = decodePositional(dd, buf, argStart, argEnd);
        }
        counters.lines++;
        counters.events++;
        counters.eventsWithoutTid++;
        out.push({ kind: 'event', name, side, args, tid: null, ts, input, line: recNo, raw: args ? `${name} ${args}` : name, pid: recPid });
        pos = argEnd;
      }
      if (pos < buf.length) pending = Buffer.from(buf.subarray(pos)); // small: at most one record
      base += pos;
      counters.bytes = src.rawBytes();
      if (out.length) yield out;
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${path}: byte offset ${base}: read failed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (d === null) {
    if (opts.headOnly && path === '-') return;
    throw new InputError(`${path}: ${base + (pending?.length ?? 0)} bytes: too short for a simple trace header (24 bytes)`);
  }
  if (damagedAt >= 0) endDamage(base + (pending?.length ?? 0), true);
  else if (pending && pending.length > 0 && !opts.headOnly) {
    recNo++;
    unparsed(recNo, base, hexDump(pending, 0), `truncated record: the file ends ${pending.length} bytes into it`);
  }
  counters.bytes = src.rawBytes();
  counters.notes.push(...src.warnings);
  if (te === null) counters.notes.push(`no trace-events file (give --trace-events FILE, or put the build's trace-events-all beside the trace): arguments are positional (arg0=... arg1=...), so argument-matching catalog rows may not apply`);
  else counters.notes.push(`argument names and formats from ${te.path}`);
  if (undeclared.size && te) counters.notes.push(`${undeclared.size} event(s) not declared in ${te.path} (positional arguments): ${[...undeclared].slice(0, 5).join(', ')}${undeclared.size > 5 ? ', ...' : ''}`);
  if (mismatched.size) counters.notes.push(`${mismatched.size} event(s) whose recorded arguments do not fit their trace-events declaration (a trace-events file from another build?), shown positionally: ${[...mismatched].slice(0, 5).join(', ')}`);
  const never = [...unmapped.keys()].filter((id) => !names.has(id));
  if (never.length) counters.notes.push(`event id(s) ${never.slice(0, 5).join(', ')} never got a mapping record (${never.reduce((a, id) => a + (unmapped.get(id) ?? 0), 0)} records unparsed): the start of the file is missing?`);
  if (counters.dropped) counters.notes.push(`the simple backend dropped ${counters.dropped} events (trace buffer full): verdicts over those stretches cannot be trusted`);
  counters.notes.push('simple records carry the process id only (no thread ids); timestamps are CLOCK_MONOTONIC, comparable only with other simple traces of the same host');
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
  read: readSimpleRecords,
};
