// QEMU's `syslog` trace backend (§F.5): syslog(LOG_INFO, "name fmt", ...) with LOG_PID, as a
// syslog daemon or journalctl writes it:
//   Nov 25 18:57:01 host qemu-system-x86_64[40001]: postcopy_preempt_thread_entry           (BSD, rsyslog traditional)
//   Nov 25 18:57:01.123456 host qemu-system-x86_64[40001]: ...                              (journalctl -o short-precise)
//   2025-11-25T18:57:01.123456+00:00 host qemu-system-x86_64[40001]: ...                    (rsyslog RFC 3339, journalctl -o short-iso-precise)
//   <14>1 2025-11-25T18:57:01.123456Z host qemu-system-x86_64 40001 - - ...                 (RFC 5424)
// [40001] is getpid(): the process, never the thread (no thread ids). BSD timestamps have no year
// (the current UTC year is assumed, and a jump back of half a year is read as a new year) and no
// zone (read as UTC); syslog may also squash repeated lines and rate-limit. Lines of programs
// whose name does not contain "qemu" are kept as context (messages).
import { headLines } from '../records.js';
import { newScratch, parseInto, type LineKind } from '../log-format.js';
import type { TraceFormat } from '../records.js';
import { textReads, wrappedEvent, type LineParser, type TextScratch } from './text-reader.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const BSD = /^([A-Z][a-z]{2}) ([ \d]\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))? (\S+) ([^\s[:]+)(?:\[(\d+)\])?: ?(.*)$/;
const ISO = /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:?\d\d)? (\S+) ([^\s[:]+)(?:\[(\d+)\])?: ?(.*)$/;
const RFC5424 = /^<\d{1,3}>1 (\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d) (\S+) (\S+) (\S+) \S+ (?:-|(?:\[(?:[^\]\\]|\\.)*\])+) ?(.*)$/;
const HALF_YEAR_US = 183 * 86400e6;

function fracMicros(f: string | undefined): number {
  return f ? Number(f.slice(0, 9).padEnd(9, '0')) / 1000 : 0;
}

function zoneMicros(z: string | undefined): number {
  if (!z || z === 'Z') return 0;
  const m = /^([+-])(\d\d):?(\d\d)$/.exec(z);
  if (!m) return 0;
  return (m[1] === '-' ? -1 : 1) * (+m[2]! * 60 + +m[3]!) * 60e6;
}

function syslogParser(): LineParser {
  const inner = newScratch();
  let year = new Date().getUTCFullYear();
  let lastUs: number | null = null;
  let others = 0;
  return {
    parse(line: string, s: TextScratch): LineKind {
      if (!line.trim()) {
        s.kind = 'blank';
        return 'blank';
      }
      let ts: number;
      let program: string;
      let pid: number | undefined;
      let msg: string;
      let m = RFC5424.exec(line);
      if (m) {
        ts = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) * 1000 + fracMicros(m[7]) - zoneMicros(m[8]);
        program = m[10]!;
        pid = /^\d+$/.test(m[11]!) ? Number(m[11]) : undefined;
        msg = m[12]!;
      } else if ((m = ISO.exec(line))) {
        ts = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) * 1000 + fracMicros(m[7]) - zoneMicros(m[8]);
        program = m[10]!;
        pid = m[11] ? Number(m[11]) : undefined;
        msg = m[12]!;
      } else if ((m = BSD.exec(line))) {
        const mon = MONTHS.indexOf(m[1]!);
        if (mon < 0) return unparsed(s);
        ts = Date.UTC(year, mon, +m[2]!.trim(), +m[3]!, +m[4]!, +m[5]!) * 1000 + fracMicros(m[6]);
        if (lastUs !== null && ts < lastUs - HALF_YEAR_US) {
          year++;
          ts = Date.UTC(year, mon, +m[2]!.trim(), +m[3]!, +m[4]!, +m[5]!) * 1000 + fracMicros(m[6]);
        }
        program = m[8]!;
        pid = m[9] ? Number(m[9]) : undefined;
        msg = m[10]!;
      } else return unparsed(s);
      lastUs = ts;
      const fromQemu = /qemu/i.test(program);
      if (fromQemu && parseInto(msg, inner) === 'event' && inner.tid === null && inner.ts === null) return wrappedEvent(s, inner, null, ts, undefined, pid);
      if (!fromQemu) others++;
      s.kind = 'message';
      s.text = msg;
      s.program = program;
      s.ts = ts;
      return 'message';
    },
    notes() {
      const n = ['syslog carries the process id only (no thread ids)'];
      if (others) n.push(`${others} lines of other programs kept as context`);
      return n;
    },
  };
}

function unparsed(s: TextScratch): LineKind {
  s.kind = 'unparsed';
  s.reason = 'not a syslog line (expected: time host program[pid]: message)';
  return 'unparsed';
}

export const SYSLOG_FORMAT: TraceFormat = {
  name: 'syslog',
  describe: "QEMU 'syslog' trace backend as written by a syslog daemon or journalctl (--enable-trace-backends=syslog): time host qemu-system-x86_64[PID]: event args (process id only)",
  threadIds: false,
  detect(head) {
    const lines = headLines(head);
    if (lines.length === 0) return 0;
    // Only lines of a QEMU program count: a syslog file of other programs is not a trace.
    const qemu = lines.filter((l) => {
      const m = RFC5424.exec(l) ?? ISO.exec(l) ?? BSD.exec(l);
      return m !== null && /qemu/i.test(l.slice(0, 200));
    }).length;
    return qemu === 0 ? 0 : Math.min(1, (qemu / lines.length) * 0.95 + 0.05);
  },
  ...textReads(() => syslogParser()),
};
