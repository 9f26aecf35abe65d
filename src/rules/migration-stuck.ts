// migration-stuck (warning): the trace ends with a migration that neither completed, failed, was
// cancelled nor paused, and no migration thread logged anything for --stuck-after before the end.
// E.g. QEMU 7.2 with multifd + postcopy-preempt hangs this way (../shared/reference/capture.md).
// Says what each migration thread last did.
import type { Location, Side } from '../types.js';
import type { ThreadInfo } from '../model/threads.js';
import { fromModel, ms, tidText, type Rule, type RuleOutcome, type RunFacts } from './rule.js';

export const ID = 'migration-stuck';
const SETTLED = new Set(['completed', 'failed', 'cancelled', 'postcopy-paused', 'none']);
const MIGRATION_ROLES = new Set(['migration', 'rp', 'listen', 'fault', 'preempt', 'multifd']);

function finish(f: RunFacts): RuleOutcome {
  const open: Array<{ side: Side; state: string }> = [];
  for (const side of ['src', 'dst'] as const) {
    if (!f.sides[side].present) continue;
    const last = f.states.last(side);
    if (last !== null && !SETTLED.has(last)) open.push({ side, state: last });
  }
  if (f.states.changes.src.length + f.states.changes.dst.length === 0) {
    return { kind: 'inconclusive', reason: 'no migrate_set_state in the trace: whether the migration finished cannot be told', missing: ['migrate_set_state'] };
  }
  if (open.length === 0) return { kind: 'clean', note: 'every traced side ended in a settled state (completed, failed, cancelled or postcopy-paused)' };
  // A preempt thread that never quit explains the hang better; those rules report it.
  const p = f.preempt;
  if (p.cleanupEntry && !p.exit) return { kind: 'clean', note: 'the hang follows the destination preempt thread not quitting: see preempt-quit-as-network-failure / preempt-quit-stuck' };
  const threads = f.threads.all().filter((t) => MIGRATION_ROLES.has(t.role) && open.some((o) => o.side === t.side));
  const lastProgress = Math.max(...threads.map((t) => t.lastTs ?? -Infinity));
  const end = Math.max(f.sides.src.lastTs ?? -Infinity, f.sides.dst.lastTs ?? -Infinity);
  if (!Number.isFinite(lastProgress) || !Number.isFinite(end)) {
    return { kind: 'inconclusive', reason: 'the trace has no timestamps or no identified migration threads: how long the migration was idle cannot be told' };
  }
  const idle = ms(lastProgress, end);
  const states = open.map((o) => `${o.side} in ${o.state}`).join(', ');
  if (idle < f.options.stuckAfterMs) {
    return { kind: 'inconclusive', reason: `the trace ends ${idle} ms after the last migration event with the migration unfinished (${states}): it may simply have been cut off` };
  }
  const lastSeen: Location[] = threads
    .sort((a: ThreadInfo, b: ThreadInfo) => (a.lastTs ?? 0) - (b.lastTs ?? 0))
    .map((t) => f.locate(t.last, `last thing the ${t.side} ${t.role} thread (${tidText(t.tid)}) logged`));
  return {
    kind: 'findings',
    findings: [
      {
        rule: ID,
        severity: 'warning',
        message: `the migration never finished (${states}) and no migration thread logged anything for the last ${idle} ms of the trace: it is stuck. The last event of each migration thread is listed.`,
        evidence: 'idle-at-end',
        commits: RULE.commits,
        locations: lastSeen.slice(-8),
        details: { idleMs: idle, states },
      },
    ],
  };
}

export const RULE: Rule = {
  id: ID,
  severity: 'warning',
  title: 'Migration unfinished and idle at the end of the trace',
  commits: [],
  refs: ['A.1', 'C.1'],
  requires: {
    sides: [],
    needs: [
      { side: 'src', anyOf: ['state'], when: 'always' },
      { side: 'dst', anyOf: ['state'], when: 'always' },
    ],
  },
  explain: `The trace ends while the migration is still in a working state (setup, active, postcopy-active,
postcopy-recover, ...) on a traced side, and no migration thread (migration, return path, listen,
fault, preempt, multifd) logged anything for --stuck-after milliseconds before the end. Lists what
each of those threads last logged, which usually shows where it blocks. If the trace ends sooner
after the last event, the verdict is inconclusive (the trace may simply have been cut). A hang
explained by the preempt thread not quitting is left to the preempt-quit rules.`,
  create: () => fromModel(finish),
};
