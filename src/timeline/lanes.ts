// Which swimlanes a run gets: one per thread with a migration role (from the analysis' thread
// table), one per thread a finding names, and per side a catch-all for the rest (vCPUs, I/O
// workers, unidentified TIDs) or, when the trace has no thread ids, one lane for the whole side.
import type { Role, RunResult, Side } from '../types.js';
import type { Lane } from './types.js';

/** Roles that get a lane of their own, in display order (source first, then destination). */
const ROLE_ORDER: Role[] = ['main', 'migration', 'rp', 'multifd', 'listen', 'fault', 'preempt'];
const SHORT: Partial<Record<Role, string>> = { main: 'main', migration: 'mig', rp: 'rp', multifd: 'mfd', listen: 'lis', fault: 'flt', preempt: 'pre' };

export interface LanePlan {
  lanes: Lane[];
  /** Lane of an event: by side and TID, else the side's catch-all (created on first use). */
  laneOf(side: Side | null, tid: number | null): number;
}

function newLane(id: number, side: Side | null, role: Lane['role'], tid: number | null, label: string, short: string): Lane {
  return { id, side, role, tid, label, short, first: null, last: null, exited: false, events: 0 };
}

export function planLanes(run: RunResult): LanePlan {
  type Cand = { side: Side; tid: number; role: Role };
  const cands: Cand[] = [];
  const seen = new Set<string>();
  for (const t of run.threads) {
    if (t.side === null || t.tid === null || !ROLE_ORDER.includes(t.role)) continue;
    cands.push({ side: t.side, tid: t.tid, role: t.role });
    seen.add(`${t.side}:${t.tid}`);
  }
  // A finding may point at a thread no anchor identified: it still needs a lane to be shown on.
  for (const f of run.findings) {
    for (const l of f.locations) {
      if (l.side === null || l.tid === null || seen.has(`${l.side}:${l.tid}`)) continue;
      seen.add(`${l.side}:${l.tid}`);
      cands.push({ side: l.side, tid: l.tid, role: l.role });
    }
  }
  const sideRank = (s: Side) => (s === 'src' ? 0 : 1);
  const roleRank = (r: Role) => {
    const i = ROLE_ORDER.indexOf(r);
    return i < 0 ? ROLE_ORDER.length : i;
  };
  cands.sort((a, b) => sideRank(a.side) - sideRank(b.side) || roleRank(a.role) - roleRank(b.role) || a.tid - b.tid);

  const lanes: Lane[] = [];
  const byTid = new Map<string, number>();
  const perRole = new Map<string, number>();
  for (const c of cands) {
    const k = `${c.side}:${c.role}`;
    const n = (perRole.get(k) ?? 0) + 1;
    perRole.set(k, n);
    // A second thread of one role (a return-path thread re-created by a postcopy recovery, §A.2.4) is "rp#2".
    const name = n > 1 ? `${c.role}#${n}` : c.role;
    const short = `${SHORT[c.role] ?? c.role.slice(0, 3)}${n > 1 ? n : ''}`.slice(0, 4);
    const id = lanes.length;
    lanes.push(newLane(id, c.side, c.role, c.tid, `${name} ${c.tid}`, short));
    byTid.set(`${c.side}:${c.tid}`, id);
  }

  // Catch-all lanes are created when an event needs one, and kept after the side's thread lanes.
  const catchAll = new Map<string, number>();
  const laneOf = (side: Side | null, tid: number | null): number => {
    if (tid !== null) {
      const id = byTid.get(`${side}:${tid}`);
      if (id !== undefined) return id;
    }
    const kind = tid === null ? 'all' : 'other';
    const key = `${side}:${kind}`;
    let id = catchAll.get(key);
    if (id === undefined) {
      id = lanes.length;
      catchAll.set(key, id);
      lanes.push(newLane(id, side, kind, null, kind === 'all' ? 'all threads (no TIDs)' : 'other threads', kind === 'all' ? 'all' : 'oth'));
    }
    return id;
  };
  return { lanes, laneOf };
}

/** Lanes in display order: source before destination, catch-all lanes last within their side. */
export function laneOrder(lanes: readonly Lane[]): number[] {
  const rank = (l: Lane) => (l.side === 'src' ? 0 : l.side === 'dst' ? 2 : 4) + (l.role === 'other' || l.role === 'all' ? 1 : 0);
  return lanes
    .map((l) => l.id)
    .sort((a, b) => rank(lanes[a] as Lane) - rank(lanes[b] as Lane) || a - b);
}
