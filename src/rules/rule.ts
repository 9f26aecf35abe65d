// What a rule is: an observer of the replayed events that keeps only what it needs, and decides at
// the end of the run with the whole model (roles, versions, mode) in hand. Rules never read files
// and never print: they return findings or say why they cannot decide.
import type { Finding, LocationHeadings, Location, Severity, Side, TraceMessage } from '../types.js';
import type { CatalogRow } from '../model/catalog.js';
import type { Signal } from '../model/signals.js';
import type { EventRef, ThreadView } from '../model/threads.js';
import type { VersionTracker, WriterModel } from '../model/version.js';
import type { ModeInference } from '../types.js';
import type { PreemptLifecycle } from '../model/preempt.js';
import type { ModeTracker } from '../model/mode.js';
import type { StateHistory } from '../model/states.js';
import type { ThreadsBy } from '../model/attribution.js';
import type { Requirements } from './requirements.js';

export interface ReplayEvent {
  ref: EventRef;
  args: string;
  rows: readonly CatalogRow[];
  has(signal: Signal): boolean;
  /** An argument field named in the catalog (catalog.ts fieldOf), e.g. `state`; null if it does not parse. */
  field(name: string): string | null;
}

export interface RunFacts {
  /** This episode's threads (ThreadTable.scoped). */
  threads: ThreadView;
  versions: VersionTracker;
  writerModel: WriterModel;
  mode: ModeInference & { eosWritten: boolean | null };
  preempt: PreemptLifecycle;
  /** Raw mode evidence (preempt channel vs first PONG, EOS at the destination). */
  modeEvidence: ModeTracker;
  states: StateHistory;
  /** Which sides have an input, how their threads were told apart, and whether they carry timestamps. */
  sides: Record<Side, { present: boolean; threadsBy: ThreadsBy | null; timestamps: boolean; lastTs: number | null; /** Why its trace ends early (input-end.ts), or null. */ cut: string | null }>;
  options: { stuckAfterMs: number };
  /** Turns a kept event into a report location (role resolved with the final thread table). */
  locate(ref: EventRef, note?: string): Location;
}

export type RuleOutcome =
  | { kind: 'findings'; findings: Finding[] }
  | { kind: 'clean'; note?: string }
  | { kind: 'not-applicable'; reason: string }
  | { kind: 'inconclusive'; reason: string; missing?: string[] };

export interface RuleInstance {
  /** Which catalog rows the rule wants to see (the replay skips it for others); all when absent. */
  wants?(row: CatalogRow): boolean;
  onEvent(e: ReplayEvent): void;
  /** QEMU messages (error_report lines) on the same stream, for rules that use them as evidence. */
  onMessage?(m: TraceMessage): void;
  /** Called only where the rule's requirements let it decide (requirements.ts precondition): its sides, its mode. */
  finish(facts: RunFacts): RuleOutcome;
}

export interface Rule {
  id: string;
  severity: Severity;
  title: string;
  /** QEMU commits whose regression the rule catches. */
  commits: string[];
  /** The kinds of evidence its findings rest on, strongest first, each with what it means. */
  evidence: Readonly<Record<string, string>>;
  /** How reports head its findings' first two locations, when they are not two conflicting accesses. */
  headings?: LocationHeadings;
  /** Model sections the rule implements. */
  refs: string[];
  /** Long help: what it means, how to read the evidence (shown by `migtrace explain`). */
  explain: string;
  /** What it needs to decide (requirements.ts): a missing need is inconclusive, never clean. */
  requires: Requirements;
  /**
   * The signals whose events' argument text it reads itself (beyond the catalog's named fields,
   * which `ReplayEvent.field` gives): only those events' arguments are made into strings on the
   * replay thread (catalog.ts argsUse).
   */
  readsArgs?: readonly Signal[];
  create(): RuleInstance;
}

/** What is particular to one finding; the rule supplies its id, severity, commits and headings. */
export interface FindingParts {
  /** One of the rule's declared evidence kinds. */
  evidence: string;
  /** What this run adds to the kind (e.g. `cleanup hung`): shown, but left out of the fingerprint. */
  qualifier?: string;
  message: string;
  locations: Location[];
  object?: string;
  details?: Finding['details'];
  /** When this finding is weaker or stronger than the rule's default. */
  severity?: Severity;
  headings?: LocationHeadings;
}

/** Every finding is built here, so a rule cannot claim evidence it does not declare. */
export function makeFinding(rule: Rule, p: FindingParts): Finding {
  if (!Object.hasOwn(rule.evidence, p.evidence)) throw new Error(`${rule.id}: evidence '${p.evidence}' is not declared by the rule`);
  const headings = p.headings ?? rule.headings;
  return {
    rule: rule.id,
    severity: p.severity ?? rule.severity,
    message: p.message,
    evidence: p.qualifier ? { kind: p.evidence, qualifier: p.qualifier } : { kind: p.evidence },
    ...(headings ? { headings } : {}),
    commits: rule.commits,
    ...(p.object !== undefined ? { object: p.object } : {}),
    locations: inTimeOrder(p.locations),
    ...(p.details ? { details: p.details } : {}),
  };
}

/** The two accesses stay first; the context after them reads in trace time (untimed ones last, in their order). */
function inTimeOrder(locations: Location[]): Location[] {
  const [first, second, ...rest] = locations;
  if (!first || !second) return locations;
  const key = (l: Location) => l.ts ?? Infinity;
  return [first, second, ...rest.map((l, i) => ({ l, i })).sort((a, b) => key(a.l) - key(b.l) || a.i - b.i).map((x) => x.l)];
}

/** A thread as a message names it: `TID 22587`, or `no TID` (the finding's `threads` says how threads were told apart). */
export function tidText(tid: number | null): string {
  return tid === null || tid < 0 ? 'no TID' : `TID ${tid}`;
}

export function ms(a: number, b: number): number {
  return Math.round((b - a) / 10) / 100;
}

/**
 * A rule that needs no events of its own: everything it decides on is in the model the replay
 * keeps (preempt lifecycle, states, threads). `finish` is its whole logic.
 */
export function fromModel(finish: (f: RunFacts) => RuleOutcome): RuleInstance {
  return { wants: () => false, onEvent: () => {}, finish };
}
