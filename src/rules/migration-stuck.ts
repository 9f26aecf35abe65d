// migration-stuck (warning): the trace ends with a migration that neither completed, failed, was
// cancelled nor paused, and no migration thread logged anything for --stuck-after before the end.
// E.g. QEMU 7.2 with multifd + postcopy-preempt hangs this way (docs/model.md §G.6, measured).
// Says what each migration thread last did.
import type { Finding, Location, Side } from '../types.js';
import type { EventRef } from '../model/threads.js';
import type { ThreadInfo } from '../model/threads.js';
import { Automaton } from '../model/automaton.js';
import { CANCEL, CANCEL_GUARDS } from '../model/migration-states.js';
import { ms, tidText, type ReplayEvent, type Rule, type RuleInstance, type RuleOutcome, type RunFacts, makeFinding } from './rule.js';

export const ID = 'migration-stuck';
const SETTLED = new Set(['completed', 'failed', 'cancelled', 'postcopy-paused', 'none']);
const MIGRATION_ROLES = new Set(['migration', 'rp', 'listen', 'fault', 'preempt', 'multifd']);

/** A silence inside the trace: the side was in a working state, and a later event proves time went on. */
interface Stall {
  side: Side;
  state: string;
  from: EventRef;
  to: EventRef;
  ms: number;
}

// The reactions to the cancel table (model/migration-states.ts): where the cancel was asked for.
const CANCELS = new Automaton<'none' | 'cancelling', 'cancelling' | 'cancelEnded', 'cancelRequested' | 'cancelEnded', Record<Side, EventRef | null>, ReplayEvent>(
  CANCEL,
  CANCEL_GUARDS,
  {
    cancelRequested: (c, e) => void (c[e.ref.side!] = e.ref),
    cancelEnded: (c, e) => void (c[e.ref.side!] = null),
  },
);

class Instance implements RuleInstance {
  private readonly state: Record<Side, string | null> = { src: null, dst: null };
  /** The source's last progress (the destination's silence proves nothing: see onEvent). */
  private lastProgress: EventRef | null = null;
  private longest: Stall | null = null;
  /** A `cancelling` not (yet) followed by `cancelled`, per side. */
  private readonly cancelling: Record<Side, EventRef | null> = { src: null, dst: null };
  private readonly cancels = { src: CANCELS.start(), dst: CANCELS.start() };

  onEvent(e: ReplayEvent): void {
    const { ref } = e;
    const side = ref.side;
    if (side === null || ref.ts === null) return;
    // Only the source drives a migration: a destination is silent whenever no page needs it (all
    // of precopy with the page events filtered out), so its silence proves nothing, and its events
    // count here only as state changes (most of a postcopy trace's events: no more work for them).
    const src = side === 'src';
    const state = src ? this.state.src : this.state.dst;
    const last = this.lastProgress;
    if (src && last?.ts != null && state !== null && !SETTLED.has(state)) {
      const gap = ms(last.ts, ref.ts);
      if (this.longest === null || gap > this.longest.ms) this.longest = { side, state, from: last, to: ref, ms: gap };
    }
    if (e.has('state')) {
      const next = e.field('state');
      if (next) this.state[side] = next;
      for (const row of e.rows) if (CANCELS.reads[row.signalIndex]) CANCELS.step(this.cancels[side], row.signalIndex, this.cancelling, e);
    }
    // The main thread answering QMP (a cancel, a quit) proves time went on; it is not progress.
    if (src && e.rows.some((r) => r.role !== 'main' && r.signal !== 'quit-cancel')) this.lastProgress = ref;
  }

  finish(f: RunFacts): RuleOutcome {
    if (f.states.changes.src.length + f.states.changes.dst.length === 0) {
      return { kind: 'inconclusive', reason: 'no migrate_set_state in the trace: whether the migration finished cannot be told', missing: ['migrate_set_state'] };
    }
    // A destination preempt thread that did not quit (or quit late) explains a hang better; those rules report it.
    const p = f.preempt;
    const quitLate = p.cleanupEntry !== null && (p.exit === null || (p.exit.ts ?? 0) - (p.cleanupEntry.ts ?? 0) > f.options.stuckAfterMs * 1000);
    if (quitLate) return { kind: 'clean', note: 'the hang follows the destination preempt thread not quitting in time: see preempt-quit-as-network-failure / preempt-quit-stuck' };
    // A silence the migration came out of to complete is not a hang (an event set without the
    // per-iteration events is quiet in precopy): only one it never completed after counts.
    const stall = this.longest;
    if (stall && stall.ms > f.options.stuckAfterMs && f.states.last(stall.side) !== 'completed') return { kind: 'findings', findings: [stallFinding(f, stall)] };
    return idleAtEnd(f, this.cancelling);
  }
}

function stallFinding(f: RunFacts, s: Stall): Finding {
  const who = f.threads.roleOf(s.from.side, s.from.tid);
  return makeFinding(RULE, {
    message: `the ${s.side === 'src' ? 'source' : 'destination'} logged no migration progress for ${s.ms} ms while in ${s.state}, and the trace goes on (${s.to.name}): the migration was stuck there. The last event before the silence is where its ${who === 'unknown' ? '' : `${who} `}thread stopped.`,
    evidence: 'silent-while-active',
    headings: { first: 'Last progress', second: 'Time went on' },
    locations: [f.locate(s.from, `last migration progress on the ${s.side} (in ${s.state})`), f.locate(s.to, `next event, ${s.ms} ms later: time went on`)],
    details: { silentMs: s.ms, side: s.side, state: s.state },
  });
}

function idleAtEnd(f: RunFacts, cancelling: Record<Side, EventRef | null>): RuleOutcome {
  const open: Array<{ side: Side; state: string }> = [];
  for (const side of ['src', 'dst'] as const) {
    if (!f.sides[side].present) continue;
    const last = f.states.last(side);
    if (last !== null && !SETTLED.has(last)) open.push({ side, state: last });
  }
  if (open.length === 0) return { kind: 'clean', note: 'every traced side ended in a settled state (completed, failed, cancelled or postcopy-paused), with no long silence while working' };
  const cut = open.map((o) => f.sides[o.side].cut).find((c) => c !== null);
  if (cut) return { kind: 'inconclusive', reason: `the migration is unfinished where the trace ends, and the trace was cut (${cut}): what came after is unknown` };
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
  const cancel = open.map((o) => cancelling[o.side]).find((c) => c !== null);
  return {
    kind: 'findings',
    findings: [
      makeFinding(RULE, {
        message: cancel
          ? `the migration was cancelled but never reached "cancelled" (${states}), and no migration thread logged anything for the last ${idle} ms of the trace: the cancel is stuck. The cancel and the last event of each migration thread are listed.`
          : `the migration never finished (${states}) and no migration thread logged anything for the last ${idle} ms of the trace: it is stuck. The last event of each migration thread is listed.`,
        evidence: cancel ? 'cancel-never-completed' : 'idle-at-end',
        headings: cancel ? { first: 'Cancel requested', second: 'Last seen' } : { first: 'Last seen', second: 'Last seen' },
        locations: [...(cancel ? [f.locate(cancel, 'cancel requested: state cancelling')] : []), ...lastSeen.slice(-8)],
        details: { idleMs: idle, states },
      }),
    ],
  };
}

export const RULE: Rule = {
  id: ID,
  severity: 'warning',
  title: 'Migration unfinished and idle at the end of the trace',
  commits: [],
  evidence: {
    'silent-while-active': 'the source logged no progress for --stuck-after while working, and the trace went on',
    'cancel-never-completed': 'a cancel never reached cancelled, and the trace ends idle',
    'idle-at-end': 'the migration is unfinished and idle for --stuck-after at the end of the trace',
  },
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
  create: () => new Instance(),
};
