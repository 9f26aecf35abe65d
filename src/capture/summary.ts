// Summaries written into meta.json: per-log line and event counts (so a reader sees at once
// whether an event fired), and what the guest said on its serial console.
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface LogSummary {
  bytes: number;
  lines: number;
  /** Lines that are not trace records (error_report output, model §F.1). */
  non_trace_lines: number;
  /** Trace lines by prefix: `tid` (`TID@sec.usec:`, QEMU <= 10.0 with -msg timestamp=on), `iso`
   *  (`2026-12-04T18:23:34.486448Z `, QEMU >= 10.1: no thread id), `bare` (no timestamp). */
  prefixes: Record<'tid' | 'iso' | 'bare', number>;
  events: Record<string, number>;
  /** From the `TID@` prefix, or from the file name of a per-thread file; empty for ISO lines. */
  lines_per_tid: Record<string, number>;
  /** combined.log only: trace lines per process (src, dst, dst1, dst2; `unknown` for TIDs the
   *  /proc sampling never saw). */
  lines_per_process?: Record<string, number>;
}

/** A trace line of the `log` backend: `TID@sec.usec:name`, `<ISO timestamp>Z name` or bare
 *  `name args`. An error_report line (`…Z qemu-system-x86_64: …`) has no identifier followed by a
 *  space or the end there, so it does not match. */
const TRACE_LINE = /^(?:(\d+)@\d+\.\d{6}:|(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) )?([a-z_][a-z0-9_]*)(?: |$)/;

/** One QEMU trace log (a process's `-D` file, a combined log, or one per-thread file when `tid`
 *  is given: every line is that thread's). */
export async function summarizeTraceLog(path: string, tid?: number): Promise<LogSummary | null> {
  if (!existsSync(path)) return null;
  const events = new Map<string, number>();
  const perTid = new Map<string, number>();
  const prefixes = { tid: 0, iso: 0, bare: 0 };
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
    const [, lineTid, iso, name = ''] = m;
    prefixes[lineTid !== undefined ? 'tid' : iso !== undefined ? 'iso' : 'bare']++;
    events.set(name, (events.get(name) ?? 0) + 1);
    const who = lineTid ?? (tid !== undefined ? String(tid) : undefined);
    if (who !== undefined) perTid.set(who, (perTid.get(who) ?? 0) + 1);
  }
  return { bytes: statSync(path).size, lines, non_trace_lines: nonTrace, prefixes, events: sorted(events), lines_per_tid: sorted(perTid) };
}

const sorted = (m: Map<string, number>): Record<string, number> =>
  Object.fromEntries([...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

export interface ThreadFilesSummary extends LogSummary {
  /** Number of per-thread files (one per thread that logged anything). */
  files: number;
  /** Trace lines per process (`src`, `dst`, …), from the TIDs sampled in /proc; `unknown` for a
   *  thread that lived less than a sampling interval. */
  lines_per_process: Record<string, number>;
  /** Per-thread file name → its process, the same truth for each file. */
  process_per_file: Record<string, string>;
}

/** The per-thread files in `dir` (`t-<TID>.log`, both processes' in one folder), summed up. */
export async function summarizeThreadFiles(dir: string, processOfTid: (tid: number) => string | undefined): Promise<ThreadFilesSummary | null> {
  if (!existsSync(dir)) return null;
  const names = readdirSync(dir)
    .map((f) => ({ f, tid: /^t-(\d+)\.log$/.exec(f)?.[1] }))
    .filter((x): x is { f: string; tid: string } => x.tid !== undefined)
    .sort((a, b) => Number(a.tid) - Number(b.tid));
  const total: ThreadFilesSummary = {
    bytes: 0, lines: 0, non_trace_lines: 0, prefixes: { tid: 0, iso: 0, bare: 0 }, events: {}, lines_per_tid: {},
    files: names.length, lines_per_process: {}, process_per_file: {},
  };
  const events = new Map<string, number>();
  const perProc = new Map<string, number>();
  for (const { f, tid } of names) {
    const s = await summarizeTraceLog(join(dir, f), Number(tid));
    if (!s) continue;
    total.bytes += s.bytes;
    total.lines += s.lines;
    total.non_trace_lines += s.non_trace_lines;
    for (const k of ['tid', 'iso', 'bare'] as const) total.prefixes[k] += s.prefixes[k];
    for (const [e, n] of Object.entries(s.events)) events.set(e, (events.get(e) ?? 0) + n);
    total.lines_per_tid[tid] = s.lines - s.non_trace_lines;
    const proc = processOfTid(Number(tid)) ?? 'unknown';
    total.process_per_file[f] = proc;
    perProc.set(proc, (perProc.get(proc) ?? 0) + s.lines - s.non_trace_lines);
  }
  total.events = sorted(events);
  total.lines_per_process = sorted(perProc);
  return total;
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
