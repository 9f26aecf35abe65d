// preempt-channel-before-main (5655aab079, §E #2, §D.5): a >= 8.0 source must create the preempt
// channel only after the main channel is known to work (the first PONG, or resume-prepare);
// otherwise the destination may accept the preempt connection first and take it for the main one.
// x-preempt-pre-7-2 compat mode keeps the old order on purpose (06064a6715): then it is expected.
import { isWithin, LE_7_2 } from '../model/versions.js';
import { fromModel, type Rule, type RuleOutcome, type RunFacts, makeFinding } from './rule.js';

export const ID = 'preempt-channel-before-main';

function finish(f: RunFacts): RuleOutcome {
  const m = f.modeEvidence;
  if (!m.srcFirstChannel) return { kind: 'inconclusive', reason: 'the source never logged postcopy_preempt_new_channel', missing: ['postcopy_preempt_new_channel'] };
  if (!m.srcChannelBeforePong) return { kind: 'clean', note: 'the preempt channel was created after the first PONG' };
  if (f.writerModel === 'migration-thread (<=7.2)' || isWithin(f.versions.range('src'), LE_7_2)) {
    return { kind: 'not-applicable', reason: 'source <= 7.2 predates 5655aab079: it always creates the preempt channel at setup' };
  }
  if (!m.firstSrcPong) return { kind: 'inconclusive', reason: 'no source_return_path_thread_pong in the trace: the order cannot be told', missing: ['source_return_path_thread_pong'] };
  const corroborated = m.dstEos !== null;
  const locations = [f.locate(m.srcFirstChannel, 'preempt channel created'), f.locate(m.firstSrcPong, 'first PONG: the main channel is known to work only from here')];
  if (m.dstEos) locations.push(f.locate(m.dstEos, 'EOS on the destination preempt channel: compat mode confirmed'));
  return {
    kind: 'findings',
    findings: [
      makeFinding(RULE, {
        severity: corroborated ? 'info' : 'warning',
        message: corroborated
          ? 'the source created the preempt channel before the main channel was known to work; expected in x-preempt-pre-7-2 compat mode (confirmed by the EOS on the destination preempt channel), which keeps the pre-5655aab079 order so 7.2 destinations work. The destination may take the preempt connection for the main one on an unreliable network (a precopy stall with no error).'
          : 'the source created the preempt channel before the first PONG: either a regression of 5655aab079, or x-preempt-pre-7-2 compat mode (a machine type <= 7.2) that this trace cannot confirm. The destination may accept the preempt connection first and take it for the main channel (a precopy stall with no error in the trace).',
        evidence: corroborated ? 'compat-mode' : 'channel-before-pong',
        locations,
      }),
    ],
  };
}

export const RULE: Rule = {
  id: ID,
  severity: 'warning',
  title: 'Source creates the preempt channel before the main channel is known to work',
  commits: ['5655aab079', '06064a6715'],
  evidence: {
    'compat-mode': 'channel before the first PONG, and the destination trace confirms compat mode (an EOS on its preempt channel)',
    'channel-before-pong': 'channel before the first PONG, with no confirmation of compat mode',
  },
  refs: ['D.0', 'D.5', 'E #2'],
  requires: { sides: ['src'], mode: 'postcopy-preempt', modeAfter: 'with-preempt', needs: [{ side: 'src', anyOf: ['preempt-channel'], when: 'preempt' }] },
  explain: `The destination takes the first connection it accepts as the main channel. 5655aab079 (8.0) made the
source create the preempt channel only after the first PONG on the return path (or during
resume-prepare), so the main channel always comes first. x-preempt-pre-7-2 compat mode (machine
types <= 7.2, 06064a6715) keeps the old order on purpose so 7.2 destinations keep working.

Fires (warning) when a >= 8.0 source logs postcopy_preempt_new_channel before its first
source_return_path_thread_pong; reported as info with that explanation when the destination trace
confirms compat mode (an EOS on its preempt channel). Not for <= 7.2 sources, which predate the fix.`,
  create: () => fromModel(finish),
};
