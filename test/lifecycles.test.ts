// Each lifecycle table on a real trace: the states it walks through, event by event, are the ones
// the trace's own lines say QEMU went through (found here by event name in the raw text, not by the
// model), and what the model records at each step is the line the hand-written code recorded
// before: the first entry, the pause and its resume, the cleanup's entry, join and exit.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Automaton, type Monitor, type Table } from '../src/model/automaton.js';
import { fieldOf, loadCatalog, rowsFor, type CatalogRow } from '../src/model/catalog.js';
import { PHASES } from '../src/model/episodes.js';
import { EOS_WINDOW, EOS_WINDOW_GUARDS } from '../src/model/eos-window.js';
import { CANCEL, CANCEL_GUARDS, POSTCOPY_RECOVERY, POSTCOPY_RECOVERY_GUARDS } from '../src/model/migration-states.js';
import { PreemptLifecycle } from '../src/model/preempt.js';
import { RP_JOIN, RP_RESUME, RP_RESUME_GUARDS, SRC_CLEANUP } from '../src/model/return-path.js';
import type { EventRef } from '../src/model/threads.js';
import { newScratch, parseInto } from '../src/ingest/log-format.js';
import type { Side } from '../src/types.js';
import { ROOT } from './helpers.js';

const catalog = loadCatalog();
const PAUSE_RECOVER = 'traces/10.0.13/cap-postcopy-preempt-pause-recover-1';

interface Ev {
  ref: EventRef;
  rows: readonly CatalogRow[];
  args: string;
  row: CatalogRow;
  field(name: string): string | null;
}

/** The catalog events of one log, in order: one entry per (event, catalog row). */
function events(rel: string, side: Side): Ev[] {
  const out: Ev[] = [];
  const s = newScratch();
  readFileSync(join(ROOT, rel), 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (parseInto(line, s) !== 'event') return;
      const args = s.args; // the scratch is reused by the next line
      const rows = rowsFor(catalog, s.name, args);
      const ref: EventRef = { name: s.name, side, args, tid: s.tid, ts: s.ts, input: 0, line: i + 1, raw: line };
      for (const row of rows) out.push({ ref, rows, args, row, field: (n) => fieldOf(rows, args, n) });
    });
  return out;
}

/** Lines of the raw log whose event is `name` (and whose arguments start with `args`). */
function linesOf(rel: string, name: string, args = ''): number[] {
  const out: number[] = [];
  readFileSync(join(ROOT, rel), 'utf8')
    .split('\n')
    .forEach((line, i) => {
      const at = line.indexOf(`:${name} `);
      if (at >= 0 && line.slice(at + name.length + 2).startsWith(args)) out.push(i + 1);
    });
  return out;
}

const first = (rel: string, name: string, args = '') => linesOf(rel, name, args)[0]!;

/** Lines where the process entered `state` (exactly: postcopy-recover is not postcopy-recover-setup). */
function stateLines(rel: string, state: string): number[] {
  const lines = readFileSync(join(ROOT, rel), 'utf8').split('\n');
  return linesOf(rel, 'migrate_set_state', `new state ${state}`).filter((l) => lines[l - 1]!.trimEnd().endsWith(`new state ${state}`));
}

/** Runs one table over events, one run per key; returns each state change as `line state`. */
function walk<S extends string, G extends string, A extends string>(
  table: Table<S, G, A>,
  guards: Record<G, (c: unknown, e: Ev) => boolean>,
  evs: Ev[],
  keyOf: (e: Ev) => string = () => '',
): { changes: string[]; runs: Map<string, Monitor<S>> } {
  const actions = Object.fromEntries(table.transitions.filter((t) => t.action).map((t) => [t.action!, () => {}])) as Record<A, () => void>;
  const a = new Automaton<S, G, A, unknown, Ev>(table, guards, actions);
  const runs = new Map<string, Monitor<S>>();
  const changes: string[] = [];
  for (const e of evs) {
    if (!a.reads[e.row.signalIndex]) continue;
    const key = keyOf(e);
    let run = runs.get(key);
    if (!run) runs.set(key, (run = a.start()));
    const before = run.state;
    a.step(run, e.row.signalIndex, null, e);
    if (run.state !== before) changes.push(`${e.ref.line} ${run.state}`);
  }
  return { changes, runs };
}

describe('lifecycle tables on real traces', () => {
  it('destination preempt thread, cleanup, pause and incoming: a 10.0.13 run paused by a fault, recovered and completed', () => {
    const dst = `${PAUSE_RECOVER}/dst.log`;
    const p = new PreemptLifecycle();
    const changes: Record<string, string[]> = {};
    let last = p.states();
    for (const e of events(dst, 'dst')) {
      if (e.row !== e.rows[0]) continue; // observe takes the event with all its rows
      if (!e.rows.some((r) => PreemptLifecycle.wants(r))) continue;
      p.observe(e.ref, e.rows, e.args);
      const now = p.states();
      for (const [table, state] of Object.entries(now)) if (state !== last[table]) (changes[table] ??= []).push(`${e.ref.line} ${state}`);
      last = now;
    }
    assert.deepEqual(changes['preempt thread'], [
      `${first(dst, 'postcopy_preempt_thread_entry')} running`,
      `${first(dst, 'postcopy_pause_fast_load')} paused`,
      `${first(dst, 'postcopy_pause_fast_load_continued')} running`,
      `${first(dst, 'postcopy_preempt_thread_exit')} exited`,
    ]);
    assert.deepEqual(changes['destination cleanup'], [
      `${first(dst, 'postcopy_ram_incoming_cleanup_entry')} quitting`,
      `${first(dst, 'postcopy_ram_incoming_cleanup_join')} joined`,
      `${first(dst, 'postcopy_ram_incoming_cleanup_exit')} done`,
    ]);
    // The destination paused for real (the fault), and the later quit request clears that.
    assert.deepEqual(changes['destination pause since the quit request'], [`${first(dst, 'postcopy_pause_incoming')} paused`, `${first(dst, 'postcopy_ram_incoming_cleanup_entry')} clear`]);
    assert.deepEqual(changes['destination incoming'], [`${first(dst, 'loadvm_postcopy_handle_listen', 'enter')} listening`, `${first(dst, 'loadvm_postcopy_handle_run')} running`]);
    // What the rules read, the same lines the hand-written lifecycle recorded.
    assert.equal(p.entry?.line, first(dst, 'postcopy_preempt_thread_entry'));
    assert.equal(p.exit?.line, first(dst, 'postcopy_preempt_thread_exit'));
    assert.deepEqual(
      p.pauses.map((x) => [x.pause.line, x.resumed?.line, x.afterCleanupEntry, x.incomingPauseBetween]),
      [[first(dst, 'postcopy_pause_fast_load'), first(dst, 'postcopy_pause_fast_load_continued'), false, false]],
    );
    assert.equal(p.cleanupEntry?.line, first(dst, 'postcopy_ram_incoming_cleanup_entry'));
    assert.equal(p.cleanupJoin?.line, first(dst, 'postcopy_ram_incoming_cleanup_join'));
    assert.deepEqual(p.incomingPauses.map((r) => r.line), linesOf(dst, 'postcopy_pause_incoming'));
    assert.deepEqual(p.incomingPausedStates.map((r) => r.line), stateLines(dst, 'postcopy-paused'));
    assert.equal(p.reads, linesOf(dst, 'ram_load_postcopy_loop', 'chan=1').length);
    assert.equal(p.dstPreemptChannel?.line, first(dst, 'postcopy_preempt_new_channel'));
  });

  it('migration phases: a source migrated twice (the first cancelled) opens the second at its second setup', () => {
    const src = 'traces/10.0.13/twice-postcopy-preempt-1/src.log';
    const setups = stateLines(src, 'setup');
    assert.ok(setups.length >= 2, 'the trace holds two migrations');
    let run = PHASES.start();
    const other = PHASES.start();
    const opened: number[] = [];
    for (const e of events(src, 'src')) {
      if (!PHASES.reads[e.row.signalIndex]) continue;
      const ctx = { other, timed: true };
      if (PHASES.peek(run, e.row.signalIndex, ctx, e) === 'nextMigration') {
        opened.push(e.ref.line);
        run = PHASES.start(); // what the replay does: a new episode takes the event
      }
      PHASES.step(run, e.row.signalIndex, ctx, e);
    }
    assert.deepEqual(opened, setups.slice(1));
    assert.equal(run.state, stateLines(src, 'completed').length ? 'ended' : 'migrating');
  });

  it('cancel: cancelling until cancelled, on the first migration of that source', () => {
    const src = 'traces/10.0.13/twice-postcopy-preempt-1/src.log';
    const { changes } = walk(CANCEL, CANCEL_GUARDS, events(src, 'src'));
    const cancelling = stateLines(src, 'cancelling')[0]!;
    const ended = [...stateLines(src, 'cancelled'), ...stateLines(src, 'failed')].filter((l) => l > cancelling).sort((a, b) => a - b)[0];
    assert.deepEqual(changes.slice(0, 2), [`${cancelling} cancelling`, `${ended} none`]);
  });

  it('EOS window: the racy compat-mode 10.0.13 run opens, narrows to the EOS and closes on the migration thread', () => {
    const src = 'traces/10.0.13/c-postcopy-preempt-pre72-2/src.log';
    const evs = events(src, 'src');
    const begin = first(src, 'migration_completion_postcopy_end');
    const end = first(src, 'migration_completion_postcopy_end_after_complete');
    // The window's run is keyed by thread: section ends of that thread count, as the rule's do.
    const tid = evs.find((e) => e.ref.line === begin)!.ref.tid;
    const own = evs.filter((e) => e.ref.tid === tid && (e.row.signal !== 'section-end' || e.ref.line > begin));
    const { changes, runs } = walk(EOS_WINDOW, EOS_WINDOW_GUARDS, own);
    const sectionsInside = linesOf(src, 'savevm_section_end').filter((l) => l > begin && l < end);
    assert.ok(sectionsInside.length > 0);
    assert.deepEqual(changes, [`${begin} open`, `${sectionsInside[0]} eos-only`, `${end} closed`]);
    assert.equal(runs.get('')!.state, 'closed');
  });

  it('return path: two joins of the rp thread, a pause, the re-open on resume, the recovery, on the 10.0.13 pause-recover source', () => {
    const src = `${PAUSE_RECOVER}/src.log`;
    const evs = events(src, 'src');
    const before = linesOf(src, 'migration_return_path_end_before');
    const after = linesOf(src, 'migration_return_path_end_after');
    const joins = walk(RP_JOIN, {}, evs, (e) => String(e.ref.tid));
    assert.deepEqual(joins.changes, before.flatMap((b, i) => [`${b} joining`, `${after[i]} outside`]));

    const paused = stateLines(src, 'postcopy-paused')[0]!;
    const reopen = linesOf(src, 'open_return_path_on_source').find((l) => l > paused)!;
    const active = stateLines(src, 'postcopy-active');
    assert.deepEqual(walk(RP_RESUME, RP_RESUME_GUARDS, evs).changes, [`${paused} paused`, `${reopen} reopened`, `${active.find((l) => l > reopen)} not-paused`]);

    // The rp thread failed before the recovery (the fault itself), so the recovery saw no second failure.
    const recover = stateLines(src, 'postcopy-recover')[0]!;
    assert.ok(first(src, 'source_return_path_thread_bad_end') < recover);
    assert.deepEqual(walk(POSTCOPY_RECOVERY, POSTCOPY_RECOVERY_GUARDS, evs).changes, [`${recover} recovering`, `${active.find((l) => l > recover)} watching`]);

    const cleanup = walk(SRC_CLEANUP, {}, evs, (e) => String(e.ref.tid));
    assert.deepEqual(cleanup.changes, [`${first(src, 'migration_cleanup')} after`]);
  });
});
