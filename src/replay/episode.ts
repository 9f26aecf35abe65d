// One migration attempt inside a run. A long-lived source can be migrated more than once (a
// cancelled or failed attempt, then a retry), and a CI log can hold several destinations: each
// attempt gets its own mode, state history, preempt lifecycle and rule instances, while threads
// and versions stay run-wide (same processes). Episodes are delimited by the migration-phases
// table of model/episodes.ts: a transition marked `nextMigration` opens the next one.
import { fieldOf, type Catalog, type CatalogRow } from '../model/catalog.js';
import { SIGNALS } from '../model/signals.js';
import { PHASES, type BoundaryContext, type StateEvent } from '../model/episodes.js';
import { applyRequirements, precondition } from './requirements.js';
import type { ThreadsBy } from '../model/attribution.js';
import { ModeTracker, type ProcessMode } from '../model/mode.js';
import { PreemptLifecycle } from '../model/preempt.js';
import type { Signal } from '../model/signals.js';
import { StateHistory } from '../model/states.js';
import type { EventRef, ThreadTable } from '../model/threads.js';
import { VersionTracker, type WriterModel } from '../model/version.js';
import type { ReplayEvent, Rule, RuleInstance, RunFacts } from '../rules/rule.js';
import type { CleanNote, Evidence, Finding, Inconclusive, Location, ModeInference, NotApplicable, Side, TraceMessage } from '../types.js';

export const VERSION = 1;
export const MODE = 2;
export const STATE = 4;
export const PREEMPT = 8;
const RULE0 = 16; // rule i is bit RULE0 << i

/** The rules a replay runs (given by its caller: the engine imports no rule), with one probe each. */
export class RuleSet {
  /** Instances used only to ask what each rule wants (wants() depends on the rule, not the instance). */
  readonly probes: readonly RuleInstance[];
  constructor(readonly rules: readonly Rule[]) {
    this.probes = rules.map((r) => r.create());
  }
}

const SETS = new WeakMap<readonly Rule[], RuleSet>();
/** One RuleSet per rule list, so the masks kept on the catalog's rows stay valid across runs. */
export function ruleSetOf(rules: readonly Rule[]): RuleSet {
  let s = SETS.get(rules);
  if (!s) SETS.set(rules, (s = new RuleSet(rules)));
  return s;
}

// The catalog hands out one shared array per row combination (rowsFor): the mask is kept on the
// array itself, so the per-event cost is one property load, not a WeakMap lookup.
const MASK = Symbol('consumer mask');
const MASK_RULES = Symbol('the rule set the mask is for');
type MaskedRows = readonly CatalogRow[] & { [MASK]?: number; [MASK_RULES]?: RuleSet };

/** Which consumers want which rows, computed once per row set: most events concern one or two. */
export function maskOf(rows: readonly CatalogRow[], set: RuleSet): number {
  let m = (rows as MaskedRows)[MASK];
  if (m === undefined || (rows as MaskedRows)[MASK_RULES] !== set) {
    m = 0;
    for (const row of rows) {
      if (VersionTracker.wants(row)) m |= VERSION;
      if (ModeTracker.wants(row)) m |= MODE;
      if (row.signal === 'state') m |= STATE;
      if (PreemptLifecycle.wants(row)) m |= PREEMPT;
      for (let i = 0; i < set.probes.length; i++) {
        const p = set.probes[i]!;
        if (!p.wants || p.wants(row)) m |= RULE0 << i;
      }
    }
    (rows as MaskedRows)[MASK] = m;
    (rows as MaskedRows)[MASK_RULES] = set;
  }
  return m;
}

const STATE_SIGNAL = SIGNALS.indexOf('state');

class MutableReplayEvent implements ReplayEvent {
  ref!: EventRef;
  args = '';
  rows: readonly CatalogRow[] = [];
  field(name: string): string | null {
    return fieldOf(this.rows, this.args, name);
  }
  has(s: Signal): boolean {
    for (const r of this.rows) if (r.signal === s) return true;
    return false;
  }
}

export interface EpisodeContext {
  catalog: Catalog;
  threads: ThreadTable;
  versions: VersionTracker;
  writer: { model: WriterModel; evidence: Evidence[] };
  sides: RunFacts['sides'];
  stuckAfterMs: number;
  locate: (ref: EventRef, note?: string) => Location;
  /** Events of a both-process stream without thread ids that could not be put on a side (RunModel.unplacedNames). */
  unplaced: { has(event: string): boolean };
}

export interface EpisodeOutcome {
  index: number;
  from: number | null;
  to: number | null;
  states: { src: string[]; dst: string[] };
  findings: Finding[];
  inconclusive: Inconclusive[];
  notApplicable: NotApplicable[];
  /** What each rule that found nothing positively observed. */
  clean: CleanNote[];
  mode: ModeInference;
  facts: RunFacts;
  tids: { src: Set<number>; dst: Set<number> };
  statesDropped: number;
  events: number;
}

export class Episode {
  readonly mode: ModeTracker;
  readonly states = new StateHistory();
  readonly preempt = new PreemptLifecycle();
  readonly rules: Array<{ id: string; rule: Rule; inst: RuleInstance }>;
  /** TIDs that logged in this episode, per side (numbers: no key string built per event). */
  readonly tids = { src: new Set<number>(), dst: new Set<number>() };
  /** Every thread that logged in this episode, catalogued events or not: retired when it is judged early. */
  readonly touched: { src: number[]; dst: number[] } = { src: [], dst: [] };
  readonly sideEvents = { src: 0, dst: 0 };
  /** Which signals each side logged in this migration (requirements.ts checks them). */
  readonly seen = { src: new Uint8Array(SIGNALS.length), dst: new Uint8Array(SIGNALS.length) };
  events = 0;
  // NaN for "no timestamp yet" (not null): numbers then are stored in place, not boxed per event.
  private from = NaN;
  private to = NaN;
  /** Each side's migration phase (model/episodes.ts). */
  readonly phases = { src: PHASES.start(), dst: PHASES.start() };
  private readonly phaseEvent: StateEvent = { rows: [], args: '' };
  // One event object, reused for every event: rules keep `ev.ref` (the record), never `ev`.
  private readonly ev = new MutableReplayEvent();

  constructor(
    readonly index: number,
    fileOf: (input: number) => string,
    process: ProcessMode,
    set: RuleSet,
  ) {
    this.mode = new ModeTracker(fileOf, process);
    this.rules = set.rules.map((r) => ({ id: r.id, rule: r, inst: r.create() }));
  }

  /** Whether this state change opens the next migration (see the header comment). */
  startsNewEpisode(side: Side, rows: readonly CatalogRow[], args: string, timed: boolean): boolean {
    if (this.events === 0) return false;
    this.phaseEvent.rows = rows;
    this.phaseEvent.args = args;
    return PHASES.peek(this.phases[side], STATE_SIGNAL, this.phaseContext(side, timed), this.phaseEvent) === 'nextMigration';
  }

  private phaseContext(side: Side, timed: boolean): BoundaryContext {
    return { other: this.phases[side === 'src' ? 'dst' : 'src'], timed };
  }

  observe(ref: EventRef, rows: readonly CatalogRow[], m: number): void {
    this.events++;
    if (ref.side !== null) {
      // Named loads, not `x[ref.side]`: a keyed load per event cost more than the rest of this block.
      const src = ref.side === 'src';
      if (src) this.sideEvents.src++;
      else this.sideEvents.dst++;
      const seen = src ? this.seen.src : this.seen.dst;
      for (let i = 0; i < rows.length; i++) seen[rows[i]!.signalIndex] = 1;
    }
    if (ref.ts !== null) {
      if (Number.isNaN(this.from)) this.from = ref.ts;
      this.to = ref.ts;
    }
    if (m & STATE && ref.side) {
      this.phaseEvent.rows = rows;
      this.phaseEvent.args = ref.args;
      for (const row of rows) {
        if (row.signalIndex === STATE_SIGNAL) PHASES.step(this.phases[ref.side], STATE_SIGNAL, this.phaseContext(ref.side, ref.ts !== null), this.phaseEvent);
      }
    }
    if (m & MODE) this.mode.observe(ref, rows, ref.args);
    if (m & STATE) this.states.observe(ref, rows, ref.args);
    if (m & PREEMPT) this.preempt.observe(ref, rows, ref.args);
    if (m < RULE0) return;
    const ev = this.ev;
    ev.ref = ref;
    ev.args = ref.args;
    ev.rows = rows;
    for (let i = 0; i < this.rules.length; i++) if (m & (RULE0 << i)) this.rules[i]!.inst.onEvent(ev);
  }

  message(m: TraceMessage): void {
    for (const r of this.rules) r.inst.onMessage?.(m);
  }

  finish(ctx: EpisodeContext): EpisodeOutcome {
    const mode = this.mode.result(ctx.writer.model);
    const facts: RunFacts = {
      threads: ctx.threads.scoped(this.tids),
      versions: ctx.versions,
      writerModel: ctx.writer.model,
      mode,
      preempt: this.preempt,
      modeEvidence: this.mode,
      states: this.states,
      sides: ctx.sides,
      options: { stuckAfterMs: ctx.stuckAfterMs },
      locate: ctx.locate,
    };
    const findings: Finding[] = [];
    const inconclusive: Inconclusive[] = [];
    const notApplicable: NotApplicable[] = [];
    const clean: CleanNote[] = [];
    const reqCtx = { catalog: ctx.catalog, seen: this.seen, unplaced: ctx.unplaced };
    for (const r of this.rules) {
      // The rule's predicate runs only where its requirements let it decide.
      const out = precondition(r.rule.requires, facts, reqCtx) ?? applyRequirements(r.rule.requires, r.inst.finish(facts), facts, reqCtx);
      if (out.kind === 'findings') findings.push(...out.findings.map((x) => ({ ...x, mode: modeOf(facts), threads: threadsOf(x, facts) })));
      else if (out.kind === 'inconclusive') inconclusive.push({ rule: r.id, reason: out.reason, ...(out.missing ? { missing: out.missing } : {}) });
      else if (out.kind === 'not-applicable') notApplicable.push({ rule: r.id, reason: out.reason });
      else clean.push({ rule: r.id, note: out.note ?? '' });
    }
    return {
      index: this.index,
      from: Number.isNaN(this.from) ? null : this.from / 1e6,
      to: Number.isNaN(this.to) ? null : this.to / 1e6,
      states: { src: this.states.changes.src.map((c) => c.state), dst: this.states.changes.dst.map((c) => c.state) },
      findings,
      inconclusive,
      notApplicable,
      clean,
      mode: { postcopy: mode.postcopy, preempt: mode.preempt, compatPre72: mode.compatPre72, evidence: mode.evidence },
      facts,
      tids: this.tids,
      statesDropped: this.states.dropped,
      events: this.events,
    };
  }
}

const STRENGTH: ThreadsBy[] = ['event names (no thread ids)', 'per-thread files', 'thread ids'];

/** How a finding's threads were told apart: the weakest way among the sides it points at. */
function threadsOf(f: Finding, facts: RunFacts): ThreadsBy {
  let i = STRENGTH.length - 1;
  for (const l of f.locations) {
    const by = l.side ? facts.sides[l.side].threadsBy : null;
    if (by) i = Math.min(i, STRENGTH.indexOf(by));
  }
  return STRENGTH[i]!;
}

function modeOf(f: RunFacts): NonNullable<Finding['mode']> {
  if (!f.mode.postcopy) return 'precopy';
  if (!f.mode.preempt) return 'postcopy';
  if (f.writerModel === 'migration-thread (<=7.2)') return '7.2-native';
  return f.mode.compatPre72 === true ? 'compat' : f.mode.compatPre72 === false ? 'default' : 'unknown';
}
