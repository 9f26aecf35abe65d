// postcopy-split-brain: once the destination runs the guest in postcopy, the source must never
// fail the migration and restart its own copy: both would run. Real QEMU 10.0 does this when
// migrate-pause or a connection kill arrives after the source has sent everything and waits for
// the destination's SHUT (docs/model.md §D.3; docs/real-positives.md).
import type { CatalogRow } from '../model/catalog.js';
import type { StateChange } from '../model/states.js';
import type { EventRef } from '../model/threads.js';
import { makeFinding, type ReplayEvent, type Rule, type RuleInstance, type RuleOutcome, type RunFacts } from './rule.js';

export const ID = 'postcopy-split-brain';

class Instance implements RuleInstance {
  /** The source's QMP `quit` (migration_cancel / migrate_fd_cancel): the process is going away. */
  private srcQuit: EventRef | null = null;

  wants(row: CatalogRow): boolean {
    return row.signal === 'quit-cancel';
  }
  onEvent(e: ReplayEvent): void {
    if (e.ref.side === 'src') this.srcQuit ??= e.ref;
  }

  finish(f: RunFacts): RuleOutcome {
    const src = f.states.changes.src;
    const srcPostcopy = src.find((c) => c.state === 'postcopy-active');
    const srcFailed = srcPostcopy ? src.find((c) => c.state === 'failed' && (c.ref.ts ?? 0) >= (srcPostcopy.ref.ts ?? 0)) : undefined;
    if (!srcFailed) return { kind: 'clean', note: 'the source did not fail after entering postcopy' };
    // A `failed` logged while the source process shuts down (QMP quit cancels the migration first)
    // restarts no guest: the process exits.
    if (this.srcQuit && (this.srcQuit.ts ?? Infinity) <= (srcFailed.ref.ts ?? -Infinity)) {
      return { kind: 'clean', note: 'the source reached "failed" only while shutting down on QMP quit (after migration_cancel): its guest does not run again' };
    }
    if (!f.sides.dst.present) {
      return { kind: 'inconclusive', reason: 'the source failed during postcopy; without the destination trace it cannot be told whether the destination was running the guest' };
    }
    const dstRun = f.preempt.dstRun ?? f.states.changes.dst.find((c) => c.state === 'postcopy-active')?.ref ?? null;
    if (!dstRun) return { kind: 'clean', note: 'the destination never started the guest (no loadvm_postcopy_handle_run / postcopy-active)' };
    const dstFailed = f.states.changes.dst.find((c: StateChange) => c.state === 'failed');
    if (dstFailed && (dstFailed.ref.ts ?? 0) <= (srcFailed.ref.ts ?? 0) + 1e6) {
      return { kind: 'clean', note: 'the destination failed too: a single live copy is left on neither side (see its log)' };
    }
    const dstLast = f.states.last('dst');
    const locations = [
      f.locate(srcFailed.ref, 'source gives up the migration and can resume its own guest'),
      f.locate(dstRun, 'destination already runs the guest (postcopy)'),
    ];
    const dstState = f.states.changes.dst.at(-1);
    if (dstState) locations.push(f.locate(dstState.ref, `destination's last state: ${dstState.state}`));
    return {
      kind: 'findings',
      findings: [
        makeFinding(RULE, {
          message:
            `the source left postcopy for "failed" after the destination had started running the guest, and the destination did not fail (its last state: ${dstLast ?? 'unknown'}). ` +
            `Two live copies of the guest may now run; their memory and disks diverge. After postcopy starts the source must pause (postcopy-paused) and wait for recovery, never fail.`,
          evidence: 'source-failed-after-dst-run',
          locations,
          details: { dstLastState: dstLast },
        }),
      ],
    };
  }
}

export const RULE: Rule = {
  id: ID,
  severity: 'error',
  title: 'Source fails the migration after the destination started the guest (two live copies)',
  commits: ['ef796ee93b', 'f8c543e808'],
  evidence: { 'source-failed-after-dst-run': 'the source went to failed after the destination had started the guest, and the destination did not fail' },
  refs: ['D.3', 'E #10-11'],
  requires: {
    sides: ['src'],
    mode: 'postcopy',
    needs: [
      { side: 'src', anyOf: ['state'], when: 'always' },
      { side: 'dst', anyOf: ['state'], when: 'always' },
      { side: 'dst', anyOf: ['dst-run', 'state:postcopy-active'], when: 'postcopy' },
    ],
  },
  explain: `In postcopy the destination runs the guest while memory still lives partly on the source.
From then on a failure must pause both sides (postcopy-paused) until migrate-recover; the source must
not go to "failed" and resume its own copy, because the destination's copy keeps running: two live
guests with diverging memory and disks (split brain).

The rule fires when the source's state goes to "failed" after its postcopy-active, after the
destination started the guest (loadvm_postcopy_handle_run, or its postcopy-active), and the
destination did not fail as well. QEMU 10.0 does this when migrate-pause or a connection kill lands
after the source has sent everything and waits for the destination's SHUT. Needs migrate_set_state
on both sides.`,
  create: () => new Instance(),
};
