// Thread roles (§A.2): an anchor event names a thread's role outright; a secondary event names it
// only while no anchor has. Roles are per process side, since TIDs are per host and the two
// processes may run on different hosts. A recovered return-path thread has a new TID in 8.2+
// (§A.2 item 4): it is a second `rp` thread, and each has its own lifetime.
import type { Role, Side, ThreadSummary, TraceEvent } from '../types.js';
import type { CatalogRow } from './catalog.js';

/** An event as the model keeps it: the trace record itself (it carries file, line and text). */
export type EventRef = TraceEvent;

export interface ThreadInfo {
  side: Side | null;
  tid: number;
  role: Role;
  /** `name`: a stand-in for the threads of one role in a trace without thread ids (attribution.ts). */
  strength: 'anchor' | 'secondary' | 'name' | 'none';
  how: EventRef | null;
  events: number;
  firstTs: number | null;
  lastTs: number | null;
  start: EventRef | null;
  exit: EventRef | null;
  /** The thread's latest event (what it last did, for a stuck migration). */
  last: EventRef;
  /** The last episode (replay/episode.ts) it was seen in, so each episode lists its threads once. */
  episode: number;
  /** The last episode it logged any event in, catalogued or not (RunModel.touch): when it may retire. */
  seen: number;
  /** Anchors for a different role seen on this TID (TID reuse or a catalog problem). */
  conflicts: string[];
}

/** What rules ask of threads (RunFacts.threads): the run's table, or one episode's view of it. */
export interface ThreadView {
  get(side: Side | null, tid: number | null): ThreadInfo | undefined;
  roleOf(side: Side | null, tid: number | null): Role;
  all(): ThreadInfo[];
  withRole(role: Role, side?: Side): ThreadInfo[];
}

const NO_CONFLICTS: string[] = [];

/** The `last` of a retired thread no event told: a trace of 10,000 migrations kept ~30,000 records for them. */
const RETIRED: EventRef = Object.freeze({ name: '(retired)', side: null, args: '', tid: null, ts: null, input: -1, line: 0, raw: '' });

export class ThreadTable implements ThreadView {
  // One map per side, keyed by TID: no string keys built per event.
  private readonly bySide = { src: new Map<number, ThreadInfo>(), dst: new Map<number, ThreadInfo>(), none: new Map<number, ThreadInfo>() };
  /** The thread of the previous event: consecutive events mostly share one (no map lookup for them). */
  private recent: ThreadInfo | undefined;

  private map(side: Side | null): Map<number, ThreadInfo> {
    return side === null ? this.bySide.none : side === 'src' ? this.bySide.src : this.bySide.dst;
  }

  get(side: Side | null, tid: number | null): ThreadInfo | undefined {
    return tid === null ? undefined : this.map(side).get(tid);
  }

  roleOf(side: Side | null, tid: number | null): Role {
    return this.get(side, tid)?.role ?? 'unknown';
  }

  /** A thread of a two-process stream whose side became known: move what was seen of it so far. */
  assignSide(tid: number, side: Side): void {
    const t = this.bySide.none.get(tid);
    if (!t) return;
    this.bySide.none.delete(tid);
    t.side = side;
    this.bySide[side].set(tid, t);
  }

  /** A stand-in thread (attribution.ts) whose role the version decided only at the end. */
  setRole(side: Side, tid: number, role: Role): void {
    const t = this.bySide[side].get(tid);
    if (t && t.strength === 'name') t.role = role;
  }

  /**
   * Records one event of a thread and whatever its catalog rows say about the thread. `standIn`:
   * the role of a stand-in thread (negative TID, told by event names), which no row changes.
   */
  observe(ref: EventRef, rows: readonly CatalogRow[], standIn?: Role): ThreadInfo | undefined {
    if (ref.tid === null) return undefined;
    let t = this.recent;
    if (t === undefined || t.tid !== ref.tid || t.side !== ref.side) {
      const m = this.map(ref.side);
      t = m.get(ref.tid);
      if (!t) {
        t = { side: ref.side, tid: ref.tid, role: standIn ?? 'unknown', strength: standIn ? 'name' : 'none', how: standIn ? ref : null, events: 0, firstTs: ref.ts, lastTs: ref.ts, start: null, exit: null, last: ref, episode: 0, seen: 0, conflicts: [] };
        m.set(ref.tid, t);
      }
      this.recent = t;
    }
    t.events++;
    t.last = ref;
    if (ref.ts !== null) t.lastTs = ref.ts;
    for (const row of rows) {
      if (row.identifies && row.role !== '*' && t.strength !== 'name') {
        if (row.identifies === 'anchor') {
          if (t.strength === 'anchor' && t.role !== row.role) {
            if (t.conflicts === NO_CONFLICTS) t.conflicts = []; // retired, then seen again
            if (t.conflicts.length < 4) t.conflicts.push(`${row.event} says ${row.role}, ${t.how?.name} said ${t.role}`);
          } else if (t.strength !== 'anchor') {
            t.role = row.role;
            t.strength = 'anchor';
            t.how = ref;
          }
        } else if (t.strength === 'none') {
          t.role = row.role;
          t.strength = 'secondary';
          t.how = ref;
        }
      }
      if (row.signal === 'thread-start' && !t.start) t.start = ref;
      if (row.signal === 'thread-exit') t.exit = ref;
    }
    return t;
  }

  all(): ThreadInfo[] {
    return [...this.bySide.src.values(), ...this.bySide.dst.values(), ...this.bySide.none.values()];
  }

  withRole(role: Role, side?: Side): ThreadInfo[] {
    return this.all().filter((t) => t.role === role && (side === undefined || t.side === side));
  }

  /**
   * A thread that last logged in `episode`, now judged: it keeps what the summary names (role,
   * how it was told, with event, file and line), not the records themselves with their arguments.
   * A thread that logged in a later episode is left as it is.
   */
  retire(side: Side, tid: number, episode: number): void {
    const t = this.bySide[side].get(tid);
    if (!t || t.seen !== episode) return;
    // Only the summary reads it from here on (scoped views of later episodes do not list it).
    // (A TID seen again much later is still found, and still located: raw or its file offset stay.)
    const small = (r: EventRef): EventRef => ({ name: r.name, side: r.side, args: '', tid: r.tid, ts: r.ts, input: r.input, line: r.line, raw: r.raw, ...(r.at !== undefined ? { at: r.at } : {}) });
    const how = t.how && small(t.how);
    t.how = how;
    // A thread no event told (role unknown: no summary line) keeps no record at all; rules read
    // `last` only of threads that logged in their own episode, and a thread that logs again gets
    // its new event there first.
    t.last = how ?? RETIRED;
    t.start = null;
    t.exit = null;
    if (t.conflicts.length === 0) t.conflicts = NO_CONFLICTS;
    if (this.recent === t) this.recent = undefined;
  }

  /**
   * One episode's threads (those that logged in it, replay/episode.ts tids): what its rules list
   * and search. Run-wide lists made each episode's finish walk every thread of the run: a trace of
   * 3219 migrations spent 15 s there. Lookups by TID stay run-wide.
   */
  scoped(tids: { src: ReadonlySet<number>; dst: ReadonlySet<number> }): ThreadView {
    let list: ThreadInfo[] | null = null;
    const all = () =>
      (list ??= [...tids.src].map((tid) => this.bySide.src.get(tid)).concat([...tids.dst].map((tid) => this.bySide.dst.get(tid))).filter((t): t is ThreadInfo => t !== undefined));
    return {
      get: (side, tid) => this.get(side, tid),
      roleOf: (side, tid) => this.roleOf(side, tid),
      all: () => all(),
      withRole: (role, side) => all().filter((t) => t.role === role && (side === undefined || t.side === side)),
    };
  }

  /**
   * The summary, and where a thread (side, TID; stand-ins' negative TIDs included) is in it, to find
   * an episode's share: numeric keys per side, since a trace of 10,000 migrations has 30,000 threads
   * and the end of the run is its memory peak.
   */
  summaryIndexed(fileOf: (input: number) => string): { summaries: ThreadSummary[]; indexOf: (side: Side, tid: number) => number | undefined } {
    const at = { src: new Map<number, number>(), dst: new Map<number, number>(), none: new Map<number, number>() };
    const summaries = this.all()
      .filter((t) => t.role !== 'unknown')
      .sort((a, b) => (a.side ?? '').localeCompare(b.side ?? '') || a.tid - b.tid)
      .map((t, i) => {
        at[t.side ?? 'none'].set(t.tid, i);
        return {
          side: t.side,
          tid: t.tid < 0 ? null : t.tid,
          role: t.role,
          how: !t.how ? 'unknown' : t.strength === 'name' ? `event names (no thread ids), from ${t.how.name} at ${fileOf(t.how.input)}:${t.how.line}` : `${t.strength} ${t.how.name} at ${fileOf(t.how.input)}:${t.how.line}`,
          events: t.events,
        };
      });
    return { summaries, indexOf: (side, tid) => at[side].get(tid) };
  }
}
