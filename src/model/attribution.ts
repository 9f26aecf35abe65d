// Telling threads apart without thread ids (QEMU >= 10.1's default log, the simple and syslog
// backends): most catalog events are emitted by exactly one thread role, for a given version (§A.2
// items 2-3). Each event is then put on a stand-in thread of that role, one per process side and
// role, with a negative id that never collides with a real TID and is never shown as one. A single
// process's log is written whole-line and in call order, so the order of one side's events is real.
// Events no role can be read from (`*` in the catalog: migrate_set_state, qemu_file_fclose ...) go
// to one stand-in thread of unknown role; events whose role depends on a version the trace has not
// told yet (postcopy_preempt_send_host_page: migration thread <= 7.2, return-path thread >= 8.0) go
// to a stand-in of their own, resolved when the thread table is read (`resolve`).
import type { Role, Side } from '../types.js';
import type { CatalogRow } from './catalog.js';
import { ROLES } from './signals.js';
import { overlaps, type VersionRange } from './versions.js';

/** How one side's threads were told apart, as findings and reports say it. */
export type ThreadsBy = 'thread ids' | 'per-thread files' | 'event names (no thread ids)';

/** Stand-in thread ids: -1 - role index for a role (minus GENERATION per later lifetime); UNATTRIBUTED for role '*'; below it the version-dependent ones. */
const UNATTRIBUTED = -100;
const AMBIGUOUS_BASE = -200;
/** Later lifetimes of a role: -1 - role index - GENERATION * n (clear of the ids above). */
const GENERATION = 1000;

/** A TID as reports show it: null for a stand-in (there is no thread id to show). */
export function shownTid(tid: number | null): number | null {
  return tid !== null && tid < 0 ? null : tid;
}

/** A catalog role's index in ROLES (the catalog accepts no other role: catalog.ts parseCatalog). */
function roleIndex(role: Role): number {
  return (ROLES as readonly string[]).indexOf(role);
}

/** What tidFor says of one event: one object, overwritten by the next call (read it at once). */
export interface StandIn {
  tid: number;
  role: Role;
}

export interface Ambiguity {
  side: Side;
  event: string;
  roles: string;
}

export class NameAttribution {
  /** Version-dependent role lists met so far, per side: their stand-in id and one event that used it. */
  private readonly ambiguous = new Map<string, { tid: number; side: Side; event: string; byVersion: NonNullable<CatalogRow['roleByVersion']>; text: string }>();
  /** Events put on a thread by name, per side (the data section counts them). */
  readonly counts = { src: 0, dst: 0 };
  readonly unattributed = { src: 0, dst: 0 };
  // Per side, per role index: how many lifetimes the role had, and whether the latest one exited.
  // Arrays, not a map keyed by a 'side|role' string: this runs for every event of such a trace.
  private readonly generations = { src: newGenerations(), dst: newGenerations() };
  private readonly result: StandIn = { tid: 0, role: 'unknown' };

  /**
   * The stand-in thread for an event without a thread id, from its catalog rows and what is known
   * of the process's version now. Also returns the role when it is known.
   */
  tidFor(side: Side, rows: readonly CatalogRow[], range: VersionRange): StandIn {
    // Named loads, not `x[side]` (see VersionTracker.range): this runs for every event.
    const src = side === 'src';
    if (src) this.counts.src++;
    else this.counts.dst++;
    const plan = planOf(rows, src);
    if (plan.role !== null) return this.answer(this.lifetime(side, plan.roleIndex, plan), plan.role);
    if (plan.list) {
      const fits = decide(plan.list.roleByVersion!, range);
      if (fits) return this.answer(this.lifetime(side, roleIndex(fits), plan), fits);
      return this.answer(this.ambiguousTid(side, plan.list), 'unknown');
    }
    return this.none(side);
  }

  private answer(tid: number, role: Role): StandIn {
    this.result.tid = tid;
    this.result.role = role;
    return this.result;
  }

  /**
   * A role's stand-in for the thread now living: a thread that started again after its role's
   * last one exited (a return-path thread re-created by a postcopy recovery, 8.2+, §A.2 item 4) is
   * a new stand-in, so each lifetime keeps its own start and exit.
   */
  private lifetime(side: Side, r: number, plan: Plan): number {
    const g = side === 'src' ? this.generations.src : this.generations.dst;
    if (g.exited[r] === 1 && plan.starts) {
      g.n[r]!++;
      g.exited[r] = 0;
    }
    if (plan.exits) g.exited[r] = 1;
    return -1 - r - GENERATION * g.n[r]!;
  }

  private none(side: Side): StandIn {
    this.unattributed[side]++;
    return this.answer(UNATTRIBUTED, 'unknown');
  }

  private ambiguousTid(side: Side, row: CatalogRow): number {
    const key = `${side}|${row.event}`;
    let a = this.ambiguous.get(key);
    if (!a) {
      a = { tid: AMBIGUOUS_BASE - this.ambiguous.size, side, event: row.event, byVersion: row.roleByVersion!, text: row.roleByVersion!.map((r) => r.role).join(' or ') };
      this.ambiguous.set(key, a);
    }
    return a.tid;
  }

  /**
   * The roles of version-dependent stand-ins, with the version the whole trace has shown; the ones
   * still undecided are returned, to be named in the report.
   */
  resolve(setRole: (side: Side, tid: number, role: Role) => void, range: (side: Side) => VersionRange): Ambiguity[] {
    const left: Ambiguity[] = [];
    for (const a of this.ambiguous.values()) {
      const role = decide(a.byVersion, range(a.side));
      if (role) setRole(a.side, a.tid, role);
      else left.push({ side: a.side, event: a.event, roles: a.text });
    }
    return left;
  }
}

/**
 * What an event's rows say of its thread on one side, worked out once per shared row array (the
 * catalog hands out one per row combination) and kept on it: this runs for every event of a trace
 * without thread ids (a loop over the rows and a role lookup per event were ~60 ns of the replay's
 * ~230 per record on the ISO bench slice). `role`: the one role the side's rows name (null when
 * none does or they disagree); `list`: the first version-dependent row; `starts`/`exits`: whether
 * any row is a thread start or exit.
 */
interface Plan {
  role: Role | null;
  roleIndex: number;
  list: CatalogRow | null;
  starts: boolean;
  exits: boolean;
}

const PLANS = Symbol('stand-in plans by side');
type PlannedRows = readonly CatalogRow[] & { [PLANS]?: { src: Plan | null; dst: Plan | null } };

function planOf(rows: readonly CatalogRow[], src: boolean): Plan {
  const cache = ((rows as PlannedRows)[PLANS] ??= { src: null, dst: null });
  return src ? (cache.src ??= makePlan(rows, 'src')) : (cache.dst ??= makePlan(rows, 'dst'));
}

function makePlan(rows: readonly CatalogRow[], side: Side): Plan {
  let role: Role | null = null;
  let list: CatalogRow | null = null;
  let disagree = false;
  for (const row of rows) {
    if (row.side !== 'both' && row.side !== side) continue;
    if (row.roleByVersion) list ??= row;
    else if (row.role !== '*') {
      if (role !== null && role !== row.role) disagree = true; // rows disagree: no role from the name
      role = row.role;
    }
  }
  const starts = rows.some((row) => row.signal === 'thread-start');
  const exits = rows.some((row) => row.signal === 'thread-exit');
  if (disagree) return { role: null, roleIndex: -1, list: null, starts, exits };
  return { role, roleIndex: role === null ? -1 : roleIndex(role), list, starts, exits };
}

function newGenerations(): { n: Uint32Array; exited: Uint8Array } {
  return { n: new Uint32Array(ROLES.length), exited: new Uint8Array(ROLES.length) };
}

/** The one role whose range the process's version range can be in, or null while several can. */
function decide(byVersion: NonNullable<CatalogRow['roleByVersion']>, range: VersionRange): Role | null {
  const fits = byVersion.filter((r) => overlaps(range, r.versions));
  return fits.length === 1 ? fits[0]!.role : null;
}
