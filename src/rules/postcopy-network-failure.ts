// postcopy-network-failure (info, §D.3): a genuine failure of the migration channels during
// postcopy — both sides pause (postcopy-paused; the destination's listen thread logs
// postcopy_pause_incoming) — with whether and when the migration recovered. Reported so a reader
// knows the run was not clean sailing; it is not a regression.
import type { Location, TraceMessage } from '../types.js';
import type { CatalogRow } from '../model/catalog.js';
import type { StateChange } from '../model/states.js';
import type { EventRef } from '../model/threads.js';
import { ms, type ReplayEvent, type Rule, type RuleInstance, type RuleOutcome, type RunFacts, makeFinding } from './rule.js';

export const ID = 'postcopy-network-failure';
const MAX_KEPT = 8;
const FAILURE_TEXT = /Detected IO failure for postcopy|Unable to (read from|write to) socket|Connection reset|Broken pipe|Channel error/i;

class Instance implements RuleInstance {
  private readonly errors: EventRef[] = [];
  private readonly messages: TraceMessage[] = [];

  wants(row: CatalogRow): boolean {
    return row.signal === 'migrate-error';
  }

  onEvent(e: ReplayEvent): void {
    if (e.has('migrate-error') && this.errors.length < MAX_KEPT) this.errors.push(e.ref);
  }

  onMessage(m: TraceMessage): void {
    if (this.messages.length < MAX_KEPT && FAILURE_TEXT.test(m.text)) this.messages.push(m);
  }

  finish(f: RunFacts): RuleOutcome {
    const paused = [...f.states.find('src', 'postcopy-paused'), ...f.states.find('dst', 'postcopy-paused')];
    const incoming = f.preempt.incomingPauses;
    if (paused.length === 0 && incoming.length === 0) return { kind: 'clean', note: 'no postcopy pause on either side' };
    const first = [...paused.map((c) => c.ref), ...incoming].sort((a, b) => (a.ts ?? 0) - (b.ts ?? 0))[0]!;
    const srcPaused = f.states.find('src', 'postcopy-paused')[0];
    const dstPaused = f.states.find('dst', 'postcopy-paused')[0];
    const recovered = (side: 'src' | 'dst', after: StateChange | undefined): StateChange | undefined =>
      after ? f.states.changes[side].find((c) => c.state === 'postcopy-active' && (c.ref.ts ?? 0) > (after.ref.ts ?? 0)) : undefined;
    const srcBack = recovered('src', srcPaused);
    const dstBack = recovered('dst', dstPaused);
    const completed = (side: 'src' | 'dst') => f.states.changes[side].some((c) => c.state === 'completed');
    const byUser = this.errors.some((r) => /paused by the user/.test(r.args));
    const locations: Location[] = [];
    if (incoming[0]) locations.push(f.locate(incoming[0], 'destination listen thread pauses: channel failure detected'));
    if (dstPaused) locations.push(f.locate(dstPaused.ref, 'destination postcopy-paused'));
    if (srcPaused) locations.push(f.locate(srcPaused.ref, 'source postcopy-paused'));
    for (const p of f.preempt.pauses.filter((x) => !x.afterCleanupEntry).slice(0, 1)) locations.push(f.locate(p.pause, 'destination preempt thread pauses (read failed)'));
    for (const r of this.errors.slice(0, 2)) locations.push(f.locate(r, `source error: ${r.args.replace(/^error=/, '')}`));
    if (srcBack) locations.push(f.locate(srcBack.ref, 'source back in postcopy-active (recovered)'));
    if (dstBack) locations.push(f.locate(dstBack.ref, 'destination back in postcopy-active (recovered)'));
    const recoveredBoth = srcBack !== undefined || dstBack !== undefined;
    const downMs = srcPaused && srcBack && srcPaused.ref.ts !== null && srcBack.ref.ts !== null ? ms(srcPaused.ref.ts, srcBack.ref.ts) : null;
    const finished = completed('src') && completed('dst');
    const message =
      `the migration channels failed during postcopy${byUser ? ' (QMP migrate-pause: "Postcopy migration is paused by the user")' : ''}: ` +
      `${[srcPaused ? 'source' : null, dstPaused ? 'destination' : null].filter(Boolean).join(' and ') || 'the destination'} paused` +
      (recoveredBoth
        ? `, then recovered${downMs !== null ? ` after ${downMs} ms` : ''}${finished ? ' and completed' : ''}.`
        : f.states.find('src', 'postcopy-recover').length || f.states.find('dst', 'postcopy-recover').length
          ? ', and a recovery was attempted (postcopy-recover) but did not get back to postcopy-active within the trace.'
          : ', and the trace shows no recovery.') +
      ` This is the network-failure path working as designed (§D.3), not a quit misread as a failure.` +
      (this.messages.length ? ` QEMU said: "${this.messages[0]!.text}".` : '');
    const finding = makeFinding(RULE, {
      message,
      evidence: byUser ? 'migrate-pause' : 'channel-failure',
      locations,
      details: {
        firstPauseAt: f.locate(first).ts,
        recovered: recoveredBoth,
        downtimeMs: downMs,
        completed: finished,
        pauses: paused.length,
      },
    });
    return { kind: 'findings', findings: [finding] };
  }
}

export const RULE: Rule = {
  id: ID,
  severity: 'info',
  title: 'Migration channels failed during postcopy (with or without recovery)',
  commits: ['ef796ee93b', 'f8c543e808'],
  evidence: {
    'migrate-pause': 'the pause was asked for over QMP (migrate-pause)',
    'channel-failure': 'a channel failed: the sides paused on their own',
  },
  headings: { first: 'Access', second: 'Also' },
  refs: ['C.3 S9/D8', 'D.3'],
  readsArgs: ['migrate-error'], // the error text: a pause by the user is not a network failure
  requires: { sides: [], mode: 'postcopy', needs: [{ side: 'src', anyOf: ['state'], when: 'always' }, { side: 'dst', anyOf: ['state'], when: 'always' }] },
  explain: `During postcopy the guest runs on the destination while pages still come from the source, so a
broken channel cannot simply fail the migration: both sides pause (state postcopy-paused; the
destination listen thread logs postcopy_pause_incoming, its preempt thread postcopy_pause_fast_load)
and wait for migrate-recover / migrate resume=true. This rule reports such a pause (information,
not a regression) with the evidence that it was a genuine failure — a destination pause, not just a
preempt thread that paused after the cleanup asked it to quit (that is
preempt-quit-as-network-failure) — and whether and when the migration recovered.`,
  create: () => new Instance(),
};
