// What a rule needs to decide, as data (the engine's step that applies it is
// replay/requirements.ts: a missing requirement becomes `inconclusive`, naming what is missing, or,
// only when the trace proves the situation cannot arise, `not applicable`). Rules keep their
// predicates; they no longer each guard against missing sides, modes or events, and a rule that
// found nothing is "clean" only if what it needed was there.
//
// A need is checked only when a fact of the trace proves it should be met: the source's states
// went postcopy-active → completed, so its EOS window (migration_completion_postcopy_end …) must be
// in the trace; postcopy ran, so a return-path thread exists; the destination's fault thread asked
// for pages, so page-request bookkeeping exists. A trace that lacks it has lost events.
import type { Signal } from '../model/signals.js';
import type { Role, Side } from '../types.js';

/** Facts of the trace that make a need binding (see `holds`). */
export type Fact =
  | 'always'
  | 'postcopy'
  | 'preempt'
  | 'src-postcopy-completed'
  | 'dst-postcopy-completed'
  | 'dst-page-faults'
  | 'dst-cleanup';

/**
 * One thing that must be in the trace: any one of the listed signals, thread roles, states, or
 * (`started:preempt`) the destination preempt thread's start in this migration, on that side.
 */
export interface Need {
  side: Side;
  anyOf: Array<Signal | `role:${Role}` | `state:${string}` | 'started:preempt'>;
  when: Fact;
  /** Checked before the rule decides: its predicate rests on it, so it is not asked when the need is unmet. */
  before?: true;
}

/** What every destination preempt-thread rule needs: the thread (and its start), and the cleanup that asks it to quit once the destination completed. */
export const PREEMPT_THREAD_NEEDS: readonly Need[] = [
  { side: 'dst', anyOf: ['role:preempt'], when: 'preempt' },
  { side: 'dst', anyOf: ['started:preempt'], when: 'preempt', before: true },
  { side: 'dst', anyOf: ['cleanup-entry'], when: 'dst-postcopy-completed' },
];

export interface Requirements {
  /** The processes whose traces the rule reads: a missing one is inconclusive unless the mode rules the situation out. */
  sides: Side[];
  /** The kind of migration the situation needs: not applicable when the trace proves it was otherwise. */
  mode?: 'postcopy' | 'postcopy-preempt';
  /**
   * When the mode is checked after the rule decided (its findings stand; any other outcome meets
   * the mode check as usual) instead of before it: `always`, when the rule's own evidence shows the
   * mode (a postcopy-recover state); `with-preempt`, when with preempt on the situation arises
   * before postcopy too (the preempt channel exists once the capability is on).
   */
  modeAfter?: 'always' | 'with-preempt';
  /**
   * `roles`: the rule reads which role did what, which event names can tell without thread ids;
   * `identity`: it ties events with no role of their own to the thread that logged them (a close to
   * its closer), which needs thread ids or per-thread files.
   */
  threads?: 'roles' | 'identity';
  /** With `identity`: the versions where the events' order alone ties them to their thread (event names then suffice). */
  namesSufficeFor?: string;
  needs?: readonly Need[];
}
