// preempt-quit-too-early (GitLab #1886, fixed by cf02f29e1e in 8.1.2/8.2; §D.4, §E #7, §G.3): the
// destination cleanup shut the preempt channel down while guest page requests were still
// outstanding, and the preempt thread exited before the last requested page arrived: that page is
// lost and the guest reads stale memory. The fix waits for page_requested_count == 0 first.
import { isWithin, LE_7_2 } from '../model/versions.js';
import { fromModel, ms, tidText, type Rule, type RuleOutcome, type RunFacts, makeFinding } from './rule.js';
import { PREEMPT_THREAD_NEEDS } from './requirements.js';

export const ID = 'preempt-quit-too-early';
const NEEDS = ['postcopy_page_req_add', 'postcopy_page_req_del'];

function finish(f: RunFacts): RuleOutcome {
  const p = f.preempt;
  if (!p.cleanupEntry || !p.exit) return { kind: 'not-applicable', reason: 'the preempt thread did not quit after a cleanup in this trace' };
  if (isWithin(f.versions.range('dst'), LE_7_2)) return { kind: 'not-applicable', reason: 'destination <= 7.2: its preempt thread quits only on the EOS, after every page' };
  if ((p.exit.ts ?? 0) < (p.cleanupEntry.ts ?? 0)) return { kind: 'clean', note: 'the preempt thread had exited (on the EOS) before the cleanup started' };
  if (p.pageReqEvents === 0) {
    return { kind: 'inconclusive', reason: 'page-request bookkeeping was not traced, so outstanding requests at the quit cannot be counted', missing: NEEDS };
  }
  const atEntry = p.pageReqAtCleanup ?? 0;
  const atExit = p.pageReqAtExit ?? 0;
  if (atEntry === 0 || atExit === 0) {
    return { kind: 'clean', note: atEntry === 0 ? 'no page request was outstanding when the cleanup started' : 'the outstanding requests were resolved before the preempt thread exited' };
  }
  const gap = p.exit.ts !== null && p.cleanupEntry.ts !== null ? ms(p.cleanupEntry.ts, p.exit.ts) : null;
  const locations = [
    f.locate(p.exit, `preempt thread exits with ${atExit} page request(s) still outstanding`),
    f.locate(p.cleanupEntry, `cleanup starts with ${atEntry} page request(s) outstanding; QUIT + shutdown follow (no events)`),
  ];
  if (p.lastPageReqAdd) locations.push(f.locate(p.lastPageReqAdd, 'last page request the guest made'));
  return {
    kind: 'findings',
    findings: [
      makeFinding(RULE, {
        message:
          `the destination asked its preempt thread (${tidText(p.tid)}) to quit with ${atEntry} guest page request(s) outstanding, and it exited ${gap !== null ? `${gap} ms later ` : ''}with ${atExit} still unresolved ` +
          `(no postcopy_page_req_del ... total 0 before postcopy_preempt_thread_exit). A page the guest is waiting for can no longer arrive: it is lost, and the guest reads stale memory (QEMU #1886). ` +
          `cf02f29e1e (8.1.2/8.2) makes the cleanup wait for page_requested_count == 0 before the shutdown.`,
        evidence: 'outstanding-at-exit',
        object: 'postcopy_qemufile_dst',
        locations,
        details: { outstandingAtCleanup: atEntry, outstandingAtExit: atExit, msAfterCleanupEntry: gap },
      }),
    ],
  };
}

export const RULE: Rule = {
  id: ID,
  severity: 'error',
  title: 'Destination preempt thread quits while guest page requests are outstanding (#1886)',
  commits: ['cf02f29e1e', '6621883f93'],
  evidence: { 'outstanding-at-exit': 'page requests were outstanding when the cleanup started and still when the preempt thread exited' },
  refs: ['D.4', 'E #7', 'G.3'],
  requires: {
    sides: ['dst'],
    mode: 'postcopy-preempt',
    needs: [
      ...PREEMPT_THREAD_NEEDS,
      { side: 'dst', anyOf: ['page-req-add'], when: 'dst-page-faults' },
      { side: 'dst', anyOf: ['page-req-del'], when: 'dst-page-faults' },
    ],
  },
  explain: `After 6621883f93 the destination cleanup stops the preempt thread with PREEMPT_THREAD_QUIT +
qemu_file_shutdown. In 8.0.0–8.1.1 it did so even while the guest was still waiting for pages it had
requested (postcopy_page_req_add ... total N>0): the thread exited, the page never arrived, and the
guest saw stale memory ("Memory content inconsistency", QEMU issue #1886). cf02f29e1e (8.1.2, 8.2)
makes the cleanup wait until page_requested_count reaches 0.

The rule counts outstanding requests from the "total N" of postcopy_page_req_add/_del. It fires when
requests were outstanding at postcopy_ram_incoming_cleanup_entry and still outstanding when the
preempt thread logged postcopy_preempt_thread_exit. Needs postcopy_page_req_add and
postcopy_page_req_del in the trace (inconclusive without them). Not for <= 7.2 destinations, whose
preempt thread only exits on the EOS, after every page.`,
  create: () => fromModel(finish),
};
