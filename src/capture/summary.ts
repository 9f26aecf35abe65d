// Summaries written into meta.json: per-log line and event counts (so a reader sees at once
// whether an event fired), and what the guest said on its serial console.
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';

export interface LogSummary {
  bytes: number;
  lines: number;
  /** Lines that are not `TID@sec.usec:event` trace records (error_report output, model §F.1). */
  non_trace_lines: number;
  events: Record<string, number>;
  lines_per_tid: Record<string, number>;
  /** combined.log only: trace lines per process (src, dst, dst1, dst2; `unknown` for TIDs the
   *  /proc sampling never saw). */
  lines_per_process?: Record<string, number>;
}

const TRACE_LINE = /^(\d+)@\d+\.\d{6}:(\w+)/;

export async function summarizeTraceLog(path: string): Promise<LogSummary | null> {
  if (!existsSync(path)) return null;
  const events = new Map<string, number>();
  const perTid = new Map<string, number>();
  let lines = 0;
  let nonTrace = 0;
  const rl = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  for await (const line of rl) {
    if (line === '') continue;
    lines++;
    const m = TRACE_LINE.exec(line);
    if (!m) {
      nonTrace++;
      continue;
    }
    const [, tid = '', name = ''] = m;
    events.set(name, (events.get(name) ?? 0) + 1);
    perTid.set(tid, (perTid.get(tid) ?? 0) + 1);
  }
  const sorted = (m: Map<string, number>): Record<string, number> =>
    Object.fromEntries([...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { bytes: statSync(path).size, lines, non_trace_lines: nonTrace, events: sorted(events), lines_per_tid: sorted(perTid) };
}

export interface SerialSummary {
  /** The guest's boot line, when this side booted it (the source). */
  boot: string | null;
  heartbeats: number;
  /** [t, sweep, bad] of the last `hb` line, as strings (the shared runs' format). */
  last_heartbeat: [string, string, string] | null;
  BAD_lines: number;
}

export function summarizeSerial(path: string): SerialSummary | null {
  if (!existsSync(path)) return null;
  let boot: string | null = null;
  let heartbeats = 0;
  let last: [string, string, string] | null = null;
  let bad = 0;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.startsWith('dirtier:')) boot = line.trim();
    const m = /^hb t=(\d+) sweep=(\d+) bad=(\d+)/.exec(line);
    if (m) {
      heartbeats++;
      last = [m[1] ?? '', m[2] ?? '', m[3] ?? ''];
    }
    if (line.startsWith('BAD ')) bad++;
  }
  return { boot, heartbeats, last_heartbeat: last, BAD_lines: bad };
}

/**
 * One sentence on the guest after migration: it must have kept running on the destination
 * (heartbeats there) with no page mismatches (model: a 7.2 source leaves one stale page, seen
 * as bad≈10240, traces/README.md).
 */
export function guestVerdict(src: SerialSummary | null, dst: SerialSummary | null, migrated: boolean): string {
  if (!migrated) return src && src.heartbeats > 0 ? 'guest ran on the source; not migrated' : 'guest gave no heartbeat';
  if (!dst || dst.heartbeats === 0) return 'no heartbeat from the guest on the destination';
  const bad = Number(dst.last_heartbeat?.[2] ?? '0');
  if (bad === 0 && dst.BAD_lines === 0) return `consistent: ${dst.heartbeats} heartbeats on the destination, bad=0`;
  return `INCONSISTENT: destination reports bad=${bad} (${dst.BAD_lines} BAD lines)`;
}
