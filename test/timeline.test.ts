// The timeline layout (pure): lanes, what the second pass keeps (windows, caps, aggregation),
// spans (owners, access windows, states), terminal rows, zoom arithmetic and per-pixel buckets;
// then the terminal view of a real run end to end.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import chalk from 'chalk';
import type { TraceRecord } from '../src/ingest/trace-input.js';
import { loadCatalog, rowsFor } from '../src/model/catalog.js';
import { HTML_LIMITS, TEXT_LIMITS } from '../src/cli/commands/timeline.js';
import { analyzeWithTimeline } from '../src/cli/analyze-timeline.js';
import { RULES } from '../src/rules/index.js';
import { clean, renderTimelineText } from '../src/report/timeline-text.js';
import { bucketize, lowerBound, niceStep, panView, zoomView } from '../src/timeline/aggregate.js';
import { TimelineCollector, type CollectOptions } from '../src/timeline/collect.js';
import { histogramIn, StreamingHistogram } from '../src/timeline/histogram.js';
import { laneOrder, planLanes } from '../src/timeline/lanes.js';
import { layoutRows, type TextRow } from '../src/timeline/rows.js';
import { computeSpans } from '../src/timeline/spans.js';
import { planTracks } from '../src/timeline/tracks.js';
import type { TimelineData } from '../src/timeline/types.js';
import { initialView, mergeWindows, parseTimeSpec, TimeSpecError } from '../src/timeline/windows.js';
import type { Finding, Location, Role, RunResult, Side, ThreadSummary } from '../src/types.js';
import { ROOT, tempRun } from './helpers.js';

const catalog = loadCatalog();
const BASE = 1_700_000_000_000_000; // µs

function thread(side: Side, tid: number, role: Role): ThreadSummary {
  return { side, tid, role, how: 'test', events: 0 };
}

/** A RunResult with what the timeline reads; the rest empty (cast: other fields do not matter here). */
function runOf(over: Partial<RunResult> = {}): RunResult {
  return {
    name: 'synthetic',
    inputs: [
      { path: 'src.log', side: 'src', sideEvidence: 'forced', format: 'log' },
      { path: 'dst.log', side: 'dst', sideEvidence: 'forced', format: 'log' },
    ],
    qemu: { src: { range: '>=8.0', writerModel: 'return-path-thread (>=8.0)', evidence: [] }, dst: { range: '8.0-10.1', evidence: [] } },
    mode: { postcopy: true, preempt: true, compatPre72: true, evidence: [] },
    verdict: 'clean',
    verdictReasons: [],
    findings: [],
    inconclusive: [],
    notApplicable: [],
    rulesChecked: [],
    threads: [thread('src', 10, 'main'), thread('src', 11, 'migration'), thread('src', 12, 'rp'), thread('dst', 20, 'main'), thread('dst', 21, 'listen'), thread('dst', 22, 'preempt')],
    stats: { lines: 0, events: 0, messages: 0, unparsed: 0 },
    dataQuality: { perInput: [], unparsedSamples: [], unassignedTids: [], notes: [] },
    ...over,
  } as RunResult;
}

/** A log-backend event record: input 0 = src.log, 1 = dst.log; t in µs after BASE. */
function rec(input: number, line: number, tid: number, t: number, name: string, args = ''): TraceRecord {
  const us = BASE + t;
  const raw = `${tid}@${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}:${name}${args ? ` ${args}` : ''}`;
  return { kind: 'event', name, side: input === 0 ? 'src' : 'dst', args, tid, ts: us, input, line, raw };
}

function loc(r: TraceRecord & { kind: 'event' }, role: Role, note?: string): Location {
  return { file: r.input === 0 ? 'src.log' : 'dst.log', line: r.line, tid: r.tid, role, side: r.side, event: r.name, ts: (r.ts as number) / 1e6, text: r.raw, ...(note ? { note } : {}) };
}

function finding(locations: Location[], severity: Finding['severity'] = 'error', object = 'postcopy_qemufile_src'): Finding {
  return { rule: 'qemufile-concurrent-access', severity, message: 'test', evidence: { kind: 'interleaved' }, commits: ['6621883f93'], object, locations };
}

/**
 * The seed race in miniature: rp writes a page every 100 µs for 10 ms; the migration thread opens
 * the EOS window at 5 ms and closes it at 7 ms; the destination cleans up at 9 ms.
 */
function raceRecords(): Array<TraceRecord & { kind: 'event' }> {
  const out: Array<TraceRecord & { kind: 'event' }> = [];
  let srcLine = 1;
  let dstLine = 1;
  const s = (tid: number, t: number, name: string, args = '') => out.push(rec(0, srcLine++, tid, t, name, args) as TraceRecord & { kind: 'event' });
  const d = (tid: number, t: number, name: string, args = '') => out.push(rec(1, dstLine++, tid, t, name, args) as TraceRecord & { kind: 'event' });
  s(11, 0, 'migrate_set_state', 'new state postcopy-active');
  s(11, 1, 'postcopy_start');
  d(22, 2, 'postcopy_preempt_thread_entry');
  d(21, 3, 'postcopy_ram_listen_thread_start');
  for (let t = 100; t < 10_000; t += 100) {
    if (t === 5000) s(11, 5000, 'migration_completion_postcopy_end');
    if (t === 7000) s(11, 7000, 'migration_completion_postcopy_end_after_complete');
    s(12, t, 'postcopy_preempt_send_host_page', `ramblock pc.ram offset 0x${t.toString(16)}`);
    d(22, t + 10, 'ram_load_postcopy_loop', 'chan=1 addr=0x1000 flags=0x8');
  }
  d(22, 8000, 'postcopy_preempt_thread_exit');
  d(21, 9000, 'postcopy_ram_incoming_cleanup_entry');
  d(21, 9050, 'postcopy_ram_incoming_cleanup_join');
  s(12, 9500, 'source_return_path_thread_end');
  s(11, 9900, 'migrate_set_state', 'new state completed');
  return out.sort((a, b) => (a.ts as number) - (b.ts as number));
}

/** Streams the records through a collector as the replay would (the catalog's rows, the thread's role), then lays them out for `run`. */
function collect(run: RunResult, records: TraceRecord[], opts: Partial<CollectOptions> = {}): TimelineData {
  const c = new TimelineCollector({ select: { kind: 'auto', marginUs: 1000 }, maxFocusEvents: 5000, maxContextEvents: 0, ...opts });
  for (const r of records) {
    const rows = r.kind === 'event' ? rowsFor(catalog, r.name, r.args) : [];
    const role = (r.kind === 'event' && run.threads.find((t) => t.side === r.side && t.tid === r.tid)?.role) || 'unknown';
    c.onEvent(r, { rows, role });
  }
  return c.finish(run);
}

const byName = (d: TimelineData, name: string) => d.events.filter((e) => e.name === name);
const histTotal = (d: TimelineData) => d.histogram.cells.reduce((a, c) => a + c[3], 0);

describe('lanes', () => {
  it('one lane per thread with a migration role, source first, in role order; a second rp is rp#2', () => {
    const run = runOf({ threads: [thread('dst', 22, 'preempt'), thread('src', 12, 'rp'), thread('src', 30, 'rp'), thread('src', 11, 'migration'), thread('dst', 21, 'listen'), thread('src', 10, 'main'), thread('src', 40, 'unknown'), thread('src', 41, 'vcpu')] });
    const plan = planLanes(run);
    assert.deepEqual(
      plan.lanes.map((l) => l.label),
      ['main 10', 'migration 11', 'rp 12', 'rp#2 30', 'listen 21', 'preempt 22'],
    );
    assert.equal(plan.lanes[3]?.short, 'rp2');
  });
  it('threads without a migration role share a per-side catch-all lane, placed after the side’s threads; no TIDs → one lane per side', () => {
    const plan = planLanes(runOf());
    const other = plan.laneOf('src', 40);
    const none = plan.laneOf('dst', null);
    assert.equal(plan.lanes[other]?.role, 'other');
    assert.equal(plan.lanes[none]?.label, 'all threads (no TIDs)');
    assert.equal(plan.laneOf('src', 41), other, 'one catch-all per side');
    const order = laneOrder(plan.lanes).map((i) => plan.lanes[i]?.label);
    assert.equal(order.indexOf('other threads'), 3, 'after main, migration, rp');
    assert.equal(order[order.length - 1], 'all threads (no TIDs)');
  });
  it('a thread a finding names gets its own lane even without a role', () => {
    const r = rec(0, 5, 77, 10, 'qemu_file_fclose') as TraceRecord & { kind: 'event' };
    const plan = planLanes(runOf({ findings: [finding([loc(r, 'unknown')])] }));
    assert.ok(plan.lanes.some((l) => l.tid === 77 && l.side === 'src'));
  });
});

describe('second pass: what is kept', () => {
  const recs = raceRecords();
  it('zooms by default on the end-of-postcopy events, ±margin, including the events just before them (ring buffer)', () => {
    const d = collect(runOf(), recs);
    // Triggers at 5, 7 (EOS window), 8 (preempt exit), 9 (cleanup entry), 9.9 ms (completed): windows merge.
    assert.deepEqual(
      d.windows.map((w) => [w.from - BASE, w.to - BASE]),
      [[4000, d.tEnd - BASE]],
      'one merged window, from 1 ms before the first trigger to the end of the trace',
    );
    const sends = byName(d, 'postcopy_preempt_send_host_page');
    assert.equal(sends[0]?.t, BASE + 4000, 'the send 1 ms before the trigger joined the window retroactively');
    assert.ok(sends.every((e) => e.focus));
    assert.equal(d.totalEvents, recs.length);
    assert.equal(d.keptEvents + histTotal(d), d.totalEvents, 'every event is kept or counted, once');
  });
  it('windows around every location of every finding, known before the pass', () => {
    const target = recs.find((r) => r.name === 'postcopy_preempt_send_host_page' && r.ts === BASE + 1500)!;
    const run = runOf({ findings: [finding([loc(target, 'rp', 'owner write')])] });
    const d = collect(run, recs);
    assert.equal(d.windows[0]?.from, BASE + 500);
    assert.deepEqual(d.windows[0]?.reasons, ['finding 1']);
    const e = d.events.find((x) => x.line === target.line && x.input === 0)!;
    assert.deepEqual(e.findings, [0]);
  });
  it('caps events inside the windows; the rest are aggregated per bucket, never dropped; lifecycle events stay', () => {
    const d = collect(runOf(), recs, { maxFocusEvents: 10 });
    assert.ok(d.events.filter((e) => !e.key).length <= 10);
    assert.ok(d.windows[0]!.aggregated > 0);
    assert.equal(d.keptEvents + histTotal(d), d.totalEvents);
    for (const n of ['migration_completion_postcopy_end', 'migration_completion_postcopy_end_after_complete', 'postcopy_ram_incoming_cleanup_entry']) assert.equal(byName(d, n).length, 1, n);
    assert.match(d.notes.join('\n'), /over the 10-event limit/);
  });
  it('--from/--to: absolute or relative to the first event', () => {
    const d = collect(runOf(), recs, { select: { kind: 'range', from: parseTimeSpec('+0.002', '--from'), to: parseTimeSpec('+0.003', '--to') } });
    assert.deepEqual(d.windows.map((w) => [w.from - d.t0, w.to - d.t0]), [[2000, 3000]]);
    const focus = d.events.filter((e) => e.focus);
    assert.ok(focus.length > 0 && focus.every((e) => e.t >= d.t0 + 2000 && e.t <= d.t0 + 3000));
    const abs = collect(runOf(), recs, { select: { kind: 'range', from: { kind: 'abs', us: BASE + 2000 }, to: null } });
    assert.equal(abs.windows[0]?.from, BASE + 2000);
    assert.equal(abs.windows[0]?.to, abs.tEnd);
  });
  it('context outside the windows (HTML) is kept up to its cap, then only counted', () => {
    const all = collect(runOf(), recs, { maxContextEvents: 100_000 });
    assert.equal(all.contextComplete, true);
    assert.equal(all.keptEvents, all.totalEvents);
    const capped = collect(runOf(), recs, { maxContextEvents: 5 });
    assert.equal(capped.contextComplete, false);
    assert.ok(capped.events.every((e) => e.focus || e.key));
    assert.equal(capped.keptEvents + histTotal(capped), capped.totalEvents);
  });
  it('a finding’s own events are kept whatever the caps', () => {
    const early = recs.find((r) => r.ts === BASE + 200 && r.name === 'postcopy_preempt_send_host_page')!;
    const run = runOf({ findings: [finding([loc(early, 'rp')])] });
    const d = collect(run, recs, { maxFocusEvents: 1, select: { kind: 'range', from: { kind: 'rel', us: 9000 }, to: null } });
    assert.ok(d.events.some((e) => e.line === early.line && e.input === 0 && e.findings[0] === 0));
  });
  it('nothing to zoom on (precopy, no finding): the end of the trace', () => {
    const pre = [rec(0, 1, 11, 0, 'migration_thread_setup_complete'), rec(0, 2, 11, 50_000, 'savevm_section_start', 'ram'), rec(0, 3, 11, 50_100, 'savevm_section_end', 'ram')];
    const d = collect(runOf(), pre);
    assert.deepEqual(d.windows.map((w) => w.reasons), [['end of trace']]);
    assert.equal(d.windows[0]?.to, BASE + 50_100);
    assert.equal(byName(d, 'savevm_section_start')[0]?.focus, true);
  });
  it('a trace without timestamps is placed by line number, and said so; a record without one goes with its predecessor', () => {
    const r1: TraceRecord = { kind: 'event', name: 'migration_thread_setup_complete', side: 'src', args: '', tid: null, ts: null, input: 0, line: 7, raw: 'migration_thread_setup_complete' };
    const perInput = (path: string, events: number, eventsWithoutTs: number) => ({ path, lines: events, blank: 0, events, eventsWithoutTid: events, eventsWithoutTs, messages: 0, unparsed: 0, outOfOrder: 0, overlong: 0 });
    const noTs = runOf({ threads: [], dataQuality: { perInput: [perInput('src.log', 1, 1), perInput('dst.log', 1, 0)], unparsedSamples: [], unassignedTids: [], notes: [] } } as unknown as Partial<RunResult>);
    const d = collect(noTs, [r1]);
    assert.equal(d.timeBase, 'trace', 'only one of two inputs lacks time');
    assert.equal(d.events[0]?.t, 7);
    assert.match(d.notes.join('\n'), /src\.log: no timestamps/);
    assert.equal(d.lanes.find((l) => l.role === 'all')?.side, 'src');
    // A QEMU message before the first timestamp waits for it; one after takes its predecessor's.
    const msg = (line: number): TraceRecord => ({ kind: 'message', text: 'qemu-system-x86_64: Detected IO failure for postcopy. Migration paused.', program: 'qemu-system-x86_64', ts: null, input: 1, line });
    const m = collect(runOf(), [msg(1), rec(1, 2, 21, 500, 'postcopy_ram_listen_thread_start'), msg(3)]);
    assert.deepEqual(m.events.filter((e) => e.name === '(qemu message)').map((e) => [e.line, e.t - BASE]), [[1, 500], [3, 500]]);
    assert.equal(m.t0, BASE + 500);
  });
});

describe('spans', () => {
  const recs = raceRecords();
  it('the EOS window, the owner of postcopy_qemufile_src from postcopy_start, the cleanup until the preempt thread is gone, state bands', () => {
    const end = recs.find((r) => r.name === 'migration_completion_postcopy_end_after_complete')!;
    const run = runOf({ findings: [finding([loc(end, 'migration', 'EOS write')])] });
    const d = collect(run, recs, { maxContextEvents: 100_000 });
    const s = computeSpans(d, run);
    const eos = s.windows.find((w) => w.kind === 'eos')!;
    assert.deepEqual([eos.from - BASE, eos.to - BASE, eos.file, eos.conflict, eos.open], [5000, 7000, 'postcopy_qemufile_src', true, false]);
    assert.equal(d.lanes[eos.lane]?.role, 'migration');
    const owner = s.owners.find((o) => o.file === 'postcopy_qemufile_src')!;
    assert.deepEqual([d.lanes[owner.lane]?.label, owner.from - BASE, owner.to - BASE], ['rp 12', 100, 9500], 'from postcopy_start (or the rp thread’s first event) to its exit');
    const dstOwner = s.owners.find((o) => o.file === 'postcopy_qemufile_dst')!;
    assert.equal(dstOwner.to - BASE, 8000);
    const cleanup = s.windows.find((w) => w.kind === 'cleanup')!;
    assert.match(cleanup.label, /already exited/, 'compat mode: the preempt thread read the EOS and left before the cleanup');
    assert.equal(cleanup.to - BASE, 9050);
    assert.deepEqual(s.states.map((b) => [b.side, b.state, b.open]), [['src', 'postcopy-active', false], ['src', 'completed', true]]);
    const tracks = planTracks(d, s);
    assert.deepEqual(tracks.filter((t) => t.kind === 'file').map((t) => (t.kind === 'file' ? t.file : '')), ['postcopy_qemufile_src', 'to_dst_file', 'from_dst_file', 'postcopy_qemufile_dst', 'from_src_file']);
  });
  it('a quit misread as a network failure ends the cleanup window at postcopy_pause_fast_load; a missing exit leaves it open', () => {
    const base = [rec(1, 1, 22, 0, 'postcopy_preempt_thread_entry'), rec(1, 2, 21, 5, 'postcopy_ram_listen_thread_start'), rec(1, 3, 21, 1000, 'postcopy_ram_incoming_cleanup_entry')];
    const misread = collect(runOf(), [...base, rec(1, 4, 22, 1003, 'postcopy_pause_fast_load'), rec(1, 5, 20, 5000, 'qemu_file_fclose')]);
    const w = computeSpans(misread, runOf()).windows.find((x) => x.kind === 'cleanup')!;
    assert.match(w.label, /network failure/);
    assert.equal(w.to - BASE, 1003);
    const stuck = collect(runOf(), [...base, rec(1, 4, 20, 5000, 'qemu_file_fclose')]);
    const w2 = computeSpans(stuck, runOf()).windows.find((x) => x.kind === 'cleanup')!;
    assert.equal(w2.open, true);
    assert.equal(w2.to, stuck.tEnd);
  });
  it('default mode: the completion window is not an EOS write on postcopy_qemufile_src', () => {
    const run = runOf({ mode: { postcopy: true, preempt: true, compatPre72: false, evidence: [] } });
    const s = computeSpans(collect(run, raceRecords()), run);
    const eos = s.windows.find((w) => w.kind === 'eos')!;
    assert.equal(eos.file, null);
    assert.match(eos.label, /no EOS/);
  });
});

describe('terminal rows', () => {
  const recs = raceRecords();
  const target = recs.find((r) => r.name === 'postcopy_preempt_send_host_page' && r.ts === BASE + 6000)!;
  const run = runOf({ findings: [finding([loc(target, 'rp', 'owner write inside the EOS window')])] });
  const d = collect(run, recs, { select: { kind: 'range', from: { kind: 'rel', us: 4000 }, to: { kind: 'rel', us: 8000 } } });
  const s = computeSpans(d, run);
  const rows = layoutRows(d, s, run, { maxRowsPerWindow: 60, markFiles: new Set(['postcopy_qemufile_src']) });
  const groups = rows.filter((r): r is Extract<TextRow, { kind: 'group' }> => r.kind === 'group');
  it('collapses repeated routine events into one row per lane between the events that matter', () => {
    const rp = groups.filter((g) => d.lanes[g.lane]?.role === 'rp');
    assert.ok(rp.length >= 2, 'split at the EOS window boundary and at the finding');
    assert.ok(rp.every((g) => g.name === 'postcopy_preempt_send_host_page' && g.nameCount === g.count));
    const shownRp = rp.reduce((a, g) => a + g.count, 0) + rows.filter((r) => r.kind === 'event' && d.lanes[r.event.lane]?.role === 'rp').length;
    assert.equal(shownRp, d.events.filter((e) => e.focus && d.lanes[e.lane]?.role === 'rp').length, 'every rp event in the window is in exactly one row');
  });
  it('a finding’s event has a row of its own, marked, with the location’s note; window boundaries are annotated', () => {
    const i = rows.findIndex((r) => r.kind === 'event' && r.event.findings.length > 0);
    const row = rows[i] as Extract<TextRow, { kind: 'event' }>;
    assert.equal(row.event.line, target.line);
    assert.ok(row.lanes.includes('finding'));
    const next = rows[i + 1];
    assert.ok(next?.kind === 'note' && next.text === '[1] owner write inside the EOS window');
    assert.ok(rows.some((r) => r.kind === 'note' && r.text.startsWith('▶ EOS write on postcopy_qemufile_src')));
    assert.ok(rows.some((r) => r.kind === 'note' && /^◀ EOS window ends after 2\.00 ms/.test(r.text)));
  });
  it('lanes show owner and window state: rp owns postcopy_qemufile_src (┃) while the migration thread is in the EOS window (║)', () => {
    const col = (role: string) => d.lanes.filter((l) => l.role !== 'other').findIndex((l) => l.role === role);
    const inside = rows.find((r) => r.kind === 'event' && r.event.findings.length > 0) as Extract<TextRow, { kind: 'event' }>;
    assert.equal(inside.lanes[col('migration')], 'window');
    const before = groups.find((g) => d.lanes[g.lane]?.role === 'preempt' && g.t < BASE + 5000)!;
    assert.equal(before.lanes[col('rp')], 'owns');
  });
  it('gap rows count what is outside the windows; the budget makes collapsing coarser, then cuts', () => {
    const gaps = rows.filter((r) => r.kind === 'gap');
    const inGaps = gaps.reduce((a, g) => a + (g.kind === 'gap' ? g.count : 0), 0);
    const stateRows = rows.filter((r) => r.kind === 'event' && r.inGap).length;
    assert.equal(inGaps + stateRows + d.events.filter((e) => e.focus).length, d.totalEvents);
    const tight = layoutRows(d, s, run, { maxRowsPerWindow: 4, markFiles: new Set() });
    const body = tight.filter((r) => r.kind !== 'gap' && r.kind !== 'window' && !(r.kind === 'event' && r.inGap));
    assert.ok(body.length <= 4);
    assert.ok(tight.some((r) => r.kind === 'omitted'));
  });
});

describe('zoom, pan and per-pixel buckets (shared with the HTML page)', () => {
  it('bucketize counts every visible event once and remembers each bucket’s first', () => {
    const times = Float64Array.from({ length: 100_000 }, (_, i) => i * 10);
    const t = Date.now();
    const b = bucketize(times, 0, 1_000_000, 400);
    assert.ok(Date.now() - t < 200, '100k events bucketed fast');
    assert.equal(b.counts.reduce((a, c) => a + c, 0), 100_000);
    assert.equal(b.counts[0], 250);
    assert.equal(b.first[1], 250);
    const part = bucketize(times, 5, 35, 3);
    assert.deepEqual([...part.counts], [1, 1, 1]);
    assert.deepEqual([...part.first], [1, 2, 3]);
    assert.deepEqual([...bucketize([], 0, 1, 2).first], [-1, -1]);
  });
  it('lowerBound, niceStep', () => {
    assert.equal(lowerBound([1, 2, 2, 5], 2), 1);
    assert.equal(lowerBound([1, 2, 2, 5], 6), 4);
    assert.equal(niceStep(1000, 10), 100);
    assert.equal(niceStep(1800, 10), 200);
    assert.equal(niceStep(4000, 10), 500);
  });
  it('zoom keeps the time under the cursor in place, clamps to the data and a minimum span; pan clamps', () => {
    const [a, b] = zoomView(0, 1000, 0.5, 250, 0, 1000, 1);
    assert.deepEqual([a, b], [125, 625]);
    assert.equal((250 - a) / (b - a), 0.25);
    assert.deepEqual(zoomView(0, 1000, 4, 500, 0, 1000, 1), [0, 1000]);
    assert.deepEqual(zoomView(0, 10, 0.01, 5, 0, 1000, 4), [3, 7]);
    assert.deepEqual(zoomView(900, 1000, 0.5, 1000, 0, 1000, 1), [950, 1000]);
    assert.deepEqual(panView(100, 200, -500, 0, 1000), [0, 100]);
    assert.deepEqual(panView(100, 200, 5000, 0, 1000), [900, 1000]);
  });
});

describe('time windows', () => {
  it('parses seconds exactly (µs), absolute or +relative', () => {
    assert.deepEqual(parseTimeSpec('1795635181.952652', '--from'), { kind: 'abs', us: 1795635181952652 });
    assert.deepEqual(parseTimeSpec('+1.2', '--from'), { kind: 'rel', us: 1_200_000 });
    assert.deepEqual(parseTimeSpec('+.5', '--to'), { kind: 'rel', us: 500_000 });
    assert.throws(() => parseTimeSpec('soon', '--to'), TimeSpecError);
    assert.throws(() => parseTimeSpec('-1', '--to'), /--to "-1": expected seconds/);
  });
  it('merges overlapping windows, keeping every reason', () => {
    const m = mergeWindows([
      { from: 10, to: 20, reasons: ['b'], aggregated: 1 },
      { from: 0, to: 12, reasons: ['a'], aggregated: 0 },
      { from: 30, to: 40, reasons: ['c'], aggregated: 0 },
    ]);
    assert.deepEqual(m, [
      { from: 0, to: 20, reasons: ['a', 'b'], aggregated: 1 },
      { from: 30, to: 40, reasons: ['c'], aggregated: 0 },
    ]);
  });
  it('the graphical view opens on the windows of errors and of the end of postcopy, not on an early info finding', () => {
    const d = { windows: [{ from: 0, to: 10, reasons: ['finding 2'], aggregated: 0 }, { from: 500, to: 600, reasons: ['finding 1', 'migration_completion_postcopy_end'], aggregated: 0 }], t0: 0, tEnd: 1000 } as TimelineData;
    const run = runOf({ findings: [finding([]), finding([], 'info')] });
    assert.deepEqual(initialView(d, run), [500, 600]);
  });
});

describe('histogram', () => {
  it('widens its buckets as the trace goes on; counts are never lost', () => {
    const h = new StreamingHistogram(16);
    for (let i = 0; i < 10_000; i++) h.add(i * 1000, i % 3, i % 2 ? 'a' : 'b');
    const r = h.result();
    assert.ok(r.width >= 10_000_000 / 16);
    assert.equal(r.cells.reduce((a, c) => a + c[3], 0), 10_000);
    assert.ok(Math.max(...r.cells.map((c) => c[0])) < 16);
    const some = histogramIn(r, 0, 10_000_000);
    assert.equal(some.reduce((a, c) => a + c.count, 0), 10_000);
  });
});

describe('spans of a retried destination (real: a cancelled attempt, then a fresh destination)', () => {
  it("each destination's cleanup ends with its own process's preempt thread, never the next destination's", async () => {
    const RUN = join(ROOT, 'traces/10.0.13/twice-postcopy-preempt-1');
    const spec = { name: 'twice', inputs: ['src.log', 'dst1.log', 'dst2.log'].map((f) => ({ path: join(RUN, f) })) };
    const { run, data } = await analyzeWithTimeline(spec, { rules: RULES, catalog, stuckAfterMs: 1000, maxUnparsedSamples: 20 }, { select: { kind: 'auto', marginUs: 3000 }, ...TEXT_LIMITS });
    const cleanups = computeSpans(data, run).windows.filter((w) => w.kind === 'cleanup');
    assert.equal(cleanups.length, 2);
    for (const w of cleanups) assert.equal(w.end?.input, w.begin.input, `${w.label}: from input ${w.begin.input} to ${w.end?.input}`);
    // dst1.log was cancelled in precopy: it never had a preempt thread (no postcopy_preempt_* line in it).
    assert.match(cleanups[0]!.label, /no preempt thread in this process/);
    assert.match(cleanups[1]!.label, /quit requested until the preempt thread exits/);
  });
});

describe('terminal view of a real run', () => {
  const RUN = join(ROOT, 'traces/10.0.13/c-postcopy-preempt-pre72-2');
  const spec = { name: 'traces/10.0.13/c-postcopy-preempt-pre72-2', inputs: [{ path: join(RUN, 'src.log') }, { path: join(RUN, 'dst.log') }] };
  it('fits 80 columns, without colour codes at chalk level 0, and shows the race: the EOS window, the 422-write owner, the finding', async () => {
    const level = chalk.level;
    chalk.level = 0;
    try {
      const { run, data } = await analyzeWithTimeline(spec, { rules: RULES, catalog, stuckAfterMs: 1000, maxUnparsedSamples: 20 }, { select: { kind: 'auto', marginUs: 3000 }, ...TEXT_LIMITS });
      const text = renderTimelineText(data, computeSpans(data, run), run, { width: 80 });
      const lines = text.trimEnd().split('\n');
      for (const l of lines) assert.ok([...l].length <= 80, `too wide (${[...l].length}): ${l}`);
      assert.doesNotMatch(text, /\x1b\[/);
      assert.match(text, /^src +A main 22579 +B mig 22587 +C rp 22585$/m);
      assert.match(text, /^file +postcopy_qemufile_src +owner C rp 22585 /m);
      assert.match(text, /EOS window B \+3\.247967…\+3\.284534 ✖/);
      assert.match(text, /◆ .*mig migration_completion_postcopy_end_after_complete/);
      assert.match(text, /\[1\] EOS write on postcopy_qemufile_src/);
      assert.match(text, /rp +×\d+ postcopy_preempt_send_host_page/);
      assert.match(text, /── \d · \+3\.2/);
      assert.ok(data.keptEvents <= TEXT_LIMITS.maxFocusEvents + 20_000);
    } finally {
      chalk.level = level;
    }
  });
  it('--from/--to narrow the view; terminal control characters in a trace line are neutralised', async () => {
    const { run, data } = await analyzeWithTimeline(spec, { rules: RULES, catalog, stuckAfterMs: 1000, maxUnparsedSamples: 20 }, { select: { kind: 'range', from: parseTimeSpec('+3.2840', '--from'), to: parseTimeSpec('+3.2850', '--to') }, ...TEXT_LIMITS });
    assert.equal(data.windows.length, 1);
    const text = renderTimelineText(data, computeSpans(data, run), run, { width: 100 });
    assert.match(text, /── 1 · \+3\.284000…\+3\.285000 \(1\.00 ms\) · --from\/--to/);
    assert.equal(clean('a\x1b[31mb\x07c\td'), 'a?[31mb?c d');
  });
  it('memory stays bounded on a long trace: kept events never exceed the caps', async () => {
    const lines: string[] = [];
    const n = 120_000;
    lines.push(`1@1700000000.000000:migration_thread_setup_complete `);
    lines.push(`1@1700000000.000001:postcopy_start `);
    lines.push(`2@1700000000.000002:source_return_path_thread_entry `);
    for (let i = 0; i < n; i++) {
      const us = 10 + i * 10;
      lines.push(`2@${1700000000 + Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}:postcopy_preempt_send_host_page ramblock pc.ram offset 0x${i.toString(16)}`);
    }
    lines.push(`1@1700000002.000000:migration_completion_postcopy_end `);
    const dir = tempRun({});
    writeFileSync(join(dir, 'src.log'), `${lines.join('\n')}\n`);
    const long = { name: 'long', inputs: [{ path: join(dir, 'src.log'), side: 'src' as const }] };
    const analyze = { rules: RULES, catalog, stuckAfterMs: 1000, maxUnparsedSamples: 20 };
    const { data: small } = await analyzeWithTimeline(long, analyze, { select: { kind: 'auto', marginUs: 3000 }, maxFocusEvents: 100, maxContextEvents: 0 });
    assert.equal(small.totalEvents, n + 4);
    assert.ok(small.keptEvents <= 100 + 10, `kept ${small.keptEvents}`);
    assert.equal(small.keptEvents + histTotal(small), small.totalEvents);
    const { data: html } = await analyzeWithTimeline(long, analyze, { select: { kind: 'auto', marginUs: 3000 }, maxFocusEvents: HTML_LIMITS.maxFocusEvents, maxContextEvents: 50_000 });
    assert.equal(html.contextComplete, false);
    assert.ok(html.keptEvents <= HTML_LIMITS.maxFocusEvents + 50_000);
    assert.equal(html.keptEvents + histTotal(html), html.totalEvents);
  });
});
