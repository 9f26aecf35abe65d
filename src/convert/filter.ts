// Which records `convert` keeps: event names (exact or with * and ? globs), a time window, thread
// ids, process ids, a side (records without a timestamp are left out of a time window). Messages (QEMU error_report lines, kernel context) pass only when no
// event, thread or process filter is given: they have no event name, thread or process to match.
import type { TraceRecord } from '../ingest/trace-input.js';
import type { Side } from '../types.js';

export interface FilterSpec {
  events?: string[];
  /** µs bounds, inclusive; resolved against the first timestamp by the caller. */
  fromUs?: number;
  toUs?: number;
  tids?: number[];
  pids?: number[];
  side?: Side;
}

function globToRegex(glob: string): RegExp {
  const esc = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${esc}$`);
}

export function compileFilter(spec: FilterSpec): (rec: TraceRecord, side: Side | null) => boolean {
  const exact = new Set<string>();
  const globs: RegExp[] = [];
  for (const e of spec.events ?? []) {
    if (/[*?]/.test(e)) globs.push(globToRegex(e));
    else exact.add(e);
  }
  const byName = exact.size > 0 || globs.length > 0;
  const tids = spec.tids?.length ? new Set(spec.tids) : null;
  const pids = spec.pids?.length ? new Set(spec.pids) : null;
  const nameCache = new Map<string, boolean>();
  const nameOk = (n: string): boolean => {
    let ok = nameCache.get(n);
    if (ok === undefined) {
      ok = exact.has(n) || globs.some((g) => g.test(n));
      if (nameCache.size < 100_000) nameCache.set(n, ok);
    }
    return ok;
  };
  return (rec, side) => {
    // A record without a timestamp cannot be placed in a time window: it is left out.
    if (spec.fromUs !== undefined && (rec.ts === null || rec.ts < spec.fromUs)) return false;
    if (spec.toUs !== undefined && (rec.ts === null || rec.ts > spec.toUs)) return false;
    if (spec.side && side !== spec.side) return false;
    if (rec.kind === 'message') return !byName && !tids && !pids;
    if (byName && !nameOk(rec.name)) return false;
    if (tids && (rec.tid === null || !tids.has(rec.tid))) return false;
    if (pids && (rec.pid === undefined || !pids.has(rec.pid))) return false;
    return true;
  };
}
