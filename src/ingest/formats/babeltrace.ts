// LTTng-UST `qemu:*` events (QEMU's `ust` backend, §F.4) as printed by babeltrace / babeltrace2
// (text.pretty sink):
//   [19:18:36.812345678] (+0.000012345) host qemu:postcopy_preempt_send_host_page: { cpu_id = 5 }, { vpid = 40001, vtid = 40123, procname = "mig/src/return" }, { str = "pc.ram", offset = 0x3A7 }
// The time is [hh:mm:ss.ns] by default, [YYYY-MM-DD hh:mm:ss.ns] with --clock-date, or
// [sec.ns] with --clock-seconds; the delta and the hostname may be absent. Blocks before the
// payload are contexts: vtid (thread), vpid (process), procname (thread name) appear only when
// they were added (`lttng add-context -u -t vtid -t vpid -t procname`). The payload holds the C
// arguments by name; with the build's trace-events file they are printed with the event's format,
// exactly as the log backend prints them; without it, as `name=value` pairs.
import { headLines } from '../records.js';
import type { LineKind } from '../log-format.js';
import type { InputCounters, TraceFormat } from '../records.js';
import { traceEventsFor, type TraceEvents } from '../trace-events.js';
import { formatPrintf } from './printf.js';
import { readTextRecords, secondsTextToMicros, type LineParser, type TextScratch } from './text-reader.js';

const LINE = /^\[([^\]]+)\]\s+(?:\([^)]*\)\s+)?(?:(\S+)\s+)?([^\s:]+):(\w+):\s*(\{.*)?$/;
const TIME_OF_DAY = /^(?:(\d{4})-(\d\d)-(\d\d)[ T])?(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?$/;
/** Fields of the LTTng contexts and headers (never QEMU payload in a context-only block). */
const CONTEXT_KEYS = new Set(['cpu_id', 'vpid', 'vtid', 'pid', 'tid', 'ppid', 'vppid', 'procname', 'pthread_id', 'ip', 'hostname', 'vuid', 'vgid', 'uid', 'gid', 'id', 'timestamp', 'v', 'packet_seq_num', 'events_discarded', 'content_size', 'packet_size', 'timestamp_begin', 'timestamp_end', 'stream_id']);
const DAY_US = 86400e6;

/** A number as babeltrace printed it: the value for printf, the text for name=value display. */
class Num {
  constructor(
    readonly v: number | bigint,
    readonly text: string,
  ) {}
}
type Value = string | Num | Value[] | Block;
type Block = Map<string, Value>;

/** A small reader for babeltrace's `{ k = v, ... }` text: numbers, strings, enums, arrays, structs. */
class BlockReader {
  i = 0;
  constructor(readonly s: string) {}
  ws(): void {
    while (this.i < this.s.length && (this.s[this.i] === ' ' || this.s[this.i] === '\t')) this.i++;
  }
  expect(c: string): void {
    this.ws();
    if (this.s[this.i] !== c) throw new Error(`expected '${c}' at column ${this.i + 1}`);
    this.i++;
  }
  blocks(): Block[] {
    const out: Block[] = [];
    for (;;) {
      this.ws();
      if (this.i >= this.s.length) return out;
      out.push(this.block());
      this.ws();
      if (this.s[this.i] === ',') this.i++;
    }
  }
  block(): Block {
    this.expect('{');
    const b: Block = new Map();
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return b;
    }
    for (;;) {
      this.ws();
      const m = /^[A-Za-z_][\w.]*/.exec(this.s.slice(this.i, this.i + 256));
      if (!m) throw new Error(`expected a field name at column ${this.i + 1}`);
      this.i += m[0].length;
      this.expect('=');
      b.set(m[0], this.value());
      this.ws();
      const c = this.s[this.i++];
      if (c === '}') return b;
      if (c !== ',') throw new Error(`expected ',' or '}' at column ${this.i}`);
    }
  }
  value(): Value {
    this.ws();
    const c = this.s[this.i];
    if (c === '"') return this.string();
    if (c === '{') return this.block();
    if (c === '[') {
      // [ [0] = v, [1] = v ] (arrays and sequences)
      this.i++;
      const arr: Value[] = [];
      for (;;) {
        this.ws();
        if (this.s[this.i] === ']') {
          this.i++;
          return arr;
        }
        if (this.s[this.i] === '[') {
          const close = this.s.indexOf(']', this.i);
          this.i = close + 1;
          this.expect('=');
        }
        arr.push(this.value());
        this.ws();
        if (this.s[this.i] === ',') this.i++;
      }
    }
    if (c === '(') {
      // enum: ( "LABEL" : container = 3 ) → the label
      const close = this.s.indexOf(')', this.i);
      if (close < 0) throw new Error(`unterminated enum at column ${this.i + 1}`);
      const inner = this.s.slice(this.i + 1, close);
      this.i = close + 1;
      const label = /"((?:[^"\\]|\\.)*)"/.exec(inner);
      return label ? label[1]! : inner.trim();
    }
    const m = /^[^,}\]\s]+/.exec(this.s.slice(this.i, this.i + 256));
    if (!m) throw new Error(`expected a value at column ${this.i + 1}`);
    this.i += m[0].length;
    const t = m[0];
    if (/^-?\d+$/.test(t) || /^0x[0-9a-f]+$/i.test(t)) return new Num(Number.isSafeInteger(Number(t)) ? Number(t) : BigInt(t), t);
    if (/^0[0-7]+$/.test(t)) return new Num(parseInt(t, 8), t);
    if (/^0b[01]+$/.test(t)) return new Num(Number(t), t);
    const f = Number(t);
    return Number.isNaN(f) ? t : new Num(f, t);
  }
  string(): string {
    this.i++;
    let out = '';
    while (this.i < this.s.length) {
      const c = this.s[this.i++]!;
      if (c === '"') return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.s[this.i++];
      out += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e === '0' ? '\0' : (e ?? '');
    }
    throw new Error('unterminated string');
  }
}

function scalarText(v: Value): string {
  if (v instanceof Map) return `{ ${[...v].map(([k, x]) => `${k} = ${scalarText(x)}`).join(', ')} }`;
  if (Array.isArray(v)) return `[${v.map(scalarText).join(', ')}]`;
  if (v instanceof Num) return v.text;
  return v;
}

function intOf(v: Value | undefined): number | undefined {
  return v instanceof Num && typeof v.v === 'number' && Number.isSafeInteger(v.v) ? v.v : undefined;
}

function babeltraceParser(te: TraceEvents | null, counters: InputCounters): LineParser {
  let lastUs: number | null = null;
  let dayOffset = 0;
  let undeclared = 0;
  let otherProviders = 0;
  return {
    parse(line: string, s: TextScratch): LineKind {
      if (!line.trim()) {
        s.kind = 'blank';
        return 'blank';
      }
      const m = LINE.exec(line);
      if (!m) {
        s.kind = 'unparsed';
        s.reason = 'not a babeltrace line (expected: [time] (+delta) host provider:event: { fields })';
        return 'unparsed';
      }
      let ts: number | null;
      const clock = m[1]!.trim();
      const tod = TIME_OF_DAY.exec(clock);
      if (tod) {
        const frac = secondsTextToMicros(`0.${tod[7] ?? '0'}`) ?? 0;
        const base = tod[1] ? Date.UTC(+tod[1], +tod[2]! - 1, +tod[3]!) * 1000 : 0;
        ts = base + ((+tod[4]! * 60 + +tod[5]!) * 60 + +tod[6]!) * 1e6 + frac;
        // A time of day without a date wraps at midnight: keep the clock going forward.
        if (!tod[1]) {
          ts += dayOffset;
          if (lastUs !== null && ts < lastUs - DAY_US / 2) {
            dayOffset += DAY_US;
            ts += DAY_US;
          }
        }
      } else ts = secondsTextToMicros(clock);
      if (ts !== null) lastUs = ts;
      const provider = m[3]!;
      const event = m[4]!;
      let blocks: Block[];
      try {
        blocks = m[5] ? new BlockReader(m[5]).blocks() : [];
      } catch (e) {
        s.kind = 'unparsed';
        s.reason = `malformed field list: ${(e as Error).message}`;
        return 'unparsed';
      }
      const def = te?.events.get(event);
      const declared = def ? new Set(def.args.map((a) => a.name)) : null;
      // The payload is the last block that is not a pure context block (or the one whose fields are
      // exactly the declared arguments).
      let payload: Block = new Map();
      const ctx: Block = new Map();
      for (let k = 0; k < blocks.length; k++) {
        const b = blocks[k]!;
        const keys = [...b.keys()];
        const isPayload =
          declared && keys.length === declared.size && keys.every((x) => declared.has(x)) ? true : keys.length > 0 && keys.every((x) => CONTEXT_KEYS.has(x)) ? false : k === blocks.length - 1;
        if (isPayload) payload = b;
        else for (const [key, v] of b) ctx.set(key, v);
      }
      const tid = intOf(ctx.get('vtid')) ?? intOf(ctx.get('tid')) ?? null;
      const pid = intOf(ctx.get('vpid')) ?? intOf(ctx.get('pid'));
      const procname = ctx.get('procname');
      if (provider !== 'qemu') {
        otherProviders++;
        s.kind = 'message';
        s.text = `${provider}:${event}: ${m[5] ?? ''}`;
        s.program = typeof procname === 'string' ? procname : provider;
        s.ts = ts;
        return 'message';
      }
      let args: string;
      if (def && def.args.every((a) => payload.has(a.name))) {
        const vals = def.args.map((a) => {
          const v = payload.get(a.name)!;
          return v instanceof Num ? v.v : typeof v === 'string' ? v : scalarText(v);
        });
        args = formatPrintf(def.pieces, vals).trimEnd();
      } else {
        if (te) undeclared++;
        args = [...payload].map(([k, v]) => `${k}=${scalarText(v)}`).join(' ');
      }
      s.kind = 'event';
      s.name = event;
      s.args = args;
      s.tid = tid;
      s.ts = ts;
      s.threadName = typeof procname === 'string' ? procname : undefined;
      s.pid = pid;
      return 'event';
    },
    notes() {
      const n: string[] = [];
      if (te) n.push(`arguments printed with the formats of ${te.path}`);
      else n.push('no trace-events file (give --trace-events FILE, or put trace-events-all beside the trace): arguments shown as name=value pairs, so argument-matching catalog rows may not apply');
      if (undeclared) n.push(`${undeclared} events not declared (or with other fields) in the trace-events file: shown as name=value pairs`);
      if (otherProviders) n.push(`${otherProviders} events of other providers kept as context`);
      if (counters.events > 0 && counters.eventsWithoutTid === counters.events) n.push('no vtid context: add `lttng add-context -u -t vtid -t vpid -t procname` for thread ids');
      return n;
    },
  };
}

export const BABELTRACE_FORMAT: TraceFormat = {
  name: 'babeltrace',
  describe: "LTTng-UST 'qemu:*' events (QEMU 'ust' backend) printed by babeltrace/babeltrace2: [time] (+delta) host qemu:event: { vtid = N, ... }, { args }",
  threadIds: true,
  detect(head) {
    const lines = headLines(head);
    if (lines.length === 0) return 0;
    return lines.filter((l) => LINE.test(l)).length / lines.length;
  },
  async *read(path, input, side, counters, opts) {
    const te = await traceEventsFor(path, opts.traceEvents);
    yield* readTextRecords(path, input, side, counters, opts, babeltraceParser(te, counters));
  },
};
