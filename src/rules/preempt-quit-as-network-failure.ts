// preempt-quit-as-network-failure (§D.4, §G.3): the destination cleanup asked the preempt thread to
// quit (PREEMPT_THREAD_QUIT + qemu_file_shutdown, no events: bracketed by
// postcopy_ram_incoming_cleanup_entry), and the thread, woken from its blocked read, took the
// network-failure path (postcopy_pause_fast_load) instead of exiting. The cleanup then waits for
// a thread that waits for a recovery that never comes.
import { isWithin, LE_7_2 } from '../model/versions.js';
import { shownTid } from '../model/attribution.js';
import { fromModel, ms, tidText, type Rule, type RuleOutcome, type RunFacts, makeFinding } from './rule.js';
import { PREEMPT_THREAD_NEEDS } from './requirements.js';

export const ID = 'preempt-quit-as-network-failure';

function finish(f: RunFacts): RuleOutcome {
  const p = f.preempt;
  if (!p.cleanupEntry) {
    return p.exit || p.pauses.length
      ? { kind: 'not-applicable', reason: 'the destination cleanup never started in this trace (no postcopy_ram_incoming_cleanup_entry): no quit was requested' }
      : { kind: 'not-applicable', reason: 'the migration did not reach the destination cleanup in this trace' };
  }
  if (isWithin(f.versions.range('dst'), LE_7_2)) {
    return { kind: 'not-applicable', reason: 'destination <= 7.2: it has no PREEMPT_THREAD_QUIT (6621883f93 came in 8.0); its preempt thread exits only on EOS' };
  }
  const misread = p.pauses.filter((x) => x.afterCleanupEntry && !x.incomingPauseBetween && x.pause.tid === p.tid);
  if (misread.length === 0) {
    const genuine = p.pauses.filter((x) => x.afterCleanupEntry);
    if (genuine.length === 0 && !p.exit) {
      // Neither a willing exit nor a pause is in the trace: the thread may have done either later.
      return {
        kind: 'inconclusive',
        reason: `the destination cleanup asked the preempt thread to quit, and the trace shows it neither exiting nor pausing afterwards${f.sides.dst.cut ? ` (the trace was cut: ${f.sides.dst.cut})` : ''}`,
        missing: ['postcopy_preempt_thread_exit', 'postcopy_pause_fast_load'],
      };
    }
    return {
      kind: 'clean',
      note: genuine.length
        ? 'the preempt thread paused after the cleanup started, but a genuine destination pause (postcopy_pause_incoming / postcopy-paused) came first'
        : p.exit
          ? 'the preempt thread quit willingly: postcopy_preempt_thread_exit with no postcopy_pause_fast_load after the cleanup started'
          : 'no postcopy_pause_fast_load after the cleanup started',
    };
  }
  const first = misread[0]!;
  const entry = p.cleanupEntry;
  const cleanupRole = f.threads.roleOf('dst', entry.tid);
  const gap = entry.ts !== null && first.pause.ts !== null ? ms(entry.ts, first.pause.ts) : null;
  const hung = !p.cleanupJoin && !p.sendShut;
  const locations = [
    f.locate(first.pause, 'preempt thread takes the network-failure path (postcopy_pause_fast_load)'),
    f.locate(entry, `cleanup starts: PREEMPT_THREAD_QUIT + qemu_file_shutdown(postcopy_qemufile_dst) follow here (no events, §C.3 D5), on the ${cleanupRole} thread`),
  ];
  if (p.loadEof) locations.push(f.locate(p.loadEof, 'the source had finished: QEMU_VM_EOF received'));
  if (p.cleanupJoin) locations.push(f.locate(p.cleanupJoin, 'cleanup went on to join the fault thread'));
  const finding = makeFinding(RULE, {
    message:
      `the destination preempt thread (${tidText(first.pause.tid)}) paused as if the network had failed ${gap !== null ? `${gap} ms ` : ''}after the ${cleanupRole} thread (${tidText(entry.tid)}) asked it to quit; ` +
      `no postcopy_pause_incoming and no destination postcopy-paused came in between, so nothing failed: the thread did not see PREEMPT_THREAD_QUIT. ` +
      (hung ? 'The cleanup never finished (no postcopy_ram_incoming_cleanup_join, no SHUT to the source): the migration hangs.' : ''),
    evidence: 'pause-after-quit',
    ...(hung ? { qualifier: 'cleanup hung' } : {}),
    object: 'postcopy_qemufile_dst',
    locations,
    details: {
      preemptTid: shownTid(first.pause.tid),
      cleanupTid: shownTid(entry.tid),
      cleanupRole,
      msAfterCleanupEntry: gap,
      preemptExited: p.exit !== null,
      cleanupJoined: p.cleanupJoin !== null,
      shutSent: p.sendShut !== null,
    },
  });
  return { kind: 'findings', findings: [finding] };
}

export const RULE: Rule = {
  id: ID,
  severity: 'error',
  title: 'Destination preempt thread takes a willing quit for a network failure',
  commits: ['6621883f93', '86d063fa83'],
  evidence: { 'pause-after-quit': 'the preempt thread paused (postcopy_pause_fast_load) after the quit request, with no genuine pause in between; qualified `cleanup hung` when the cleanup never finished' },
  refs: ['C.3 D5-D7', 'D.2', 'D.4', 'G.3'],
  requires: { sides: ['dst'], mode: 'postcopy-preempt', threads: 'roles', needs: PREEMPT_THREAD_NEEDS },
  explain: `Since 6621883f93 (QEMU 8.0) the source no longer ends the preempt channel with an EOS. Instead
the destination cleanup (postcopy_ram_incoming_cleanup: the listen thread up to 10.1, the main
thread in 10.2) sets PREEMPT_THREAD_QUIT and calls qemu_file_shutdown() on postcopy_qemufile_dst.
The preempt thread, blocked in a read, wakes with an error and must tell this willing quit from a
network failure by checking the status: on QUIT it exits (postcopy_preempt_thread_exit), on a real
failure it pauses (postcopy_pause_fast_load) and waits for recovery.

None of the quit steps has a trace event; migtrace brackets them with
postcopy_ram_incoming_cleanup_entry. A postcopy_pause_fast_load from the preempt thread after that,
with no postcopy_pause_incoming and no destination "postcopy-paused" in between, is the quit misread
as a failure: the thread waits for a recovery nobody will start, the cleanup waits to join it, the
destination never sends SHUT and the source hangs in migration_return_path_end_before.

Locations: the pause on the preempt thread, then the cleanup entry (where the silent quit request
happens), then context. Applies to destinations >= 8.0 (7.2 has no QUIT mechanism).`,
  create: () => fromModel(finish),
};
