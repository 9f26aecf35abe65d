// QEMU's `log` trace backend, one line at a time (§F.1 of the model reference):
//   TID@sec.usec:name args            (-msg timestamp=on, QEMU <= 10.0)
//   name args                         (no -msg timestamp=on)
//   2025-07-21T18:43:28.089815Z name args      (-msg timestamp=on, QEMU >= 10.1: no TID)
//   prog(TID:threadname): name args   (proposed message-context prefix)
// and error_report() lines QEMU writes into the same stream, e.g.
//   2023-04-12T19:18:35.123456Z qemu-system-x86_64: Detected IO failure for postcopy. Migration paused.
// Empty-format events end with a trailing space; it is not part of the arguments.

export type ParsedLine =
  | { kind: 'event'; name: string; args: string; tid: number | null; ts: number | null; threadName?: string }
  | { kind: 'message'; text: string; program: string | null; ts: number | null }
  | { kind: 'unparsed'; reason: string }
  | { kind: 'blank' };

const ISO = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z /;
const PROGRAM_CTX = /^([\w./-]+)\((\d+)(?::([^)]*))?\): /;
const PROGRAM_MSG = /^([\w./-]*qemu[\w./-]*):\s?(.*)$/i;
// An event name: an identifier with at least one underscore (every QEMU trace event has one),
// which keeps prose and garbage from being taken for bare events.
const EVENT = /^([A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]*)(?: (.*))?$/;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Microseconds since the epoch from "sec" and the fractional digits after the dot. */
function micros(sec: number, frac: string): number {
  const us = frac.length >= 6 ? Number(frac.slice(0, 6)) : Number(frac.padEnd(6, '0'));
  return sec * 1e6 + us;
}

function splitEvent(rest: string): { name: string; args: string } | null {
  const m = EVENT.exec(rest);
  if (!m) return null;
  return { name: m[1] as string, args: (m[2] ?? '').trimEnd() };
}

export function parseLogLine(line: string): ParsedLine {
  if (line.length === 0 || line.trim().length === 0) return { kind: 'blank' };
  const c0 = line.charCodeAt(0);

  if (isDigit(c0)) {
    // TID@sec.usec:name args — scanned by hand: this is the hot path on gigabyte traces.
    let i = 0;
    while (i < line.length && isDigit(line.charCodeAt(i))) i++;
    if (line.charCodeAt(i) === 64 /* @ */) {
      const tid = Number(line.slice(0, i));
      const secStart = ++i;
      while (i < line.length && isDigit(line.charCodeAt(i))) i++;
      const secEnd = i;
      if (secEnd > secStart && line.charCodeAt(i) === 46 /* . */) {
        const fracStart = ++i;
        while (i < line.length && isDigit(line.charCodeAt(i))) i++;
        if (i > fracStart && line.charCodeAt(i) === 58 /* : */) {
          const ev = splitEvent(line.slice(i + 1));
          if (!ev) return { kind: 'unparsed', reason: 'TID@sec.usec: prefix not followed by an event name' };
          const ts = micros(Number(line.slice(secStart, secEnd)), line.slice(fracStart, i));
          return { kind: 'event', name: ev.name, args: ev.args, tid, ts };
        }
      }
      return { kind: 'unparsed', reason: 'malformed TID@sec.usec: prefix' };
    }
    const iso = ISO.exec(line);
    if (iso) return parseAfterIso(line.slice(iso[0].length), isoMicros(iso));
    return { kind: 'unparsed', reason: 'not a trace event or QEMU message' };
  }

  const ctx = PROGRAM_CTX.exec(line);
  if (ctx) {
    const ev = splitEvent(line.slice(ctx[0].length));
    if (ev) return { kind: 'event', name: ev.name, args: ev.args, tid: Number(ctx[2]), ts: null, threadName: ctx[3] };
    return { kind: 'message', text: line.slice(ctx[0].length), program: ctx[1] as string, ts: null };
  }
  const msg = PROGRAM_MSG.exec(line);
  if (msg) return { kind: 'message', text: msg[2] as string, program: msg[1] as string, ts: null };
  const ev = splitEvent(line);
  if (ev) return { kind: 'event', name: ev.name, args: ev.args, tid: null, ts: null };
  return { kind: 'unparsed', reason: 'not a trace event or QEMU message' };
}

function isoMicros(m: RegExpExecArray): number {
  const sec = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) / 1000;
  return micros(sec, m[7] ?? '');
}

function parseAfterIso(rest: string, ts: number): ParsedLine {
  const ctx = PROGRAM_CTX.exec(rest);
  if (ctx) {
    const ev = splitEvent(rest.slice(ctx[0].length));
    if (ev) return { kind: 'event', name: ev.name, args: ev.args, tid: Number(ctx[2]), ts, threadName: ctx[3] };
    return { kind: 'message', text: rest.slice(ctx[0].length), program: ctx[1] as string, ts };
  }
  const ev = splitEvent(rest);
  if (ev) return { kind: 'event', name: ev.name, args: ev.args, tid: null, ts };
  const msg = /^([^\s:]+):\s?(.*)$/.exec(rest);
  if (msg) return { kind: 'message', text: msg[2] as string, program: msg[1] as string, ts };
  return { kind: 'message', text: rest, program: null, ts };
}
