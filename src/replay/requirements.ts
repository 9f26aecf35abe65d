// The engine's step that applies a rule's requirements (rules/requirements.ts declares them): a
// missing requirement turns the rule's outcome into `inconclusive` (naming what is missing) or, only
// when the trace proves the situation cannot arise, `not applicable`. Findings stand.
import type { Catalog } from '../model/catalog.js';
import { SIGNALS, type Signal } from '../model/signals.js';
import type { Role, Side } from '../types.js';
import { isWithin, parseRange } from '../model/versions.js';
import type { Fact, Need, Requirements } from '../rules/requirements.js';
import type { RuleOutcome, RunFacts } from '../rules/rule.js';

/** What the generic step needs beyond the rule's facts: the catalog, to name the events of a signal. */
export interface RequirementContext {
  catalog: Catalog;
  /** Signals seen per side in this migration (by SIGNALS index). */
  seen: Record<Side, Uint8Array>;
  /** Events a stream of both processes without thread ids logged but could not put on a side. */
  unplaced?: { has(event: string): boolean };
}

/** What to do about events that could not be put on a side (README.md, "CI job logs, qtest and libvirt"). */
export const UNPLACED_REMEDY = 'give each QEMU its own trace file (-D FILE per process; in a test suite -D DIR/q-%d.log) or thread ids (-d tid -D DIR/t-%d.log)';

const SIDE_NAME: Record<Side, string> = { src: 'source', dst: 'destination' };
const POSTCOPY_STATES = new Set(['postcopy-active', 'postcopy-paused', 'postcopy-recover', 'postcopy-recover-setup', 'postcopy-device']);
const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/**
 * What the requirements decide before the rule is asked: the sides it reads, the kind of migration
 * it needs, and the needs its predicate rests on (`before`). null when the rule may decide; else
 * the outcome (the same applyRequirements gives any outcome of the rule then), so no rule guards
 * itself against a missing side or mode.
 */
export function precondition(req: Requirements, f: RunFacts, ctx: RequirementContext): RuleOutcome | null {
  const modeAfter = req.modeAfter === 'always' || (req.modeAfter === 'with-preempt' && f.mode.preempt);
  if (!modeAfter || req.sides.some((side) => !f.sides[side].present)) {
    const ruledOut = modeRuledOut(req, f);
    if (ruledOut) return { kind: 'not-applicable', reason: ruledOut };
    const unmet = sideOrModeUnmet(req, f);
    if (unmet) return unmet;
  }
  if (req.needs?.some((n) => n.before && holds(n.when, n.side, f, ctx) !== null && !met(n, f, ctx))) return unmetNeeds(req, f, ctx);
  return null;
}

/**
 * Applies a rule's requirements to its outcome. Findings stand (the evidence that made them was
 * there); a clean, not-applicable or inconclusive outcome is replaced when a requirement is unmet.
 */
export function applyRequirements(req: Requirements, outcome: RuleOutcome, f: RunFacts, ctx: RequirementContext): RuleOutcome {
  if (outcome.kind === 'findings') return outcome;
  const ruledOut = modeRuledOut(req, f);
  if (ruledOut) return { kind: 'not-applicable', reason: ruledOut };
  const unmet = sideOrModeUnmet(req, f);
  if (unmet) return unmet;
  if (req.threads === 'identity') {
    for (const side of req.sides) {
      if (f.sides[side].threadsBy === 'event names (no thread ids)') {
        if (outcome.kind === 'not-applicable') return outcome;
        const enough = req.namesSufficeFor ? parseRange(req.namesSufficeFor) : null;
        if (enough && isWithin(f.versions.range(side), enough)) continue;
        return { kind: 'inconclusive', reason: `the ${SIDE_NAME[side]} trace has no thread ids: this rule ties events that name no thread role to the thread that logged them. Give per-thread files (-d tid -D ${side}-%d.log) or, on QEMU <= 10.0, -msg timestamp=on` };
      }
    }
  }
  return withUnplaced(unmetNeeds(req, f, ctx) ?? outcome, ctx);
}

/** A rule's own inconclusive outcome whose missing events are in the stream but on no side says so. */
function withUnplaced(out: RuleOutcome, ctx: RequirementContext): RuleOutcome {
  if (out.kind !== 'inconclusive' || !out.missing || out.reason.includes(UNPLACED_REMEDY)) return out;
  const unplaced = out.missing.filter((e) => ctx.unplaced?.has(e));
  return unplaced.length ? { ...out, reason: `${out.reason}; ${streamHas(unplaced)}` } : out;
}

function streamHas(unplaced: readonly string[]): string {
  return `the stream has ${unplaced.join(', ')}, but from both processes without thread ids: which process logged each cannot be told; to decide it, ${UNPLACED_REMEDY}`;
}

/** Inconclusive when a side the rule reads has no trace, or whether the migration was of its kind cannot be told. */
function sideOrModeUnmet(req: Requirements, f: RunFacts): RuleOutcome | null {
  const modeUnknown = modeUndecided(req, f);
  for (const side of req.sides) {
    if (!f.sides[side].present) {
      return {
        kind: 'inconclusive',
        reason: `no ${SIDE_NAME[side]} trace: this rule reads the ${SIDE_NAME[side]} process${modeUnknown ? '' : ` (the ${otherSide(side)} trace shows a ${f.mode.preempt ? 'postcopy-preempt' : f.mode.postcopy ? 'postcopy' : ''} migration)`}; give its log too`,
      };
    }
  }
  return modeUnknown;
}

/** Inconclusive, naming every need the trace proves binding and does not meet; null when all are met. */
function unmetNeeds(req: Requirements, f: RunFacts, ctx: RequirementContext): RuleOutcome | null {
  const missing: string[] = [];
  const unmet: Array<{ text: string; unplaced: string[] }> = [];
  for (const need of req.needs ?? []) {
    const fact = holds(need.when, need.side, f, ctx);
    if (fact === null || met(need, f, ctx)) continue;
    const events = eventsFor(need, ctx.catalog);
    missing.push(...events);
    // Logged, but in one stream of both processes without thread ids: not absent, unplaceable.
    unmet.push({ text: `${fact ? `${fact}, so ` : ''}the ${SIDE_NAME[need.side]} trace must show ${describe(need)}`, unplaced: events.filter((e) => ctx.unplaced?.has(e)) });
  }
  if (!unmet.length) return null;
  return { kind: 'inconclusive', reason: unmetReason(unmet), missing: [...new Set(missing)] };
}

/** Absent events (filtered out, or a cut trace), or events logged where no side can be told: each says what it is. */
function unmetReason(unmet: ReadonlyArray<{ text: string; unplaced: string[] }>): string {
  const unplaced = [...new Set(unmet.flatMap((u) => u.unplaced))];
  const stream = streamHas(unplaced);
  if (unmet.every((u) => u.unplaced.length > 0)) return `${unmet.map((u) => u.text).join('; ')}: ${stream}`;
  const absent = `${unmet.map((u) => u.text).join('; ')}: it does not (events filtered out, or the trace is incomplete)`;
  return unplaced.length ? `${absent}; for some, ${stream}` : absent;
}

function otherSide(side: Side): string {
  return side === 'src' ? 'destination' : 'source';
}

/** A reason when the trace proves the migration was not of the kind the rule needs, else null. */
function modeRuledOut(req: Requirements, f: RunFacts): string | null {
  if (!req.mode) return null;
  if (!f.mode.postcopy) {
    const proof = precopyProof(f);
    if (proof) return `no postcopy in this migration: ${proof}`;
  }
  if (req.mode === 'postcopy-preempt' && !f.mode.preempt) {
    const proof = noPreemptProof(f);
    if (proof) return `postcopy without preempt: ${proof}`;
  }
  return null;
}

/** Inconclusive when the rule needs postcopy (or preempt) and the trace can neither show nor rule it out. */
function modeUndecided(req: Requirements, f: RunFacts): RuleOutcome | null {
  if (!req.mode) return null;
  if (!f.mode.postcopy) {
    return { kind: 'inconclusive', reason: 'whether this migration used postcopy cannot be told: no postcopy event, and no side shows its migration ending without one', missing: ['migrate_set_state', 'postcopy_start', 'postcopy_ram_listen_thread_start'] };
  }
  if (req.mode === 'postcopy-preempt' && !f.mode.preempt) {
    return { kind: 'inconclusive', reason: 'postcopy ran, but whether preempt was on cannot be told: no preempt event, and no postcopy_preempt_enabled 0', missing: ['postcopy_preempt_enabled', 'postcopy_preempt_new_channel', 'postcopy_preempt_thread_entry'] };
  }
  return null;
}

/** A side whose states show a whole migration (it reached an end) with no postcopy state. */
function precopyProof(f: RunFacts): string | null {
  for (const side of ['src', 'dst'] as const) {
    const states = f.states.changes[side].map((c) => c.state);
    const end = states.find((s) => TERMINAL.has(s));
    if (end && states.includes('active') && !states.some((s) => POSTCOPY_STATES.has(s))) {
      return `the ${SIDE_NAME[side]} went from active to ${end} without a postcopy state`;
    }
  }
  return null;
}

function noPreemptProof(f: RunFacts): string | null {
  const precopy = precopyProof(f);
  if (precopy) return precopy;
  // Only the source says so: a destination without preempt events may have lost them.
  if (f.modeEvidence.preemptOffSeen) return 'the source logged postcopy_preempt_enabled 0';
  return null;
}

/** Why the fact holds (a phrase for the reason), or null when it does not. */
function holds(fact: Fact, side: Side, f: RunFacts, ctx: RequirementContext): string | null {
  if (!f.sides[side].present) return null;
  switch (fact) {
    case 'always':
      return '';
    case 'postcopy':
      return f.mode.postcopy ? 'postcopy ran' : null;
    case 'preempt':
      return f.mode.postcopy && f.mode.preempt ? 'postcopy-preempt ran' : null;
    case 'src-postcopy-completed':
      return completedAfterPostcopy(f, 'src') ? 'the source went from postcopy-active to completed' : null;
    case 'dst-postcopy-completed':
      return completedAfterPostcopy(f, 'dst') ? 'the destination went from postcopy-active to completed' : null;
    case 'dst-page-faults':
      return ctx.seen.dst[signalIndex('page-fault')] ? 'the destination fault thread requested pages (postcopy_ram_fault_thread_request)' : null;
    case 'dst-cleanup':
      return f.preempt.cleanupEntry ? 'the destination cleanup started' : null;
  }
}

function completedAfterPostcopy(f: RunFacts, side: Side): boolean {
  const states = f.states.changes[side].map((c) => c.state);
  const pc = states.indexOf('postcopy-active');
  return pc >= 0 && states.indexOf('completed', pc) > pc;
}

function met(need: Need, f: RunFacts, ctx: RequirementContext): boolean {
  return need.anyOf.some((what) => {
    if (what === 'started:preempt') return f.preempt.entry !== null;
    if (what.startsWith('role:')) return f.threads.withRole(what.slice(5) as Role, need.side).length > 0;
    if (what.startsWith('state:')) return f.states.changes[need.side].some((c) => c.state === what.slice(6));
    return ctx.seen[need.side][signalIndex(what as Signal)] === 1;
  });
}

function signalIndex(s: Signal): number {
  return SIGNALS.indexOf(s);
}

function describe(need: Need): string {
  return need.anyOf
    .map((w) => (w === 'started:preempt' ? "its preempt thread's start" : w.startsWith('role:') ? `its ${w.slice(5)} thread` : w.startsWith('state:') ? `state ${w.slice(6)}` : `a ${w} event`))
    .join(' or ');
}

/** The catalog events that would have met the need (what the report names as missing). */
function eventsFor(need: Need, catalog: Catalog): string[] {
  const out: string[] = [];
  for (const [event, rows] of catalog.byEvent) {
    for (const r of rows) {
      if (r.side !== 'both' && r.side !== need.side) continue;
      const hit = need.anyOf.some((w) =>
        w === 'started:preempt'
          ? r.role === 'preempt' && r.signal === 'thread-start'
          : w.startsWith('role:')
            ? r.role === w.slice(5) && r.identifies === 'anchor'
            : w.startsWith('state:')
              ? r.signal === 'state'
              : r.signal === w,
      );
      if (hit && !out.includes(event)) out.push(event);
    }
  }
  return out;
}
