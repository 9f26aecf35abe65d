// recovery-hang (7aa6070d09, f8c543e808; §E #11): the return path fails again while the source is
// recovering (postcopy-recover) and the migration does not go back to postcopy-paused: before the
// fix the migration thread waited on rp_sem forever.
import type { EventRef } from '../model/threads.js';
import { Automaton } from '../model/automaton.js';
import type { CatalogRow } from '../model/catalog.js';
import { POSTCOPY_RECOVERY, POSTCOPY_RECOVERY_GUARDS } from '../model/migration-states.js';
import { ms, type ReplayEvent, type Rule, type RuleInstance, type RuleOutcome, type RunFacts, makeFinding } from './rule.js';

export const ID = 'recovery-hang';

// The reactions to the postcopy-recovery table (model/migration-states.ts).
const RECOVERY = new Automaton<'watching' | 'recovering' | 'rp-failed' | 'paused-again', 'recover' | 'notRecover' | 'pausedOrFailed', 'enterRecover' | 'rpFailed' | 'pausedAgain', Instance, ReplayEvent>(
  POSTCOPY_RECOVERY,
  POSTCOPY_RECOVERY_GUARDS,
  {
    enterRecover: (r, e) => {
      r.recovers++;
      r.recoverState = e.ref;
    },
    rpFailed: (r, e) => void (r.failedInRecover = e.ref),
    pausedAgain: (r, e) => void (r.pausedAfter = e.ref),
  },
);

class Instance implements RuleInstance {
  failedInRecover: EventRef | null = null;
  pausedAfter: EventRef | null = null;
  recovers = 0;
  recoverState: EventRef | null = null;
  private readonly run = RECOVERY.start();

  wants(row: CatalogRow): boolean {
    return row.side !== 'dst' && RECOVERY.signals.has(row.signal);
  }

  onEvent(e: ReplayEvent): void {
    if (e.ref.side !== 'src') return;
    for (const row of e.rows) if (RECOVERY.reads[row.signalIndex]) RECOVERY.step(this.run, row.signalIndex, this, e);
  }

  finish(f: RunFacts): RuleOutcome {
    if (this.recovers === 0) return { kind: 'not-applicable', reason: 'no postcopy recovery in this trace' };
    if (!this.failedInRecover) return { kind: 'clean', note: 'the return path did not fail during recovery' };
    if (this.pausedAfter) return { kind: 'clean', note: 'the return path failed during recovery and the migration went back to postcopy-paused' };
    const end = f.sides.src.lastTs;
    const idle = end !== null && this.failedInRecover.ts !== null ? ms(this.failedInRecover.ts, end) : null;
    if (idle === null || idle < f.options.stuckAfterMs) {
      return { kind: 'inconclusive', reason: `the return path failed during recovery and the trace ends ${idle ?? '?'} ms later, before --stuck-after: cannot tell whether it would have paused` };
    }
    return {
      kind: 'findings',
      findings: [
        makeFinding(RULE, {
          message: `the source return path failed again while recovering (postcopy-recover), and for the remaining ${idle} ms of the trace the migration did not go back to postcopy-paused: the migration thread waits for a return path that is gone. 7aa6070d09/f8c543e808 (8.2) kick it back to paused.`,
          evidence: 'no-pause-after-rp-failure',
          locations: [
            f.locate(this.failedInRecover, 'return path fails during postcopy-recover'),
            ...(this.recoverState ? [f.locate(this.recoverState, 'source enters postcopy-recover')] : []),
            ...f.threads
              .withRole('migration', 'src')
              .filter((t) => (t.lastTs ?? 0) >= (this.recoverState?.ts ?? 0))
              .map((t) => f.locate(t.last, `the migration thread's last event: where it waits for the return path`)),
          ],
        }),
      ],
    };
  }
}

export const RULE: Rule = {
  id: ID,
  severity: 'error',
  title: 'Return path fails during postcopy recovery and the migration does not pause again',
  commits: ['7aa6070d09', 'f8c543e808'],
  evidence: { 'no-pause-after-rp-failure': 'the return path failed in postcopy-recover and no postcopy-paused followed within --stuck-after' },
  headings: { first: 'Return path fails', second: 'Related' },
  refs: ['E #11', 'C.3 S8-S10'],
  requires: { sides: ['src'], mode: 'postcopy', modeAfter: 'always', needs: [{ side: 'src', anyOf: ['state'], when: 'always' }] },
  explain: `During postcopy-recover the source migration thread waits for the new return path. If the return path
fails again (source_return_path_thread_bad_end while in postcopy-recover), 8.2+ (7aa6070d09,
f8c543e808) kicks the migration back to postcopy-paused so it can be recovered once more; before,
the migration thread waited on rp_sem forever. Fires when that failure is not followed by
postcopy-paused (or failed) within the trace and the trace goes on past --stuck-after.`,
  create: () => new Instance(),
};
