// qemufile-concurrent-access: a thread accesses a QEMUFile while another thread owns it and is
// alive (§B, §G.2). The seed case is the EOS that the source migration thread writes on
// postcopy_qemufile_src at completion while the return-path thread, which owns that file during
// postcopy from 8.0 on, may still be sending urgent pages (§D.1, §D.5). The EOS has no trace event:
// it is bracketed by the catalog's begin/end rows (migration_completion_postcopy_end …
// _after_complete, §C.3 S4) and exists only when the source writes an EOS (7.2, or compat mode).
import type { Finding, Location, Side } from '../types.js';
import type { CatalogRow } from '../model/catalog.js';
import { ownersOf } from '../model/ownership.js';
import type { QemuFileName } from '../model/signals.js';
import type { EventRef, ThreadInfo } from '../model/threads.js';
import { formatRange, overlaps } from '../model/versions.js';
import { shownTid } from '../model/attribution.js';
import { Automaton, type Monitor } from '../model/automaton.js';
import { EOS_WINDOW, EOS_WINDOW_GUARDS, type EosWindowAction, type EosWindowGuard, type EosWindowState } from '../model/eos-window.js';
import { SIGNALS } from '../model/signals.js';
import { makeFinding, ms, tidText, type ReplayEvent, type Rule, type RuleInstance, type RuleOutcome, type RunFacts } from './rule.js';

export const ID = 'qemufile-concurrent-access';
const MAX_WINDOWS = 10_000;

interface Tally {
  count: number;
  first: EventRef;
  last: EventRef;
}

interface Window {
  file: QemuFileName;
  side: Side | null;
  tid: number | null;
  begin: EventRef;
  end: EventRef | null;
  /** Last to_dst_file write of the same thread inside the window: after it only the EOS is left (§D.1 W_mig). */
  narrowStart: EventRef | null;
  /** The access happens only if the source writes an EOS (§B.1 "W (EOS)"). */
  eos: boolean;
  /** Other threads' write accesses on the same file inside the window, by kind then TID. */
  /** Other threads' writes on the same file and side before the window opened. */
  before: Map<string, Tally>;
  inside: Map<string, Tally>;
  insideNarrow: Map<string, Tally>;
  after: Map<string, Tally>;
}

function bump(m: Map<string, Tally>, key: string, ref: EventRef): void {
  const t = m.get(key);
  if (t) {
    t.count++;
    t.last = ref;
  } else m.set(key, { count: 1, first: ref, last: ref });
}

/** `${a}|${b}`, kept per (a, b). */
function cachedKey<B>(cache: Map<string, Map<B, string>>, a: string, b: B): string {
  let byB = cache.get(a);
  if (!byB) cache.set(a, (byB = new Map<B, string>()));
  let k = byB.get(b);
  if (k === undefined) byB.set(b, (k = `${a}|${String(b)}`));
  return k;
}

/** Write-access kinds, strongest evidence first: the urgent-page event itself, then its proxy (§G.6). */
function writeKind(row: CatalogRow): 'direct' | 'proxy' {
  return row.signal === 'urgent-write-proxy' ? 'proxy' : 'direct';
}

/** One event as the EOS-window table's guards and actions see it. */
interface WindowEvent {
  ref: EventRef;
  row: CatalogRow;
  /** The window's run key (file|side|tid). */
  key: string;
}

// The reactions to the EOS-window table (model/eos-window.ts): what this rule keeps of each window.
const WINDOWS = new Automaton<EosWindowState, EosWindowGuard, EosWindowAction, Instance, WindowEvent>(
  EOS_WINDOW,
  EOS_WINDOW_GUARDS,
  {
    openWindow: (r, e) => r.openWindow(e),
    narrow: (r, e) => {
      const w = r.open.get(e.key);
      if (w) w.narrowStart = e.ref;
    },
    closeWindow: (r, e) => r.closeWindow(e),
  },
);
const BEGIN = SIGNALS.indexOf('eos-window-begin');
const END = SIGNALS.indexOf('eos-window-end');
const SECTION_END = SIGNALS.indexOf('section-end');

class Instance implements RuleInstance {
  private readonly windows: Window[] = [];
  private windowsDropped = 0;
  readonly open = new Map<string, Window>();
  /** The last closed window per file and side: the owner's writes after its EOS count against it until the next window opens. */
  private readonly lastClosed = new Map<string, Window>();
  /** One run of the EOS-window table per file, side and thread. */
  private readonly runs = new Map<string, { run: Monitor<EosWindowState>; side: Side | null; tid: number | null }>();
  private readonly ev: WindowEvent = { ref: null as unknown as EventRef, row: null as unknown as CatalogRow, key: '' };
  private directWrites = 0;
  /** Every write so far per file and side, by kind then TID: a window's `before` is a copy of it when it opens. */
  private readonly writes = new Map<string, Map<string, Tally>>();

  // What onEvent acts on: window bounds, point writes and section ends. Reads (a destination's
  // page loads: 9 of 10 events of a long postcopy trace) change nothing here, and calling the rule
  // for them was ~30 ns a record of the replay (bench slice, in memory).
  wants(row: CatalogRow): boolean {
    return row.signal === 'section-end' || (row.qemufile !== null && (row.signalIndex === BEGIN || row.signalIndex === END || (row.window === 'point' && row.access === 'write')));
  }

  onEvent(e: ReplayEvent): void {
    const { ref } = e;
    const ev = this.ev;
    ev.ref = ref;
    for (const row of e.rows) {
      if (!row.qemufile) continue;
      if (row.signalIndex === BEGIN || row.signalIndex === END) {
        ev.row = row;
        ev.key = `${row.qemufile}|${ref.side}|${ref.tid}`;
        let r = this.runs.get(ev.key);
        if (!r) this.runs.set(ev.key, (r = { run: WINDOWS.start(), side: ref.side, tid: ref.tid }));
        WINDOWS.step(r.run, row.signalIndex, this, ev);
      } else if (row.window === 'point' && row.access === 'write') {
        const kind = writeKind(row);
        if (row.signal === 'urgent-write') this.directWrites++;
        this.pointWrite(row.qemufile, ref, kind);
      }
    }
    if (e.has('section-end') && this.open.size > 0) {
      // The last to_dst_file write of the window's own thread marks where only the EOS is left.
      // Without thread ids a savevm_section_end (any role in the catalog) is not put on a thread;
      // inside the window only the migration thread saves sections, so it counts.
      const anyThread = shownTid(ref.tid) === null;
      for (const [key, r] of this.runs) {
        if (r.side !== ref.side || (r.tid !== ref.tid && !anyThread) || !this.open.has(key)) continue;
        ev.key = key;
        WINDOWS.step(r.run, SECTION_END, this, ev);
      }
    }
  }

  openWindow(e: WindowEvent): void {
    const { ref, row } = e;
    const file = row.qemufile as QemuFileName;
    const w: Window = {
      file, side: ref.side, tid: ref.tid, begin: ref, end: null, narrowStart: null,
      eos: true, before: copy(this.writes.get(`${file}|${ref.side}`)), inside: new Map(), insideNarrow: new Map(), after: new Map(),
    };
    if (this.windows.length < MAX_WINDOWS) this.windows.push(w);
    else this.windowsDropped++;
    this.open.set(e.key, w);
    this.lastClosed.delete(`${file}|${ref.side}`);
  }

  closeWindow(e: WindowEvent): void {
    const w = this.open.get(e.key);
    if (!w) return;
    w.end = e.ref;
    this.open.delete(e.key);
    this.lastClosed.set(`${w.file}|${e.ref.side}`, w);
  }

  // The tally keys of write events, made once per kind and thread, file and side: not two
  // strings per page written.
  private readonly writeKeys = new Map<string, Map<number | null, string>>();
  private readonly fileSideKeys = new Map<string, Map<Side | null, string>>();

  private pointWrite(file: QemuFileName, ref: EventRef, kind: 'direct' | 'proxy'): void {
    const key = cachedKey(this.writeKeys, kind, ref.tid);
    const fileSide = cachedKey(this.fileSideKeys, file, ref.side);
    let seen = this.writes.get(fileSide);
    if (!seen) this.writes.set(fileSide, (seen = new Map<string, Tally>()));
    bump(seen, key, ref);
    if (this.open.size === 0 && this.lastClosed.size === 0) return;
    for (const w of this.open.values()) {
      if (w.file !== file || w.side !== ref.side || w.tid === ref.tid) continue;
      bump(w.inside, key, ref);
      if (w.narrowStart) bump(w.insideNarrow, key, ref);
    }
    const closed = this.lastClosed.get(fileSide);
    if (closed && closed.tid !== ref.tid) bump(closed.after, key, ref);
  }

  finish(f: RunFacts): RuleOutcome {
    const done = this.windows.filter((w) => w.end !== null);
    if (done.length === 0) {
      const unfinished = this.windows.length > 0;
      return {
        kind: unfinished ? 'inconclusive' : 'not-applicable',
        ...(unfinished ? { missing: ['migration_completion_postcopy_end_after_complete'] } : {}),
        reason: unfinished
          ? 'the source entered postcopy completion but the trace ends before migration_completion_postcopy_end_after_complete: whether the return-path thread wrote during the EOS window cannot be told'
          : 'the source never reached postcopy completion in this trace (migration_completion_postcopy_end not seen), so no EOS was written',
      };
    }
    const findings: Finding[] = [];
    const notes: string[] = [];
    for (const w of done) {
      const outcome = this.judge(w, f);
      if (outcome.kind === 'finding') findings.push(outcome.finding);
      else if (outcome.kind === 'inconclusive') return { kind: 'inconclusive', reason: outcome.reason, missing: outcome.missing };
      else notes.push(outcome.note);
    }
    if (this.windowsDropped) notes.push(`${this.windowsDropped} further completion windows not examined (limit ${MAX_WINDOWS})`);
    return findings.length ? { kind: 'findings', findings } : { kind: 'clean', note: notes.join('; ') };
  }

  private judge(w: Window, f: RunFacts):
    | { kind: 'finding'; finding: Finding }
    | { kind: 'clean'; note: string }
    | { kind: 'inconclusive'; reason: string; missing?: string[] } {
    const side = w.side ?? 'src';
    const writerRole = f.threads.roleOf(side, w.tid);
    if (w.eos) {
      if (f.mode.eosWritten === false) {
        return { kind: 'clean', note: 'new-mode source (6621883f93): no EOS is written on postcopy_qemufile_src, the return-path thread is its only writer' };
      }
      if (f.mode.eosWritten === null) {
        return {
          kind: 'inconclusive',
          reason: 'cannot tell whether the source wrote an EOS on postcopy_qemufile_src: no evidence of compat mode (x-preempt-pre-7-2) or new mode; enable postcopy_preempt_new_channel and source_return_path_thread_pong on the source, or give the destination trace (ram_load_postcopy_loop)',
          missing: ['postcopy_preempt_new_channel', 'source_return_path_thread_pong', 'ram_load_postcopy_loop'],
        };
      }
    }
    const owner = this.ownerOf(w.file, side, f);
    if (owner.kind === 'unknown') return { kind: 'inconclusive', reason: owner.reason, missing: ['migrate_pending_exact', 'migrate_pending', 'postcopy_preempt_send_host_page'] };
    if (owner.role === writerRole) {
      return { kind: 'clean', note: `${w.file}: the ${writerRole} thread writes the EOS and is also the file's only writer (${owner.why})` };
    }
    const owners = f.threads.withRole(owner.role, side).filter((t) => alive(t, w));
    if (owners.length === 0) {
      return { kind: 'clean', note: `${w.file}: EOS written by the ${writerRole} thread while no ${owner.role} thread was alive` };
    }
    const ownerTids = new Set(owners.map((t) => String(t.tid)));
    // Count the urgent-page writes themselves; only when the trace has none, their proxy (§G.6).
    const useProxy = this.directWrites === 0;
    const wanted = useProxy ? 'proxy' : 'direct';
    const ownerWrites = (m: Map<string, Tally>): Tally | null => {
      let sum: Tally | null = null;
      for (const [k, t] of m) {
        const [kind, tid] = k.split('|') as [string, string];
        if (kind === wanted && ownerTids.has(tid)) sum = merge(sum, t);
      }
      return sum;
    };
    const beforeT = ownerWrites(w.before);
    const insideT = ownerWrites(w.inside);
    const narrowT = ownerWrites(w.insideNarrow);
    const afterT = ownerWrites(w.after);
    const evidence = insideT ? 'interleaved' : afterT ? 'after-eos' : 'ownership';
    const ownerThread = owners[0] as ThreadInfo;
    const writerTid = w.tid;
    const end = w.end as EventRef;
    // The EOS itself has no event: it is the last thing before _after_complete (§C.3 S4), so the
    // gaps are measured to that event, and the nearest writes on each side are what bound the race.
    const nearestBefore = insideT?.last ?? beforeT?.last ?? null;
    const nearestAfter = afterT?.first ?? null;
    const gapBefore = nearestBefore ? usBetween(nearestBefore, end) : null;
    const gapAfter = nearestAfter ? usBetween(end, nearestAfter) : null;
    // Inside writes all logged before the main channel's last write: they ran while
    // qemu_savevm_state_complete_postcopy did, before the EOS was put on the file.
    const predate = insideT && w.narrowStart ? narrowT === null : null;
    const writesWord = useProxy ? 'urgent-page requests (ram_save_queue_pages, proxy for the write, §G.6)' : 'urgent-page writes';
    const eosLoc = f.locate(end, `EOS write on ${w.file} (no trace event of its own: inferred, it is the last thing before this event, §C.3 S4)`);
    const locations: Location[] = [eosLoc];
    const nearNote = (which: 'before' | 'after', gap: number | null): string =>
      which === 'before'
        ? `nearest owner write before the EOS: ${gap === null ? 'time unknown' : `${fmtGap(gap)} before _after_complete`}`
        : `nearest owner write after the EOS: ${gap === null ? 'time unknown' : `${fmtGap(gap)} after _after_complete`}`;
    let ownerLine: string;
    if (insideT) {
      locations.push(f.locate(insideT.last, `owner write on ${w.file} inside the EOS window (last of ${insideT.count}); ${nearNote('before', gapBefore)}`));
      ownerLine = `${insideT.count} ${writesWord} by the owner inside the window`;
    } else if (afterT) {
      locations.push(f.locate(afterT.first, `owner write on ${w.file} after the EOS (first of ${afterT.count}); ${nearNote('after', gapAfter)}`));
      ownerLine = `no owner write logged inside the window, but ${afterT.count} after the EOS had terminated the stream`;
    } else {
      locations.push(f.locate(ownerThread.start ?? (ownerThread.how as EventRef), `${owner.role} thread, owner of ${w.file}, alive during the window`));
      ownerLine = 'no owner write logged near the EOS; the owner was alive, so nothing kept it from writing';
    }
    // The nearest write on the side the second location does not show, as context.
    if (nearestBefore && !insideT) locations.push(f.locate(nearestBefore, `${nearNote('before', gapBefore)} (last of ${beforeT?.count ?? 0} before the window)`));
    if (nearestAfter && insideT) locations.push(f.locate(nearestAfter, `${nearNote('after', gapAfter)} (first of ${afterT?.count ?? 0})`));
    locations.push(f.locate(w.begin, `window opens: ${w.file} EOS window begins`));
    if (w.narrowStart) locations.push(f.locate(w.narrowStart, 'last main-channel write before the EOS'));
    if (ownerThread.exit) locations.push(f.locate(ownerThread.exit, `${owner.role} thread exits (owner released ${w.file})`));
    const span = w.begin.ts !== null && end.ts !== null ? ms(w.begin.ts, end.ts) : null;
    const at = (r: EventRef, gap: number | null, dir: string) => `${gap === null ? 'time unknown' : `${fmtGap(gap)} ${dir}`} (${place(f.locate(r))})`;
    const counts =
      `Owner writes on ${w.file}: ${beforeT?.count ?? 0} before the window, ${insideT?.count ?? 0} inside it, ${afterT?.count ?? 0} after the EOS. ` +
      (nearestBefore ? `Nearest before the EOS: ${at(nearestBefore, gapBefore, 'before')}. ` : '') +
      (nearestAfter ? `Nearest after it: ${at(nearestAfter, gapAfter, 'after')}. ` : '') +
      (nearestBefore || nearestAfter ? '(Measured to _after_complete, which follows the EOS directly.) ' : '') +
      (predate
        ? `The ${insideT!.count} inside the window predate the EOS itself: all come before the last main-channel write (${place(f.locate(w.narrowStart!))}), while qemu_savevm_state_complete_postcopy runs; the EOS is written after it. `
        : predate === false
          ? `${narrowT!.count === insideT!.count ? `All ${insideT!.count}` : `${narrowT!.count} of the ${insideT!.count}`} inside the window come after the last main-channel write (${place(f.locate(w.narrowStart!))}), in the interval where the EOS is written. `
          : '');
    const message =
      `${writerRole} thread (${tidText(writerTid)}) wrote the EOS on ${w.file} while the ${owner.role} thread (${tidText(ownerThread.tid)}) owns it and was alive: ` +
      `${ownerLine}. ${counts}Two threads write one QEMUFile without a lock; the EOS can land inside a page and the destination reads garbage, ` +
      `or qemu_fflush runs on a file the other thread is using (the SEGV that 6621883f93 fixed). ` +
      (f.mode.compatPre72
        ? `The source runs in x-preempt-pre-7-2 compat mode (machine type <= 7.2 or -global migration.x-preempt-pre-7-2=on), which keeps this race by design${
            f.modeEvidence.dstEos ? ' (confirmed: the EOS reached the destination preempt channel)' : '; inferred from the preempt channel being created before the first PONG, with no destination trace to confirm the EOS'
          }.`
        : '');
    return {
      kind: 'finding',
      finding: makeFinding(RULE, {
        message: message.trim(),
        evidence,
        object: w.file,
        locations,
        details: {
          writerRole,
          writerTid: shownTid(writerTid),
          ownerRole: owner.role,
          ownerTid: shownTid(ownerThread.tid),
          windowMs: span,
          ownerWritesBefore: beforeT?.count ?? 0,
          ownerWritesInside: insideT?.count ?? 0,
          ownerWritesInNarrowWindow: narrowT?.count ?? 0,
          ownerWritesAfter: afterT?.count ?? 0,
          nearestOwnerWriteBeforeLine: nearestBefore ? nearestBefore.line : null,
          nearestOwnerWriteBeforeUs: gapBefore,
          nearestOwnerWriteAfterLine: nearestAfter ? nearestAfter.line : null,
          nearestOwnerWriteAfterUs: gapAfter,
          insideWritesPredateEos: predate,
          writeEvidence: useProxy ? 'ram_save_queue_pages (proxy)' : 'postcopy_preempt_send_host_page',
          compatPre72: f.mode.compatPre72,
          compatEvidence: f.modeEvidence.dstEos ? 'destination-eos' : f.mode.compatPre72 ? 'channel-order' : null,
        },
      }),
    };
  }

  private ownerOf(file: QemuFileName, side: Side, f: RunFacts): { kind: 'known'; role: ThreadInfo['role']; why: string } | { kind: 'unknown'; reason: string } {
    const range = f.versions.range(side);
    // The writer model (from which thread sends urgent pages, else the version) decides
    // postcopy_qemufile_src's owner; other files go by the version table.
    if (file === 'postcopy_qemufile_src' && f.writerModel !== 'unknown') {
      const role = f.writerModel.startsWith('return-path') ? 'rp' : 'migration';
      const o = ownersOf(file).find((c) => c.owner === role);
      return { kind: 'known', role, why: o?.why ?? f.writerModel };
    }
    const candidates = ownersOf(file).filter((o) => !o.shared && overlaps(range, o.versions));
    const roles = new Set(candidates.map((o) => o.owner));
    if (roles.size === 1) {
      const o = candidates[0]!;
      return { kind: 'known', role: o.owner, why: o.why };
    }
    return {
      kind: 'unknown',
      reason: `the ${side} QEMU version is ${formatRange(range)}, and who owns ${file} depends on it (<=7.2: the migration thread; >=8.0: the return-path thread, §G.2); enable migrate_pending* or postcopy_preempt_send_host_page so the version can be told`,
    };
  }
}

/** `src.log:4315`, or `src.simple record 1234` for a binary trace, whose records have no lines. */
function place(l: Location): string {
  const base = l.file.slice(l.file.lastIndexOf('/') + 1);
  return /\.simple$/.test(base) ? `${base} record ${l.line}` : `${base}:${l.line}`;
}

function copy(m: Map<string, Tally> | undefined): Map<string, Tally> {
  return new Map(m ? [...m].map(([k, t]) => [k, { ...t }]) : []);
}

/** Microseconds from a to b (event timestamps are microseconds), null without timestamps. */
function usBetween(a: EventRef, b: EventRef): number | null {
  return a.ts !== null && b.ts !== null ? Math.round(b.ts - a.ts) : null;
}

/** A gap as an engineer reads it: µs below a millisecond, ms below a second. */
export function fmtGap(us: number): string {
  const a = Math.abs(us);
  return a < 1000 ? `${us} µs` : a < 1_000_000 ? `${(us / 1000).toFixed(3)} ms` : `${(us / 1e6).toFixed(3)} s`;
}

function merge(a: Tally | null, b: Tally): Tally {
  if (!a) return { ...b };
  return {
    count: a.count + b.count,
    first: (a.first.ts ?? 0) <= (b.first.ts ?? 0) ? a.first : b.first,
    last: (a.last.ts ?? 0) >= (b.last.ts ?? 0) ? a.last : b.last,
  };
}

/** Alive during the window: started before it ended, not exited before it began. */
function alive(t: ThreadInfo, w: Window): boolean {
  const endTs = w.end?.ts ?? null;
  const beginTs = w.begin.ts;
  const started = t.start?.ts ?? t.firstTs;
  if (endTs !== null && started !== null && started > endTs) return false;
  if (t.exit && beginTs !== null && t.exit.ts !== null && t.exit.ts < beginTs) return false;
  return true;
}

export const RULE: Rule = {
  id: ID,
  severity: 'error',
  title: 'QEMUFile written by a thread that does not own it',
  commits: ['6621883f93', '9358982744'],
  evidence: {
    interleaved: 'the owner logged writes inside the non-owner\'s access window',
    'after-eos': 'the owner wrote after the other thread terminated the stream with EOS',
    ownership: 'the owner was alive during the window; no write of its own was logged near it',
  },
  refs: ['B.1', 'C.3 S4', 'D.1', 'D.5', 'G.2'],
  requires: {
    sides: ['src'],
    mode: 'postcopy-preempt',
    threads: 'roles',
    needs: [
      { side: 'src', anyOf: ['eos-window-begin'], when: 'src-postcopy-completed' },
      { side: 'src', anyOf: ['eos-window-end'], when: 'src-postcopy-completed' },
      { side: 'src', anyOf: ['role:migration'], when: 'postcopy' },
      { side: 'src', anyOf: ['role:rp'], when: 'postcopy' },
    ],
  },
  explain: `A QEMUFile is not thread-safe: one thread must own it at a time. During a postcopy-preempt
migration from QEMU 8.0 on, the source return-path thread owns postcopy_qemufile_src: it sends the
pages the destination asks for (9358982744). Before 6621883f93 the migration thread still wrote an
EOS on that file at completion, racing with the return-path thread (a SEGV in qemu_fflush was the
symptom). The fix removed the EOS, except in x-preempt-pre-7-2 compat mode (machine types <= 7.2),
which keeps the old behaviour, race included. In QEMU 7.2 the migration thread is the only writer,
EOS included, so there is no race.

The EOS write has no trace event. migtrace infers it between migration_completion_postcopy_end and
migration_completion_postcopy_end_after_complete on the migration thread (it is the last thing
before _after_complete), and decides whether it happens from the version (migrate_pending* events,
which thread sends urgent pages) and compat-mode evidence (preempt channel created before the first
PONG, an EOS arriving on the destination preempt channel).

Evidence, strongest first:
  interleaved  the owner logged writes inside the non-owner's access window: both threads were
               writing the file in the same interval
  after-eos    the owner wrote after the other thread terminated the stream with EOS
  ownership    the owner was alive during the window; no write of its own was logged near it
Each finding counts the owner's writes before the window, inside it and after the EOS, names the
nearest owner write on each side of the EOS with its gap to _after_complete (µs or ms), and says
when every inside write predates the EOS itself: logged before the migration thread's last
main-channel write, while qemu_savevm_state_complete_postcopy runs, so the EOS came after them.
Read the report like a ThreadSanitizer one: the first location is the non-owner access (the
inferred EOS), the second the owner's conflicting access, then the window bounds and the owner's
exit. Silent for 7.2 (single writer) and for 8.0+ default mode (no EOS).`,
  create: () => new Instance(),
};
