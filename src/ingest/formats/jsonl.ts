// migtrace's own normalized events as JSON Lines (what `migtrace convert --to jsonl` writes), one
// object per line:
//   {"ts":1795636379.825007,"tid":8619,"pid":8619,"side":"src","event":"qio_channel_socket_new","args":"Socket new ioc=0x562e1ac49660","thread":"qemu-system-x86"}
//   {"ts":1795636379.9,"message":"Detected IO failure for postcopy. Migration paused.","program":"qemu-system-x86_64"}
// ts is seconds (number or decimal string; null when unknown) in whatever clock the trace was
// taken with; tid is the thread id or null; pid, side, thread and program are optional.
import type { LineKind } from '../log-format.js';
import type { TraceFormat } from '../records.js';
import { textReads, secondsTextToMicros, type LineParser, type TextScratch } from './text-reader.js';

/** Seconds (JSON number) → µs: exact µs for epoch times, ns kept for small (monotonic) clocks. */
export function secondsToMicros(s: number): number {
  return Math.abs(s) < 9e6 ? Math.round(s * 1e9) / 1e3 : Math.round(s * 1e6);
}

function tsOf(v: unknown): number | null | undefined {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? secondsToMicros(v) : undefined;
  if (typeof v === 'string') return v.trim() === '' ? null : (secondsTextToMicros(v.trim()) ?? undefined);
  return undefined;
}

function intOrNull(v: unknown): number | null | undefined {
  if (v === null || v === undefined || v === '') return null;
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function unparsed(s: TextScratch, reason: string): LineKind {
  s.kind = 'unparsed';
  s.reason = reason;
  return 'unparsed';
}

const jsonlParser: LineParser = {
  parse(line: string, s: TextScratch): LineKind {
    const t = line.trim();
    if (t === '') {
      s.kind = 'blank';
      return 'blank';
    }
    let o: unknown;
    try {
      o = JSON.parse(t);
    } catch (e) {
      return unparsed(s, `not JSON (${(e as Error).message})`);
    }
    if (typeof o !== 'object' || o === null || Array.isArray(o)) return unparsed(s, 'not a JSON object');
    const r = o as Record<string, unknown>;
    const ts = tsOf(r.ts);
    if (ts === undefined) return unparsed(s, `"ts" must be seconds (a number), or null`);
    if (typeof r.message === 'string' && r.event === undefined) {
      s.kind = 'message';
      s.text = r.message;
      s.program = typeof r.program === 'string' ? r.program : null;
      s.ts = ts;
      return 'message';
    }
    if (typeof r.event !== 'string' || !/^[A-Za-z_]\w*$/.test(r.event)) return unparsed(s, '"event" must be an event name (or give "message")');
    const tid = intOrNull(r.tid);
    if (tid === undefined) return unparsed(s, '"tid" must be a thread id (integer) or null');
    const pid = intOrNull(r.pid);
    if (pid === undefined) return unparsed(s, '"pid" must be a process id (integer) or null');
    if (r.args !== undefined && r.args !== null && typeof r.args !== 'string') return unparsed(s, '"args" must be the argument text (a string)');
    if (r.side !== undefined && r.side !== null && r.side !== 'src' && r.side !== 'dst') return unparsed(s, '"side" must be "src", "dst" or null');
    s.kind = 'event';
    s.name = r.event;
    s.args = typeof r.args === 'string' ? r.args : '';
    s.tid = tid;
    s.ts = ts;
    s.threadName = typeof r.thread === 'string' ? r.thread : undefined;
    s.pid = pid ?? undefined;
    s.side = r.side === 'src' || r.side === 'dst' ? r.side : undefined;
    return 'event';
  },
};

export const JSONL_FORMAT: TraceFormat = {
  name: 'jsonl',
  describe: 'migtrace normalized events, JSON Lines (migtrace convert --to jsonl): {"ts":sec,"tid":N,"pid":N,"side":"src","event":"name","args":"text","thread":"name"}',
  threadIds: true,
  detect(head) {
    const lines = head.toString('utf8').split('\n');
    if (head.length >= 65536) lines.pop(); // the last line may be cut
    let n = 0;
    let ok = 0;
    for (const l of lines.slice(0, 200)) {
      const t = l.trim();
      if (!t) continue;
      n++;
      if (!t.startsWith('{')) continue;
      try {
        const o = JSON.parse(t) as Record<string, unknown>;
        if (typeof o === 'object' && o !== null && ('event' in o || 'message' in o)) ok++;
      } catch {
        // not this format
      }
    }
    return n === 0 ? 0 : ok / n;
  },
  ...textReads(() => jsonlParser),
};
