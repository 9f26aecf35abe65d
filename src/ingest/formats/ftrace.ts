// QEMU's `ftrace` backend (§F.3) as text read from tracefs `trace`/`trace_pipe`, or printed by
// `trace-cmd report`. QEMU writes "name args" into trace_marker; the kernel prints it as
//   mig/src/return-40123   [005] .....  8123.456789: tracing_mark_write: postcopy_preempt_send_host_page ...
//   mig/src/return-40123   (  40001) [005] d..1.  8123.456789: tracing_mark_write: ...   (options/record-tgid)
//   qemu-system-x86-40001 [000]  8123.460000: print:                tracing_mark_write: migration_cleanup   (trace-cmd report)
// The task comm may hold spaces, slashes and dashes (`CPU 0/KVM`, `mig/src/main`); the task pid is
// the thread id; the TGID column, when present, is the process. Flags are 4 or 5 characters, or
// absent (irq-info=0, trace-cmd). Timestamps are kernel trace-clock seconds. Kernel events in the
// same buffer (kvm_*, sched_*) are kept as context: messages, not errors. `[LOST n EVENTS]` lines
// are the ring buffer overwriting events: counted as dropped.
import { newScratch, parseInto, scanNameArgs, type ByteEvent, type LineKind } from '../log-format.js';
import { newCounters, type InputCounters, type TraceFormat } from '../records.js';
import { newTextScratch, textReads, secondsTextToMicros, wrappedEvent, type LineParser, type TextScratch } from './text-reader.js';

const LINE = /^\s*(.+?)-(\d+)\s+(?:\(\s*(\d+|-+)\s*\)\s+)?\[(\d+)\]\s+(?:[^\s[\]]{4,5}\s+)?(\d+\.\d+):\s+([\w:.-]+?):\s?(.*)$/;
const LOST = /^\s*CPU:?\s*(\d+)\s*\[(?:LOST (\d+) EVENTS|(\d+) EVENTS DROPPED)\]\s*$/;
/** trace-cmd report's preamble. */
const PREAMBLE = /^(cpus=\d+|version = \d+|CPU \d+ is empty|trace-cmd: .*|\s*$)/;
const MARK_PREFIX = /^\s*(?:[0-9a-f]{8,16}\s+)?(?:\$?tracing_mark_write:\s?)?/;

function ftraceParser(counters: InputCounters): LineParser & { kernel: number } {
  const inner = newScratch();
  const self = {
    kernel: 0,
    parse(line: string, s: TextScratch): LineKind {
      if (line.startsWith('#')) {
        s.kind = 'blank';
        return 'blank';
      }
      const m = LINE.exec(line);
      if (!m) {
        const lost = LOST.exec(line);
        if (lost) {
          s.dropped = Number(lost[2] ?? lost[3]);
          s.kind = 'message';
          s.text = line.trim();
          s.program = 'ftrace';
          s.ts = null;
          return 'message';
        }
        if (PREAMBLE.test(line)) {
          s.kind = 'blank';
          return 'blank';
        }
        s.kind = 'unparsed';
        s.reason = 'not an ftrace line (expected: comm-TID [CPU] flags seconds: event: text)';
        return 'unparsed';
      }
      const comm = m[1]!;
      const tid = Number(m[2]);
      const tgid = m[3] && m[3].charCodeAt(0) !== 45 /* '-' */ ? Number(m[3]) : undefined; // (\d+|-+)
      const ts = secondsTextToMicros(m[5]!);
      const event = m[6]!;
      const rest = m[7]!;
      let payload: string | null = null;
      if (event === 'tracing_mark_write') payload = rest;
      else if (event === 'print') payload = rest.replace(MARK_PREFIX, '');
      if (payload !== null && parseInto(payload, inner) === 'event' && inner.tid === null && inner.ts === null) return wrappedEvent(s, inner, tid, ts, comm, tgid);
      // A kernel event, or a marker write that is not a QEMU trace event: context.
      if (payload === null) self.kernel++;
      s.kind = 'message';
      s.text = payload ?? `${event}: ${rest}`;
      s.program = comm;
      s.ts = ts;
      return 'message';
    },
    notes(): string[] {
      const n: string[] = [];
      if (self.kernel) n.push(`${self.kernel} kernel events (kvm_*, sched_*, ...) kept as context, not as trace events`);
      if (counters.dropped) n.push(`the ftrace ring buffer lost ${counters.dropped} events (LOST/DROPPED lines): verdicts over those stretches cannot be trusted`);
      return n;
    },
  };
  return self;
}

const MARK = Buffer.from('tracing_mark_write:');

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Spaces and tabs from i; -1 when another whitespace byte (\v \f \r) is there (the regex decides). */
function skipBlanks(b: Uint8Array, i: number, end: number): number {
  for (; i < end; i++) {
    const c = b[i] as number;
    if (c === 32 || c === 9) continue;
    return c === 11 || c === 12 || c === 13 ? -1 : i;
  }
  return i;
}

/**
 * The common line of the replay's reads as bytes: a tracefs `tracing_mark_write:` line whose
 * payload is QEMU's bare `name args`, of plain ASCII. True only where LINE and parseInto would give
 * the same event (thread id, time, name, arguments; tested line for line against them): each
 * choice below is the one the regex tries first, and anything it would have to backtrack over
 * (or any other shape: print:, kernel events, LOST) returns false, and the line goes to the
 * parser as a string. The thread name and TGID are not taken: the replay does not use them (the
 * reads that show them, convert and timeline, parse every line).
 */
export function scanFtraceBytes(b: Uint8Array, start: number, end: number, out: ByteEvent, asciiNoEsc: boolean): boolean {
  // No CR (the regex's `.` stops there) and no non-ASCII byte, unless the batch is known to have none.
  if (!asciiNoEsc) {
    for (let k = start; k < end; k++) {
      const c = b[k] as number;
      if (c === 13 || c >= 0x80) return false;
    }
  }
  let i = skipBlanks(b, start, end);
  if (i < 0 || i >= end || b[i] === 45 /* - */ || b[i] === 35 /* # */) return false;
  // comm-TID: the first '-digits' followed by whitespace (the lazy comm's first candidate).
  let tid = -1;
  for (let k = i + 1; k < end; k++) {
    if (b[k] !== 45 || !isDigit(b[k + 1] as number)) continue;
    let j = k + 1;
    let v = 0;
    while (j < end && isDigit(b[j] as number)) v = v * 10 + ((b[j++] as number) - 48);
    const c = b[j] as number;
    if (j < end && (c === 32 || c === 9 || c === 11 || c === 12)) {
      if (c !== 32 && c !== 9) return false;
      if (j - k - 1 > 15) return false; // beyond exact integers: as Number() rounds
      tid = v;
      i = j;
      break;
    }
  }
  if (tid < 0) return false;
  i = skipBlanks(b, i, end);
  if (i < 0 || i >= end) return false;
  if (b[i] === 40 /* ( */) {
    // (TGID): digits or dashes, blanks inside.
    i = skipBlanks(b, i + 1, end);
    if (i < 0) return false;
    const from = i;
    const dash = b[i] === 45;
    while (i < end && (dash ? b[i] === 45 : isDigit(b[i] as number))) i++;
    if (i === from) return false;
    i = skipBlanks(b, i, end);
    if (i < 0 || b[i] !== 41 /* ) */) return false;
    const after = skipBlanks(b, i + 1, end);
    if (after < 0 || after === i + 1) return false;
    i = after;
  }
  // [CPU]
  if (b[i] !== 91 /* [ */ || !isDigit(b[i + 1] as number)) return false;
  i++;
  while (i < end && isDigit(b[i] as number)) i++;
  if (b[i] !== 93 /* ] */) return false;
  let after = skipBlanks(b, i + 1, end);
  if (after < 0 || after === i + 1) return false;
  i = after;
  // Flags: a token of 4 or 5 characters followed by whitespace (else there are none).
  let t = i;
  while (t < end && b[t] !== 32 && b[t] !== 9 && (b[t] as number) > 13) t++;
  if ((t - i === 4 || t - i === 5) && t < end && (b[t] === 32 || b[t] === 9)) {
    for (let k = i; k < t; k++) if (b[k] === 91 || b[k] === 93 || (b[k] as number) <= 32) return false;
    after = skipBlanks(b, t, end);
    if (after < 0) return false;
    i = after;
  }
  // sec.frac: as secondsTextToMicros reads it.
  const intStart = i;
  let whole = 0;
  while (i < end && isDigit(b[i] as number)) whole = whole * 10 + ((b[i++] as number) - 48);
  if (i === intStart || i - intStart > 15 || b[i] !== 46 /* . */) return false;
  const fracStart = ++i;
  let f = 0;
  let digits = 0;
  while (i < end && isDigit(b[i] as number)) {
    if (digits < 9) {
      f = f * 10 + ((b[i] as number) - 48);
      digits++;
    }
    i++;
  }
  if (i === fracStart || b[i] !== 58 /* : */) return false;
  for (; digits < 9; digits++) f *= 10;
  after = skipBlanks(b, i + 1, end);
  if (after < 0 || after === i + 1) return false;
  i = after;
  // The event: tracing_mark_write, then one optional blank, then QEMU's `name args`.
  if (end - i < MARK.length) return false;
  for (let k = 0; k < MARK.length; k++) if (b[i + k] !== MARK[k]) return false;
  i += MARK.length;
  if (i < end && (b[i] === 32 || b[i] === 9 || b[i] === 11 || b[i] === 12)) i++;
  if (!scanNameArgs(b, start, i, end, out, asciiNoEsc)) return false;
  out.tid = tid;
  out.ts = whole * 1e6 + f / 1000;
  return true;
}

export const FTRACE_FORMAT: TraceFormat = {
  name: 'ftrace',
  describe: "QEMU 'ftrace' trace backend as text from tracefs trace/trace_pipe or `trace-cmd report` (--enable-trace-backends=ftrace): task comm-TID [CPU] seconds: tracing_mark_write: event args",
  threadIds: true,
  detect(head) {
    const lines = head.toString('utf8').split('\n').slice(0, 200);
    let hits = 0;
    let n = 0;
    let header = false;
    for (const l of lines) {
      if (l.startsWith('# tracer:')) header = true;
      if (!l.trim() || l.startsWith('#') || PREAMBLE.test(l)) continue;
      n++;
      if (LINE.test(l)) hits++;
    }
    if (n === 0) return header ? 0.9 : 0;
    return Math.min(1, hits / n + (header ? 0.1 : 0));
  },
  lineEvent(line) {
    const s = newTextScratch();
    return ftraceParser(newCounters('')).parse(line, s) === 'event' ? { name: s.name, tid: s.tid } : null;
  },
  // Its common line is scanned as bytes, and left in a plain file until a report reads it back (lineEvent).
  ...textReads((counters) => ftraceParser(counters), scanFtraceBytes),
};
