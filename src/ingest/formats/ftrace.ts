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
import { newScratch, parseInto, type LineKind } from '../log-format.js';
import type { InputCounters, TraceFormat } from '../records.js';
import { textReads, secondsTextToMicros, wrappedEvent, type LineParser, type TextScratch } from './text-reader.js';

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
  ...textReads((counters) => ftraceParser(counters)),
};
