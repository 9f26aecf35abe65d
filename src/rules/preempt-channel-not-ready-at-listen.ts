// preempt-channel-not-ready-at-listen (7afbdada7e, 9.0; §E #12): a destination must have its
// preempt channel before it processes LISTEN, or a device load in the package can fault on a page
// that only the preempt channel can bring, before the main thread accepted it: a hang.
import { GE_9_0, isWithin, LE_8_2, overlaps } from '../model/versions.js';
import type { EventRef } from '../model/threads.js';
import { fromModel, type Rule, type RuleOutcome, type RunFacts, makeFinding } from './rule.js';

export const ID = 'preempt-channel-not-ready-at-listen';

function finish(f: RunFacts): RuleOutcome {
  const p = f.preempt;
  if (!p.dstListen) return { kind: 'inconclusive', reason: 'the destination never logged loadvm_postcopy_handle_listen', missing: ['loadvm_postcopy_handle_listen'] };
  const range = f.versions.range('dst');
  if (isWithin(range, LE_8_2)) return { kind: 'not-applicable', reason: 'destination < 9.0 predates 7afbdada7e (8.2.x stable has it as 6983d1657d): the order was not guaranteed' };
  // A preempt migration always gets its channel: none at all in the trace means the event is missing.
  if (!p.dstPreemptChannel) return { kind: 'inconclusive', reason: 'postcopy-preempt ran, but the destination trace shows no postcopy_preempt_new_channel: when its preempt channel arrived cannot be told', missing: ['postcopy_preempt_new_channel'] };
  if (happenedBefore(p.dstPreemptChannel, p.dstListen)) {
    return { kind: 'clean', note: 'the destination had its preempt channel before LISTEN' };
  }
  const sure = isWithin(range, GE_9_0);
  const locations = [f.locate(p.dstListen, 'destination processes LISTEN')];
  locations.push(f.locate(p.dstPreemptChannel, 'preempt channel accepted only now'));
  return {
    kind: 'findings',
    findings: [
      makeFinding(RULE, {
        severity: sure ? 'error' : 'warning',
        message:
          `the destination processed LISTEN before accepting its preempt channel. A device load in the postcopy package can then fault on a page only the preempt channel can deliver, and the migration hangs. ` +
          (sure ? 'On a 9.0+ destination this is a regression of 7afbdada7e.' : `The destination is ${overlaps(range, GE_9_0) ? 'possibly' : ''} older than 9.0 (version ${f.versions.guess('dst').range}); there this order was the known bug 7afbdada7e fixed.`),
        evidence: 'channel-after-listen',
        locations,
      }),
    ],
  };
}

/** Program order: within one file (one process, here one thread) the line order decides; across files, time. */
function happenedBefore(a: EventRef, b: EventRef): boolean {
  if (a.input === b.input) return a.line < b.line;
  return (a.ts ?? 0) <= (b.ts ?? 0);
}

export const RULE: Rule = {
  id: ID,
  severity: 'error',
  title: 'Destination processes LISTEN before its preempt channel exists',
  commits: ['7afbdada7e', '6983d1657d'],
  evidence: { 'channel-after-listen': 'the destination accepted its preempt channel only after processing LISTEN' },
  refs: ['E #12', 'C.3 D1-D2'],
  requires: { sides: ['dst'], mode: 'postcopy-preempt', needs: [{ side: 'dst', anyOf: ['dst-listen'], when: 'preempt' }] },
  explain: `A device's load in the postcopy package (e.g. virtio) can fault on guest pages, and with preempt
those pages come through the preempt channel. If the destination processes LISTEN before its main
thread accepted the preempt connection, nothing can deliver them and the migration hangs.
7afbdada7e (9.0; 6983d1657d in 8.2 stable) makes the destination wait for the preempt channel.

Fires when the destination's postcopy_preempt_new_channel comes after its
loadvm_postcopy_handle_listen enter: an error on 9.0+ destinations, a warning when the version
cannot be told. Not for destinations known to be older.`,
  create: () => fromModel(finish),
};
