// QEMU's `log` trace backend, one line at a time (§F.1 of the model reference):
//   TID@sec.usec:name args            (-msg timestamp=on, QEMU <= 10.0)
//   name args                         (no -msg timestamp=on)
//   2025-07-21T18:43:28.089815Z name args      (-msg timestamp=on, QEMU >= 10.1: no TID)
//   prog(TID:threadname): name args   (proposed message-context prefix)
// and error_report() lines QEMU writes into the same stream, e.g.
//   2023-04-12T19:18:35.123456Z qemu-system-x86_64: Detected IO failure for postcopy. Migration paused.
// Empty-format events end with a trailing space; it is not part of the arguments.
// The two timestamped forms are the hot path on gigabyte traces: scanEventBytes reads them from the
// line's bytes; parseInto scans the TID@sec.usec form by hand, without regexes or intermediate
// objects (it fills a caller-owned scratch object).

export type LineKind = 'event' | 'message' | 'unparsed' | 'blank';

/** Filled by parseInto; fields not relevant to `kind` are stale. */
export interface ParseScratch {
  kind: LineKind;
  name: string;
  args: string;
  tid: number | null;
  ts: number | null;
  threadName: string | undefined;
  text: string;
  program: string | null;
  reason: string;
  /** The event was found after other text on the line (see parseInto). */
  embedded: boolean;
  /** Where `args` starts in the line given to parseInto, or -1 when it is not a piece of it (a cleaned line). */
  argsAt: number;
}

export type ParsedLine =
  | { kind: 'event'; name: string; args: string; tid: number | null; ts: number | null; threadName?: string }
  | { kind: 'message'; text: string; program: string | null; ts: number | null }
  | { kind: 'unparsed'; reason: string }
  | { kind: 'blank' };

export function newScratch(): ParseScratch {
  return { kind: 'blank', name: '', args: '', tid: null, ts: null, threadName: undefined, text: '', program: null, reason: '', embedded: false, argsAt: -1 };
}

const ISO = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z /;
const PROGRAM_CTX = /^([\w./-]+)\((\d+)(?::([^)]*))?\): /;
const PROGRAM_MSG = /^([\w./-]*qemu[\w./-]*):\s?(.*)$/i;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isAlpha(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}

/**
 * Splits `name args` starting at `from`. An event name is an identifier with at least one
 * underscore (every QEMU trace event has one), which keeps prose and garbage from passing as
 * bare events. Returns false when there is no such name.
 */
function splitEventAt(line: string, from: number, out: ParseScratch): boolean {
  const n = line.length;
  if (from >= n || !isAlpha(line.charCodeAt(from))) return false;
  let i = from + 1;
  let underscore = false;
  let h = line.charCodeAt(from);
  for (; i < n; i++) {
    const c = line.charCodeAt(i);
    if (c === 95) underscore = true;
    else if (!(isAlpha(c) || isDigit(c))) break;
    h = (Math.imul(h, 31) + c) | 0;
  }
  if (!underscore) return false;
  if (i < n && line.charCodeAt(i) !== 32) return false;
  out.name = internName(line, from, i, h);
  let end = n;
  while (end > i + 1 && line.charCodeAt(end - 1) <= 32) end--;
  if (i + 1 < end) {
    out.args = line.slice(i + 1, end);
    out.argsAt = i + 1;
  } else {
    out.args = '';
    out.argsAt = 0;
  }
  return true;
}

// Event names repeat millions of times: each is looked up in a small table by a hash taken while
// scanning, so the hot path allocates no name string and hands out one internalized string per
// name (later Map lookups by it are pointer compares). Collisions just replace the slot.
const NAME_SLOTS = 4096;
const nameTable: string[] = new Array<string>(NAME_SLOTS).fill('');

function internName(line: string, from: number, to: number, h: number): string {
  const slot = h & (NAME_SLOTS - 1);
  const cand = nameTable[slot] as string;
  if (cand.length === to - from) {
    let k = 0;
    while (k < cand.length && cand.charCodeAt(k) === line.charCodeAt(from + k)) k++;
    if (k === cand.length) return cand;
  }
  // A property key is internalized and flat: it does not keep the whole line alive.
  const name = Object.keys({ [line.slice(from, to)]: 0 })[0] as string;
  nameTable[slot] = name;
  return name;
}

function setUnparsed(out: ParseScratch, reason: string): LineKind {
  out.kind = 'unparsed';
  out.reason = reason;
  return 'unparsed';
}

function setEvent(out: ParseScratch, tid: number | null, ts: number | null, threadName?: string): LineKind {
  out.kind = 'event';
  out.tid = tid;
  out.ts = ts;
  out.threadName = threadName;
  return 'event';
}

function setMessage(out: ParseScratch, text: string, program: string | null, ts: number | null): LineKind {
  out.kind = 'message';
  out.text = text;
  out.program = program;
  out.ts = ts;
  return 'message';
}

// CI logs wrap trace lines in other output: ANSI colour/erase sequences, GitLab section markers
// ending in '\r', and error messages that another process's single-write trace line landed inside.
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07/g;
const EMBEDDED = /(\d+)@(\d+)\.(\d{6}):(?=[A-Za-z][A-Za-z0-9]*_)/;

/**
 * Parses one line. Lines with ANSI sequences or a bare '\r' are cleaned first; a line whose
 * TID@sec.usec: event starts after some other text (a CI prefix, or the first half of another
 * process's error message) is read from there, and `out.embedded` says so.
 */
export function parseInto(line: string, out: ParseScratch): LineKind {
  out.embedded = false;
  const kind = parseClean(line, out);
  if (kind === 'blank' || (kind === 'event' && out.args.indexOf('\x1b') < 0)) return kind;
  out.argsAt = -1; // whatever is parsed below is a cleaned copy, not the line itself
  let clean = line;
  if (clean.indexOf('\x1b') >= 0) clean = clean.replace(ANSI, '');
  const cr = clean.lastIndexOf('\r');
  const behindCr = cr >= 0 && cr < clean.length - 1;
  if (behindCr) clean = clean.slice(cr + 1);
  if (clean !== line) {
    const k = parseClean(clean, out);
    if (k === 'event') {
      out.embedded = behindCr; // ANSI colour alone is not "other text"
      out.argsAt = -1; // parseClean gave it in the cleaned copy
      return k;
    }
  }
  const m = EMBEDDED.exec(clean);
  if (m && m.index > 0) {
    const k = parseClean(clean.slice(m.index), out);
    if (k === 'event') {
      out.embedded = true;
      out.argsAt = -1;
      return k;
    }
  }
  if (clean === line) return kind;
  const k = parseClean(clean, out);
  out.argsAt = -1;
  return k;
}

function parseClean(line: string, out: ParseScratch): LineKind {
  const n = line.length;
  let first = 0;
  while (first < n && line.charCodeAt(first) <= 32) first++;
  if (first === n) {
    out.kind = 'blank';
    return 'blank';
  }
  const c0 = line.charCodeAt(0);
  if (isDigit(c0)) {
    let i = 0;
    let tid = 0;
    while (i < n && isDigit(line.charCodeAt(i))) tid = tid * 10 + (line.charCodeAt(i++) - 48);
    if (line.charCodeAt(i) === 64 /* @ */) {
      const secStart = ++i;
      let sec = 0;
      while (i < n && isDigit(line.charCodeAt(i))) sec = sec * 10 + (line.charCodeAt(i++) - 48);
      if (i > secStart && line.charCodeAt(i) === 46 /* . */) {
        const fracStart = ++i;
        let us = 0;
        while (i < n && isDigit(line.charCodeAt(i))) {
          if (i - fracStart < 6) us = us * 10 + (line.charCodeAt(i) - 48);
          i++;
        }
        for (let k = i - fracStart; k < 6; k++) us *= 10;
        if (i > fracStart && line.charCodeAt(i) === 58 /* : */) {
          if (!splitEventAt(line, i + 1, out)) return setUnparsed(out, 'TID@sec.usec: prefix not followed by an event name');
          return setEvent(out, tid, sec * 1e6 + us);
        }
      }
      return setUnparsed(out, 'malformed TID@sec.usec: prefix');
    }
    const iso = ISO.exec(line);
    if (iso) {
      const k = parseAfterIso(line.slice(iso[0].length), isoMicros(iso), out);
      if (k === 'event' && out.args !== '') out.argsAt += iso[0].length;
      return k;
    }
    return setUnparsed(out, 'not a trace event or QEMU message');
  }
  // A bare event (no -msg timestamp=on; the payload of ftrace, syslog, ...) first: when it is one,
  // neither prefix below can match (each needs '(' or ':' right after the leading word, an event
  // name is followed by a space or the end), so trying it first changes nothing but the cost.
  if (isAlpha(c0) && splitEventAt(line, 0, out)) return setEvent(out, null, null);
  const ctx = PROGRAM_CTX.exec(line);
  if (ctx) {
    if (splitEventAt(line, ctx[0].length, out)) return setEvent(out, Number(ctx[2]), null, ctx[3]);
    return setMessage(out, line.slice(ctx[0].length), ctx[1] as string, null);
  }
  const msg = PROGRAM_MSG.exec(line);
  if (msg) return setMessage(out, msg[2] as string, msg[1] as string, null);
  if (splitEventAt(line, 0, out)) return setEvent(out, null, null);
  return setUnparsed(out, 'not a trace event or QEMU message');
}

function isoMicros(m: RegExpExecArray): number {
  const sec = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) / 1000;
  const frac = m[7] ?? '';
  return sec * 1e6 + Number(frac.slice(0, 6).padEnd(6, '0'));
}

function parseAfterIso(rest: string, ts: number, out: ParseScratch): LineKind {
  const ctx = PROGRAM_CTX.exec(rest);
  if (ctx) {
    if (splitEventAt(rest, ctx[0].length, out)) return setEvent(out, Number(ctx[2]), ts, ctx[3]);
    return setMessage(out, rest.slice(ctx[0].length), ctx[1] as string, ts);
  }
  if (splitEventAt(rest, 0, out)) return setEvent(out, null, ts);
  const msg = /^([^\s:]+):\s?(.*)$/.exec(rest);
  if (msg) return setMessage(out, msg[2] as string, msg[1] as string, ts);
  return setMessage(out, rest, null, ts);
}

/** Convenience form for tests and cold paths: one object per line. */
export function parseLogLine(line: string): ParsedLine {
  const s = newScratch();
  switch (parseInto(line, s)) {
    case 'event': {
      const e: ParsedLine = { kind: 'event', name: s.name, args: s.args, tid: s.tid, ts: s.ts };
      if (s.threadName !== undefined) e.threadName = s.threadName;
      return e;
    }
    case 'message':
      return { kind: 'message', text: s.text, program: s.program, ts: s.ts };
    case 'unparsed':
      return { kind: 'unparsed', reason: s.reason };
    default:
      return { kind: 'blank' };
  }
}

/** What scanEventBytes found: an event line of one of the two timestamped forms, as positions in the bytes. */
export interface ByteEvent {
  /** The line's thread id; null for the ISO form, which has none (the reader may stamp one). */
  tid: number | null;
  ts: number;
  nameStart: number;
  nameEnd: number;
  /** The name's hash as splitEventAt takes it (for interning without a string). */
  nameHash: number;
  /** Arguments as offsets from the line's start (0, 0 when there are none, as parseInto gives). */
  argsAt: number;
  argsEnd: number;
}

export function newByteEvent(): ByteEvent {
  return { tid: 0, ts: 0, nameStart: 0, nameEnd: 0, nameHash: 0, argsAt: 0, argsEnd: 0 };
}

/**
 * The hot path of a gigabyte log, on the line's bytes (b[start, end), CR already stripped): a
 * `TID@sec.usec:name args` line (QEMU <= 10.0) or a `2026-12-04T18:23:34.486448Z name args` line
 * (QEMU >= 10.1), of plain ASCII without escape sequences. True when it is one, with exactly what
 * parseInto would give for it (tested line for line); false sends the line to parseInto as a
 * string (anything else: other prefixes, messages, non-ASCII, ANSI, damage).
 * `asciiNoEsc`: the caller checked that b holds no byte >= 0x80, no ESC (and no CR).
 */
export function scanEventBytes(b: Uint8Array, start: number, end: number, out: ByteEvent, asciiNoEsc = false): boolean {
  let i = start;
  let c = i < end ? (b[i] as number) : 0;
  if (!isDigit(c)) return false;
  let tid = 0;
  while (i < end && isDigit((c = b[i] as number))) {
    tid = tid * 10 + (c - 48);
    i++;
  }
  if (i >= end) return false;
  if (c === 64 /* @ */) {
    const secStart = ++i;
    let sec = 0;
    while (i < end && isDigit((c = b[i] as number))) {
      sec = sec * 10 + (c - 48);
      i++;
    }
    if (i === secStart || i >= end || c !== 46 /* . */) return false;
    const fracStart = ++i;
    let us = 0;
    while (i < end && isDigit((c = b[i] as number))) {
      if (i - fracStart < 6) us = us * 10 + (c - 48);
      i++;
    }
    for (let k = i - fracStart; k < 6; k++) us *= 10;
    if (i === fracStart || i >= end || c !== 58 /* : */) return false;
    out.tid = tid;
    out.ts = sec * 1e6 + us;
    return scanNameArgs(b, start, i + 1, end, out, asciiNoEsc);
  }
  // The ISO form: four digits (read above as `tid`: the year), then '-'.
  if (c !== 45 /* - */ || i - start !== 4) return false;
  const after = scanIsoTime(b, start, end, tid, out);
  if (after < 0) return false;
  out.tid = null;
  return scanNameArgs(b, start, after, end, out, asciiNoEsc);
}

/** Two digits at b[i] as a number, or -1. */
function twoDigits(b: Uint8Array, i: number): number {
  const hi = (b[i] as number) - 48;
  const lo = (b[i + 1] as number) - 48;
  return hi >= 0 && hi <= 9 && lo >= 0 && lo <= 9 ? hi * 10 + lo : -1;
}

// Date.UTC of the last minute met ("YYYY-MM-DDTHH:MM" as one number): events come in time order,
// so the date arithmetic runs once a minute, not once a line.
let isoMinuteKey = -1;
let isoMinuteMs = 0;

/**
 * The rest of `YYYY-MM-DDTHH:MM:SS[.fraction]Z ` after the year, as the string parser's ISO
 * regex and isoMicros read it: ts into `out`, and where the name starts, or -1 when it is not that.
 * Out-of-range fields (month 13, day 31 of a 30-day month, second 60, year 0050) are taken as
 * Date.UTC takes them, as the string parser does.
 */
function scanIsoTime(b: Uint8Array, start: number, end: number, year: number, out: ByteEvent): number {
  // Shortest form: 19 characters of date and time, 'Z', ' ', and a name's first letter.
  if (end - start < 22 || b[start + 7] !== 45 /* - */ || b[start + 10] !== 84 /* T */ || b[start + 13] !== 58 /* : */ || b[start + 16] !== 58) return -1;
  const mo = twoDigits(b, start + 5);
  const d = twoDigits(b, start + 8);
  const h = twoDigits(b, start + 11);
  const mi = twoDigits(b, start + 14);
  const s = twoDigits(b, start + 17);
  if ((mo | d | h | mi | s) < 0) return -1;
  let i = start + 19;
  let us = 0;
  let c = b[i] as number;
  if (c === 46 /* . */) {
    const fracStart = ++i;
    while (i < end && isDigit((c = b[i] as number))) {
      if (i - fracStart < 6) us = us * 10 + (c - 48);
      i++;
    }
    const digits = i - fracStart;
    if (digits === 0 || digits > 9) return -1; // the regex takes 1 to 9
    for (let k = digits; k < 6; k++) us *= 10;
  }
  if (c !== 90 /* Z */ || i + 1 >= end || b[i + 1] !== 32) return -1;
  const key = ((year * 100 + mo) * 100 + d) * 10000 + h * 100 + mi;
  if (key !== isoMinuteKey) {
    isoMinuteMs = Date.UTC(year, mo - 1, d, h, mi, 0);
    isoMinuteKey = key;
  }
  // Date.UTC is linear in its seconds: this is Date.UTC(year, mo - 1, d, h, mi, s), exactly (integers
  // far below 2^53), and the same arithmetic as isoMicros from there.
  const sec = (isoMinuteMs + s * 1000) / 1000;
  out.ts = sec * 1e6 + us;
  return i + 2;
}

// What a byte is inside an event name: 0 ends it, 1 a letter or digit, UNDERSCORE an underscore.
const UNDERSCORE = 2;
const NAME_CHAR = new Uint8Array(256);
for (let c = 0; c < 256; c++) NAME_CHAR[c] = c === 95 ? UNDERSCORE : isAlpha(c) || isDigit(c) ? 1 : 0;

/** `name args` from b[from] to the line's end, as splitEventAt reads it. */
export function scanNameArgs(b: Uint8Array, start: number, from: number, end: number, out: ByteEvent, asciiNoEsc: boolean): boolean {
  let i = from;
  let c = i < end ? (b[i] as number) : 0;
  if (!isAlpha(c)) return false;
  let h = c;
  let underscore = false;
  for (i++; i < end; i++) {
    c = b[i] as number;
    const k = NAME_CHAR[c] as number; // one load, not four range tests, per byte of the name
    if (k === 0) break;
    if (k === UNDERSCORE) underscore = true;
    h = (Math.imul(h, 31) + c) | 0;
  }
  if (!underscore || (i < end && b[i] !== 32)) return false;
  const nameEnd = i;
  // Arguments: trailing blanks trimmed; any byte that would make the string differ from the bytes
  // (non-ASCII) or send parseInto down its cleaning path (ESC) leaves the line to it.
  let e = end;
  while (e > i + 1 && (b[e - 1] as number) <= 32) e--;
  // (`asciiNoEsc`: the caller knows there are none in the whole batch.)
  if (!asciiNoEsc) {
    for (let k = i + 1; k < e; k++) {
      c = b[k] as number;
      if (c >= 0x80 || c === 0x1b) return false;
    }
  }
  out.nameStart = from - start;
  out.nameEnd = nameEnd - start;
  out.nameHash = h;
  if (i + 1 < e) {
    out.argsAt = i + 1 - start;
    out.argsEnd = e - start;
  } else {
    out.argsAt = 0;
    out.argsEnd = 0;
  }
  return true;
}

/**
 * Event names met as bytes (scanEventBytes' hash), each made a string once: a slot per hash,
 * checked byte for byte, so a collision costs a new string, never a wrong name.
 */
export const BYTE_NAME_SLOTS = NAME_SLOTS;

export class ByteNames {
  private readonly slots: string[] = new Array<string>(NAME_SLOTS).fill('');

  /** The name's string: the same string object for every event of that name while its slot holds it. */
  nameOf(b: Uint8Array, lineStart: number, e: ByteEvent): string {
    const slot = e.nameHash & (NAME_SLOTS - 1);
    const from = lineStart + e.nameStart;
    const to = lineStart + e.nameEnd;
    const cand = this.slots[slot] as string;
    if (sameAscii(cand, b, from, to)) return cand;
    // Internalized, as internName's: later Map lookups by it are pointer compares.
    const name = Object.keys({ [Buffer.from(b.buffer, b.byteOffset + from, to - from).toString('latin1')]: 0 })[0] as string;
    this.slots[slot] = name;
    return name;
  }
}

/** Whether b[from, to) holds exactly the ASCII string `name`. */
function sameAscii(name: string, b: Uint8Array, from: number, to: number): boolean {
  if (name.length !== to - from) return false;
  for (let k = 0; k < name.length; k++) if (name.charCodeAt(k) !== b[from + k]) return false;
  return true;
}

/**
 * Whether b[from, to) holds exactly the bytes `name` (an event name met before): byte loads on
 * both sides. Against a string's char codes (sameAscii) this compare was ~12% of a reader thread's
 * samples on the 1 GiB bench trace (profiled); the replay thread's own reads (ByteNames) showed no
 * difference, their cost being the records.
 */
export function sameBytes(name: Uint8Array, b: Uint8Array, from: number, to: number): boolean {
  if (name.length !== to - from) return false;
  for (let k = 0; k < name.length; k++) if (name[k] !== b[from + k]) return false;
  return true;
}
