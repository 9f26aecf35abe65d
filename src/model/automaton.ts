// One small engine for the model's lifecycles. A lifecycle is a table (data): its states, and
// transitions `from --signal [guard]--> to / action`, each saying which QEMU code it models. The
// guards and actions are named in the table and written apart, by the lifecycle that owns the table
// (the idea of Linux's runtime-verification monitors: the automaton as data, one generic engine,
// the reactions apart; and of Trace Compass's XML state providers).
//
// The model watches, it does not reject: an event that no transition of the current state takes
// leaves the state as it is (a trace may lack events, or hold them from an older migration) and is
// counted, not dropped silently. Rows are tried in table order; the first whose guard holds wins.
import { SIGNALS, type Signal } from './signals.js';

/** `*` as a source state: any state. `=` as a target: stay in the current state. */
interface Transition<S extends string, G extends string, A extends string> {
  from: S | '*';
  on: Signal;
  guard?: G;
  to: S | '=';
  action?: A;
  /** The QEMU code the transition models, with the docs/model.md section that says so. */
  models: string;
}

export interface Table<S extends string, G extends string, A extends string> {
  name: string;
  states: readonly S[];
  initial: S;
  transitions: ReadonlyArray<Transition<S, G, A>>;
}

export type Guards<G extends string, C, E> = Record<G, (ctx: C, ev: E) => boolean>;
type Actions<A extends string, C, E> = Record<A, (ctx: C, ev: E) => void>;

interface Compiled<C, E> {
  to: number; // -1: stay
  actionName: string | null;
  guard: ((ctx: C, ev: E) => boolean) | null;
  action: ((ctx: C, ev: E) => void) | null;
}

/** A table checked and indexed for the replay: per state and signal, the candidate rows in order. */
export class Automaton<S extends string, G extends string, A extends string, C, E> {
  /** byState[state * SIGNALS.length + signal]: the rows to try, or undefined when none. */
  private readonly index: Array<Array<Compiled<C, E>> | undefined>;
  readonly initial: number;
  /** The signals some transition takes (what the lifecycle reads). */
  readonly signals: ReadonlySet<Signal>;
  /** The same, by SIGNALS index: feed a run only the events of these. */
  readonly reads: Uint8Array;

  constructor(
    readonly table: Table<S, G, A>,
    guards: Guards<G, C, E>,
    actions: Actions<A, C, E>,
  ) {
    const problems: string[] = [];
    const stateOf = (s: string, where: string): number => {
      const i = table.states.indexOf(s as S);
      if (i < 0) problems.push(`${table.name}: ${where} names no state '${s}'`);
      return i;
    };
    this.initial = stateOf(table.initial, 'initial');
    this.index = new Array<Array<Compiled<C, E>> | undefined>(table.states.length * SIGNALS.length);
    const signals = new Set<Signal>();
    table.transitions.forEach((t, n) => {
      const where = `transition ${n + 1} (${t.from} --${t.on}--> ${t.to})`;
      const sig = SIGNALS.indexOf(t.on);
      if (sig < 0) problems.push(`${table.name}: ${where} names no signal '${t.on}'`);
      if (!t.models.trim()) problems.push(`${table.name}: ${where} does not say which QEMU code it models`);
      const to = t.to === '=' ? -1 : stateOf(t.to, where);
      const guard = t.guard === undefined ? null : guards[t.guard];
      const action = t.action === undefined ? null : actions[t.action];
      if (guard === undefined) problems.push(`${table.name}: ${where} names no guard '${t.guard}'`);
      if (action === undefined) problems.push(`${table.name}: ${where} names no action '${t.action}'`);
      const froms = t.from === '*' ? table.states.map((_, i) => i) : [stateOf(t.from, where)];
      for (const from of froms) {
        if (from < 0 || sig < 0) continue;
        const k = from * SIGNALS.length + sig;
        (this.index[k] ??= []).push({ to, actionName: t.action ?? null, guard: guard ?? null, action: action ?? null });
      }
      signals.add(t.on);
    });
    if (problems.length) throw new Error(`invalid lifecycle table:\n  ${problems.join('\n  ')}`);
    this.signals = signals;
    this.reads = new Uint8Array(SIGNALS.length);
    for (const s of signals) this.reads[SIGNALS.indexOf(s)] = 1;
  }

  /** A new run of the lifecycle, in its initial state. */
  start(): Monitor<S> {
    return new Monitor(this.table.states, this.initial);
  }

  /**
   * The transition an event would take, without taking it: its action's name, null for a
   * transition without one, undefined when none would be taken. For a caller whose reaction comes
   * before the event is fed (a boundary that opens a new run).
   */
  peek(run: Monitor<string>, signalIndex: number, ctx: C, ev: E): A | null | undefined {
    const rows = this.index[run.at * SIGNALS.length + signalIndex];
    if (rows === undefined) return undefined;
    for (const t of rows) if (t.guard === null || t.guard(ctx, ev)) return t.actionName as A | null;
    return undefined;
  }

  /**
   * Feeds one event (one catalog row's signal, by SIGNALS index) to a run: takes the first
   * transition of the run's state whose guard holds, runs its action, and moves to its target.
   * Returns whether a transition was taken; an event none takes is counted on the run (`ignored`).
   */
  step(run: Monitor<string>, signalIndex: number, ctx: C, ev: E): boolean {
    const rows = this.index[run.at * SIGNALS.length + signalIndex];
    if (rows !== undefined) {
      for (let i = 0; i < rows.length; i++) {
        const t = rows[i]!;
        if (t.guard !== null && !t.guard(ctx, ev)) continue;
        t.action?.(ctx, ev);
        if (t.to >= 0) run.at = t.to;
        return true;
      }
    }
    run.ignored++;
    return false;
  }
}

/** One run of a lifecycle: where it is, and how many events of the signals it reads it did not take. */
export class Monitor<S extends string> {
  ignored = 0;
  constructor(
    private readonly states: readonly S[],
    public at: number,
  ) {}

  get state(): S {
    return this.states[this.at]!;
  }
}
