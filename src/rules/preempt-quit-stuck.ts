// preempt-quit-stuck (§D.4 "STUCK JOIN", §G.3): the destination cleanup started and the preempt
// thread never exits, within the trace or within --stuck-after. Sub-classified with what the
// trace shows (§D.4 a/b/c).
import type { Finding } from '../types.js';
import { isWithin, LE_7_2 } from '../model/versions.js';
import { shownTid } from '../model/attribution.js';
import { fromModel, ms, tidText, type Rule, type RuleOutcome, type RunFacts, makeFinding } from './rule.js';
import { PREEMPT_THREAD_NEEDS } from './requirements.js';

export const ID = 'preempt-quit-stuck';

function finish(f: RunFacts): RuleOutcome {
  const p = f.preempt;
  if (!p.cleanupEntry) return { kind: 'not-applicable', reason: 'the destination cleanup never started in this trace (no postcopy_ram_incoming_cleanup_entry)' };
  if (p.exit) {
    const gap = p.exit.ts !== null && p.cleanupEntry.ts !== null ? ms(p.cleanupEntry.ts, p.exit.ts) : null;
    const tooLate = gap !== null && gap > f.options.stuckAfterMs;
    if (!tooLate) {
      return { kind: 'clean', note: gap === null ? 'the preempt thread exited' : gap < 0 ? `the preempt thread exited ${-gap} ms before the cleanup started (EOS)` : `the preempt thread exited ${gap} ms after the cleanup started` };
    }
    return { kind: 'findings', findings: [finding(f, `exited only ${gap} ms after the cleanup started (limit --stuck-after ${f.options.stuckAfterMs} ms)`, 'slow-exit')] };
  }
  // A thread that paused after the quit request did not get stuck quitting: either it misread the
  // quit (preempt-quit-as-network-failure reports that) or the destination really paused and the
  // thread waits for recovery (postcopy-network-failure).
  const paused = p.pauses.find((x) => x.afterCleanupEntry);
  if (paused) {
    return {
      kind: 'clean',
      note: paused.incomingPauseBetween
        ? 'the preempt thread paused with the destination (a genuine failure) and waits for recovery'
        : 'the preempt thread did not exit because it paused: reported by preempt-quit-as-network-failure',
    };
  }
  const last = f.sides.dst.lastTs;
  const entryTs = p.cleanupEntry.ts;
  if (entryTs === null || last === null) {
    return { kind: 'inconclusive', reason: 'the destination trace has no timestamps, so how long the preempt thread had to exit cannot be told' };
  }
  const observed = ms(entryTs, last);
  if (observed < f.options.stuckAfterMs) {
    return {
      kind: 'inconclusive',
      reason: `the destination trace ends ${observed} ms after the cleanup started, before --stuck-after (${f.options.stuckAfterMs} ms): the preempt thread may still have exited`,
    };
  }
  return { kind: 'findings', findings: [finding(f, `never exited; the trace goes on for ${observed} ms after the cleanup started`, 'never-exited')] };
}

function finding(f: RunFacts, what: string, evidence: string): Finding {
  const p = f.preempt;
  const entry = p.cleanupEntry!;
  const dstOld = isWithin(f.versions.range('dst'), LE_7_2);
  // §D.4: (a) a 7.2 destination waits for an EOS a new-mode source never sends; (b) TLS without
  // 86d063fa83 cannot shut the socket down; (c) a regression of the QUIT status check.
  const cause = dstOld
    ? '(a) a <= 7.2 destination joins its preempt thread only after an EOS, and a new-mode (>= 8.0) source sends none: the breakage 06064a6715 / x-preempt-pre-7-2 prevents'
    : f.mode.compatPre72 === false
      ? '(b) with TLS, qemu_file_shutdown() cannot wake the read without 86d063fa83; otherwise (c) the preempt thread no longer sees PREEMPT_THREAD_QUIT'
      : 'the shutdown did not wake the preempt thread: TLS without 86d063fa83 (b), or a regression of the QUIT check (c)';
  const locations = [
    f.locate(entry, `cleanup starts: PREEMPT_THREAD_QUIT + qemu_file_shutdown(postcopy_qemufile_dst) follow here (no events, §C.3 D5)`),
    f.locate(p.lastRead ?? p.entry!, p.lastRead ? 'last thing the preempt thread logged' : 'preempt thread started'),
  ];
  if (p.exit) locations.push(f.locate(p.exit, 'preempt thread exits'));
  return makeFinding(RULE, {
    message: `the destination preempt thread (${tidText(p.tid)}) ${what}. The cleanup waits to join it, so SHUT is never sent and the source waits forever. Likely cause: ${cause}.`,
    evidence,
    object: 'postcopy_qemufile_dst',
    locations,
    details: { preemptTid: shownTid(p.tid), cleanupTid: shownTid(entry.tid), stuckAfterMs: f.options.stuckAfterMs, shutSent: p.sendShut !== null, cleanupJoined: p.cleanupJoin !== null },
  });
}

export const RULE: Rule = {
  id: ID,
  severity: 'error',
  title: 'Destination preempt thread never exits after the cleanup asked it to quit',
  commits: ['6621883f93', '06064a6715', '86d063fa83'],
  evidence: {
    'never-exited': 'the preempt thread never exited, and the trace goes on past --stuck-after',
    'slow-exit': 'the preempt thread exited, but later than --stuck-after',
  },
  headings: { first: 'Quit requested', second: 'Preempt thread' },
  refs: ['D.2', 'D.4', 'G.3'],
  requires: { sides: ['dst'], mode: 'postcopy-preempt', threads: 'roles', needs: PREEMPT_THREAD_NEEDS },
  explain: `After postcopy_ram_incoming_cleanup_entry the destination asks the preempt thread to quit
(silently: PREEMPT_THREAD_QUIT + qemu_file_shutdown) and joins it; a healthy thread exits within
milliseconds (postcopy_preempt_thread_exit), and in 7.2 or compat mode it has often already exited on
the EOS. If it never exits, the join blocks, the destination never sends SHUT, and the source hangs
after migration_return_path_end_before.

The rule fires when the preempt thread has not exited --stuck-after milliseconds (default 1000)
after the cleanup started and the trace goes on past that; if the trace ends sooner it says
inconclusive. Likely causes (§D.4): (a) a 7.2 destination with a new-mode 8.0+ source (no EOS
arrives; prevented by 06064a6715 / x-preempt-pre-7-2), (b) a TLS channel without 86d063fa83
(shutdown returns -ENOSYS and does not wake the read), (c) a regression of the QUIT check. A pause
instead of an exit is reported by preempt-quit-as-network-failure, not here.`,
  create: () => fromModel(finish),
};
