// qemufile-nonowner-close: the source return-path thread's files (from_dst_file, and from 8.0
// postcopy_qemufile_src) closed by another thread while the return-path thread is alive (§B.1,
// §G.2, §E #8-#10). qemu_file_fclose carries no argument, so the file is told by position
// (§C.3 S6): closes by the joiner inside migration_return_path_end_before … _end_after are the
// return-path files; closes by the main thread after migration_cleanup are the cleanup's.
// Kept apart from qemufile-concurrent-access because the evidence is positional, not a write.
import { Automaton, type Monitor } from '../model/automaton.js';
import type { CatalogRow } from '../model/catalog.js';
import { RP_JOIN, RP_RESUME, RP_RESUME_GUARDS, SRC_CLEANUP } from '../model/return-path.js';
import { SIGNALS } from '../model/signals.js';
import type { EventRef, ThreadInfo } from '../model/threads.js';
import type { Finding } from '../types.js';
import { ms, tidText, type ReplayEvent, type Rule, type RuleInstance, type RuleOutcome, type RunFacts, makeFinding } from './rule.js';

export const ID = 'qemufile-nonowner-close';
const MAX_KEPT = 256;

interface Close {
  ref: EventRef;
  /** Where the close sits: inside a return-path join of its own thread, after the main thread's cleanup, or after a resume re-opened the return path. */
  context: 'join' | 'cleanup' | 'after-resume' | 'other';
  /** The join window's start (for 'join'), the cleanup event (for 'cleanup'), the re-open (for 'after-resume'). */
  anchor: EventRef | null;
}

// The reactions to the return-path tables (model/return-path.ts): the anchor of each position.
type Ev = ReplayEvent & { ref: { tid: number } };
const JOIN = new Automaton<'outside' | 'joining', never, 'joinBegins' | 'joinEnds', Instance, Ev>(RP_JOIN, {}, {
  joinBegins: (r, e) => void r.joins.set(e.ref.tid, e.ref),
  joinEnds: (r, e) => void r.joins.delete(e.ref.tid),
});
const CLEANUP = new Automaton<'before' | 'after', never, 'cleanupStarts', Instance, Ev>(SRC_CLEANUP, {}, {
  cleanupStarts: (r, e) => void r.cleanups.set(e.ref.tid, e.ref),
});
const RESUME = new Automaton<'not-paused' | 'paused' | 'reopened', 'postcopyPaused' | 'postcopyActive', 'reopens' | 'resumed', Instance, Ev>(
  RP_RESUME,
  RP_RESUME_GUARDS,
  { reopens: (r, e) => void (r.reopen = e.ref), resumed: (r) => void (r.reopen = null) },
);
const FCLOSE = SIGNALS.indexOf('fclose');

class Instance implements RuleInstance {
  readonly joins = new Map<number, EventRef>(); // open join windows by joiner TID
  readonly cleanups = new Map<number, EventRef>(); // cleanup event by main TID
  reopen: EventRef | null = null; // open_return_path_on_source after a postcopy pause
  private readonly joinRuns = new Map<number, Monitor<string>>();
  private readonly cleanupRuns = new Map<number, Monitor<string>>();
  private readonly resume = RESUME.start();
  private readonly closes: Close[] = [];
  private dropped = 0;

  wants(row: CatalogRow): boolean {
    return row.side !== 'dst' && (row.signal === 'fclose' || JOIN.signals.has(row.signal) || CLEANUP.signals.has(row.signal) || RESUME.signals.has(row.signal));
  }

  onEvent(e: ReplayEvent): void {
    const ref = e.ref;
    if (ref.side !== 'src' || ref.tid === null) return;
    const ev = e as Ev;
    for (const row of e.rows) {
      const s = row.signalIndex;
      if (JOIN.reads[s]) JOIN.step(runOf(this.joinRuns, ref.tid, JOIN), s, this, ev);
      else if (CLEANUP.reads[s]) CLEANUP.step(runOf(this.cleanupRuns, ref.tid, CLEANUP), s, this, ev);
      else if (RESUME.reads[s]) RESUME.step(this.resume, s, this, ev);
      else if (s === FCLOSE) this.close(ref);
    }
  }

  /** A close, told by where it sits: in its thread's join, after its cleanup, after a resume re-opened the return path. */
  private close(ref: EventRef): void {
    const join = this.joins.get(ref.tid!);
    const cleanup = this.cleanups.get(ref.tid!);
    const close: Close = join
      ? { ref, context: 'join', anchor: join }
      : cleanup
        ? { ref, context: 'cleanup', anchor: cleanup }
        : this.reopen
          ? { ref, context: 'after-resume', anchor: this.reopen }
          : { ref, context: 'other', anchor: null };
    if (close.context === 'other') return;
    if (this.closes.length < MAX_KEPT) this.closes.push(close);
    else this.dropped++;
  }

  finish(f: RunFacts): RuleOutcome {
    const rps = f.threads.withRole('rp', 'src');
    if (rps.length === 0) return { kind: 'not-applicable', reason: 'no source return-path thread in this trace' };
    const findings: Finding[] = [];
    for (const c of this.closes) {
      const closer = f.threads.get('src', c.ref.tid);
      if (!closer || closer.role === 'rp') {
        // ≤8.1: the old return-path thread closing files after a resume re-opened the return path
        // closes the *new* from_dst_file (ef796ee93b).
        if (c.context === 'after-resume' && closer) findings.push(this.finding(f, c, closer, null, 'old-rp-closes-new-file'));
        continue;
      }
      if (c.context === 'after-resume') continue;
      const owner = rps.find((t) => aliveAt(t, c.ref));
      if (!owner) continue;
      findings.push(this.finding(f, c, closer, owner, c.context === 'join' ? 'close-before-rp-exit' : 'cleanup-while-rp-alive'));
    }
    if (findings.length === 0) {
      return { kind: 'clean', note: this.closes.length ? 'every return-path file was closed by its owner, or after the return-path thread ended' : 'no positional return-path close to check' };
    }
    // One finding per (evidence, closer): the first is the one that matters (later ones follow from it).
    const seen = new Set<string>();
    return { kind: 'findings', findings: findings.filter((x) => !seen.has(`${x.evidence.kind}|${x.locations[0]!.tid}`) && !!seen.add(`${x.evidence.kind}|${x.locations[0]!.tid}`)) };
  }

  private finding(f: RunFacts, c: Close, closer: ThreadInfo, owner: ThreadInfo | null, evidence: string): Finding {
    const file = c.context === 'join' ? (f.mode.preempt ? 'postcopy_qemufile_src or from_dst_file' : 'from_dst_file') : c.context === 'cleanup' ? 'a return-path file (postcopy_qemufile_src in 8.0/8.1)' : 'the new from_dst_file';
    const locations = [f.locate(c.ref, `${closer.strength === 'name' ? 'joining' : closer.role} thread closes ${file} (qemu_file_fclose has no argument: attributed by position, §C.3 S6)`)];
    if (owner) locations.push(f.locate(owner.start ?? owner.how ?? owner.last, `return-path thread, owner of ${file}, still alive`));
    if (c.anchor) locations.push(f.locate(c.anchor, c.context === 'join' ? 'join of the return-path thread starts' : c.context === 'cleanup' ? 'main-thread cleanup starts' : 'the return path was re-opened for the resume'));
    if (owner?.exit) locations.push(f.locate(owner.exit, 'return-path thread ends only here'));
    const gap = owner?.exit && owner.exit.ts !== null && c.ref.ts !== null ? ms(c.ref.ts, owner.exit.ts) : null;
    const message =
      evidence === 'old-rp-closes-new-file'
        ? `the return-path thread (${tidText(closer.tid)}) closed a file after the resume had re-opened the return path: it releases the new from_dst_file, which the resumed migration then uses after it was freed (the SEGV that ef796ee93b fixed; <= 8.1 behaviour).`
        : `the ${closer.strength === 'name' ? 'joining' : closer.role} thread (${tidText(closer.tid)}) closed ${file} while the return-path thread (${tidText(owner?.tid ?? null)}) that owns it was still running${gap !== null ? ` (it ended ${gap} ms later)` : ''}: a close on a QEMUFile another thread may be reading or writing. ` +
          (evidence === 'close-before-rp-exit'
            ? 'From 8.2 the joiner releases the return-path files only after the thread ended (ef796ee93b, 36e9aab3c5).'
            : 'The cleanup must not close the return-path files while that thread lives (b3b101157d, 639decf529, 7478fb0df9).');
    return makeFinding(RULE, { message, evidence, object: file, locations });
  }
}

function runOf(runs: Map<number, Monitor<string>>, tid: number, a: { start(): Monitor<string> }): Monitor<string> {
  let r = runs.get(tid);
  if (!r) runs.set(tid, (r = a.start()));
  return r;
}

/** Started before `ref` and not yet ended at it. */
function aliveAt(t: ThreadInfo, ref: EventRef): boolean {
  const ts = ref.ts ?? 0;
  const started = t.start?.ts ?? t.firstTs ?? Infinity;
  if (started > ts) return false;
  return !t.exit || (t.exit.ts ?? Infinity) > ts;
}

export const RULE: Rule = {
  id: ID,
  severity: 'error',
  title: "A return-path QEMUFile closed by another thread while the return-path thread lives",
  commits: ['b3b101157d', '639decf529', '7478fb0df9', 'ef796ee93b', '36e9aab3c5'],
  evidence: {
    'close-before-rp-exit': 'the joining thread closed a return-path file before the return-path thread ended',
    'cleanup-while-rp-alive': 'the main-thread cleanup closed a return-path file while the return-path thread lived',
    'old-rp-closes-new-file': 'the old return-path thread closed a file after the resume re-opened the return path',
  },
  refs: ['B.1', 'C.3 S5-S6', 'E #8-10', 'G.2'],
  requires: {
    sides: ['src'],
    threads: 'identity',
    // From 8.2 only the thread that joins the return-path thread closes its files (36e9aab3c5):
    // a close inside the join window is the joiner's, whoever logged it.
    namesSufficeFor: '>=8.2',
    needs: [
      { side: 'src', anyOf: ['role:rp'], when: 'postcopy' },
      { side: 'src', anyOf: ['fclose'], when: 'src-postcopy-completed' },
      { side: 'src', anyOf: ['rp-join-begin'], when: 'src-postcopy-completed' },
    ],
  },
  explain: `The source return-path thread reads from_dst_file and, from 8.0, writes postcopy_qemufile_src. A
close by another thread while it runs frees a file it may still use. QEMU fixed this shape several
times: 8.0/8.1's migrate_fd_cleanup closed postcopy_qemufile_src behind the return-path thread's back
(b3b101157d); the cancel/cleanup paths closed from_dst_file and to_dst_file without the lock
(639decf529, 7478fb0df9); and on resume the old return-path thread released the newly opened
from_dst_file (ef796ee93b). From 8.2 the thread that joins the return-path thread releases its files,
after the thread ended (36e9aab3c5).

qemu_file_fclose has no argument, so migtrace attributes a close by position (§C.3 S6): a close by
the joining thread inside migration_return_path_end_before … migration_return_path_end_after is a
return-path file; a close by the main thread after migration_cleanup / migrate_fd_cleanup is the
cleanup's; a close by the return-path thread after the resume re-opened the return path (before
postcopy-active again) is the new from_dst_file. The rule fires when such a close comes while the
return-path thread has not yet logged source_return_path_thread_end. This is positional evidence,
which is why it is a rule of its own and not part of qemufile-concurrent-access.`,
  create: () => new Instance(),
};
