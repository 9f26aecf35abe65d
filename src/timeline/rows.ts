// Terminal layout: the rows of the swimlane view, time flowing down, one column per visible lane.
// Inside each window, events that matter (findings' events, state changes, lifecycle points,
// window boundaries) get a row each; the routine ones between them collapse into one row per lane
// ("×422 postcopy_preempt_send_host_page"). Between windows, one gap row says what was skipped.
// If a window needs more rows than allowed, fewer events count as "matter" (findings last).
// Pure: rendering (characters, colour, width) is report/timeline-text.ts.
import type { RunResult } from '../types.js';
import { histogramIn } from './histogram.js';
import type { AccessWindow, Lane, Spans, TimelineData, TimeWindow, TlEvent } from './types.js';

/** What a lane shows at a row: not running, running, owning a marked QEMUFile, inside an access window, or this row's event. */
export type Glyph = 'none' | 'alive' | 'owns' | 'window' | 'event' | 'finding' | 'group';

export interface GapRow {
  kind: 'gap';
  from: number;
  to: number;
  count: number;
  top: Array<{ lane: number; name: string; count: number }>;
}

export type TextRow =
  | GapRow
  | { kind: 'window'; index: number; window: TimeWindow; hidden: number }
  | { kind: 'event'; lanes: Glyph[]; event: TlEvent; inGap: boolean }
  | { kind: 'group'; lanes: Glyph[]; t: number; tEnd: number; lane: number; count: number; name: string; nameCount: number; otherKinds: number; approx: boolean; names: Array<{ name: string; count: number }> }
  | { kind: 'note'; lanes: Glyph[]; text: string; tone: 'finding' | 'open' | 'close' }
  | { kind: 'omitted'; lanes: Glyph[]; count: number };

export interface RowOptions {
  /** Row budget per window (collapsing gets coarser to fit, then rows are cut). */
  maxRowsPerWindow: number;
  /** QEMUFiles whose owner is marked in the lanes (a compact view marks only the contested ones). */
  markFiles: ReadonlySet<string>;
}

/** Lanes shown as columns: every thread lane and the no-TID lanes; "other threads" only as counts. */
export function visibleLanes(data: TimelineData): Lane[] {
  return data.lanes.filter((l) => l.role !== 'other');
}

export function laneGlyphs(t: number, spans: Spans, opts: Pick<RowOptions, 'markFiles'>, lanes: readonly Lane[]): Glyph[] {
  return lanes.map((l) => {
    if (l.first === null || t < l.first) return 'none';
    // A thread that never logged its exit may still be running after its last event.
    if (l.last !== null && t > l.last && (l.exited || l.role === 'all')) return 'none';
    for (const w of spans.windows) if (w.lane === l.id && t >= w.from && t <= w.to) return 'window';
    for (const o of spans.owners) if (o.lane === l.id && opts.markFiles.has(o.file) && t >= o.from && t <= o.to) return 'owns';
    return 'alive';
  });
}

function rowTime(r: TextRow): number {
  return r.kind === 'event' ? r.event.t : r.kind === 'group' ? r.t : 0;
}

function withMark(g: Glyph[], laneIdx: number, mark: Glyph): Glyph[] {
  const out = [...g];
  if (laneIdx >= 0) out[laneIdx] = mark;
  return out;
}

/** The finding notes and window boundaries that annotate an event row. */
export function eventNotes(e: TlEvent, run: RunResult, data: TimelineData, spans: Spans): Array<{ text: string; tone: 'finding' | 'open' | 'close' }> {
  const out: Array<{ text: string; tone: 'finding' | 'open' | 'close' }> = [];
  const path = data.inputs[e.input];
  for (const i of e.findings) {
    const f = run.findings[i];
    if (!f) continue;
    const loc = f.locations.find((l) => l.file === path && l.line === e.line);
    out.push({ text: `[${i + 1}] ${loc?.note ?? `${f.rule}`}`, tone: 'finding' });
  }
  for (const w of spans.windows) {
    if (w.begin === e) out.push({ text: `▶ ${w.label}`, tone: 'open' });
    if (w.end === e) out.push({ text: `◀ ${windowShort(w)} ends after ${data.timeBase === 'order' ? `${w.to - w.from} lines` : fmtDuration(w.to - w.from)}`, tone: 'close' });
  }
  return out;
}

function windowShort(w: AccessWindow): string {
  return w.kind === 'eos' ? (w.file ? 'EOS window' : 'completion') : w.kind === 'cleanup' ? 'cleanup window' : 'rp join';
}

export function fmtDuration(us: number): string {
  if (us < 1000) return `${Math.round(us)} µs`;
  if (us < 1e6) return `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)} ms`;
  return `${(us / 1e6).toFixed(3)} s`;
}

type Level = 0 | 1 | 2;

export function layoutRows(data: TimelineData, spans: Spans, run: RunResult, opts: RowOptions): TextRow[] {
  const lanes = visibleLanes(data);
  const col = new Map(lanes.map((l, i) => [l.id, i]));
  const hiddenLane = (lane: number) => !col.has(lane);
  const boundaries = new Set<TlEvent>();
  for (const w of spans.windows) {
    boundaries.add(w.begin);
    if (w.end) boundaries.add(w.end);
  }
  const glyphs = (t: number) => laneGlyphs(t, spans, opts, lanes);
  const cited = new Set(run.findings.flatMap((f) => f.locations.map((l) => l.event)));
  const rows: TextRow[] = [];
  const windows = data.windows;

  // Events not kept one by one: their histogram cell goes to the window it falls in when that
  // window overflowed, else to the gap beside it, so every event is counted once.
  const cellsOutside = (from: number, to: number) => histogramIn(data.histogram, from, to);

  const shownState = new Set<TlEvent>();
  let cursor = data.t0;
  windows.forEach((w, wi) => {
    pushGap(cursor, w.from);
    const inWindow = data.events.filter((e) => e.t >= w.from && e.t <= w.to);
    const hidden = inWindow.filter((e) => hiddenLane(e.lane) && e.name !== '(qemu message)').length;
    rows.push({ kind: 'window', index: wi, window: w, hidden });
    const approx = w.aggregated > 0 ? cellsOutside(w.from, w.to).filter((c) => !hiddenLane(c.lane)) : [];
    const visible = inWindow.filter((e) => !hiddenLane(e.lane) || e.name === '(qemu message)');
    let body: TextRow[] = [];
    for (const level of [0, 1, 2] as Level[]) {
      body = windowRows(visible, level, approx);
      if (body.length <= opts.maxRowsPerWindow) break;
    }
    if (body.length > opts.maxRowsPerWindow) {
      const keep = Math.max(1, opts.maxRowsPerWindow - 1);
      const cut = body.length - keep;
      body = body.slice(0, keep);
      body.push({ kind: 'omitted', lanes: glyphs(w.to), count: cut });
    }
    rows.push(...body);
    cursor = w.to;
  });
  pushGap(cursor, data.tEnd, true);
  return rows;

  function pushGap(from: number, to: number, last = false): void {
    if (to < from || (to === from && !last)) return;
    // State changes are few and tell the story between windows: shown as rows of their own.
    const states = data.events.filter((e) => e.signal === 'state' && !e.focus && e.t >= from && (e.t < to || (last && e.t === to)) && !hiddenLane(e.lane));
    for (const s of states) shownState.add(s);
    let cur = from;
    const edges = [...states.map((s) => s.t), to];
    edges.forEach((edge, i) => {
      const g = gapRow(cur, edge, last && i === edges.length - 1);
      if (g.count > 0) rows.push(g);
      const s = states[i];
      if (s) rows.push({ kind: 'event', lanes: withMark(glyphs(s.t), col.get(s.lane) ?? -1, 'event'), event: s, inGap: true });
      cur = edge;
    });
  }

  // Gap segments are [from, to), the last one closed: every instant belongs to exactly one.
  function gapRow(from: number, to: number, closedEnd: boolean): GapRow {
    const inside = (t: number) => t >= from && (t < to || (closedEnd && t === to));
    const acc = new Map<string, { lane: number; name: string; count: number }>();
    const add = (lane: number, name: string, n: number) => {
      const k = `${lane}\u0000${name}`;
      const c = acc.get(k);
      if (c) c.count += n;
      else acc.set(k, { lane, name, count: n });
    };
    for (const e of data.events) if (!e.focus && inside(e.t) && !shownState.has(e)) add(e.lane, e.name, 1);
    for (const [bucket, lane, nameId, count] of data.histogram.cells) {
      const mid = data.histogram.origin + (bucket + 0.5) * data.histogram.width;
      if (!inside(mid)) {
        // A cell whose middle falls in a window that did not overflow belongs to the nearer gap.
        const w = windows.find((x) => mid >= x.from && mid <= x.to);
        if (!w || w.aggregated > 0) continue;
        const nearStart = mid - w.from < w.to - mid;
        if (!((nearStart && w.from >= from && w.from <= to) || (!nearStart && w.to >= from && w.to <= to))) continue;
      }
      add(lane, data.histogram.names[nameId] ?? '?', count);
    }
    const all = [...acc.values()].sort((a, b) => b.count - a.count || a.lane - b.lane);
    return { kind: 'gap', from, to, count: all.reduce((a, c) => a + c.count, 0), top: all.slice(0, 3) };
  }

  function windowRows(events: TlEvent[], level: Level, approx: ReturnType<typeof histogramIn>): TextRow[] {
    const out: TextRow[] = [];
    const pinned = (e: TlEvent) =>
      e.findings.length > 0 || e.name === '(qemu message)' || (level === 0 ? e.key : level === 1 ? e.signal === 'state' || boundaries.has(e) : false);
    let group: TlEvent[] = [];
    const flush = () => {
      if (group.length === 0) return;
      if (group.length <= 3) {
        for (const e of group) out.push(eventRow(e));
      } else {
        const perLane = new Map<number, TlEvent[]>();
        for (const e of group) {
          const l = perLane.get(e.lane) ?? [];
          l.push(e);
          perLane.set(e.lane, l);
        }
        // One row per lane, in the order the lanes' first events came (time keeps flowing down).
        const made: TextRow[] = [];
        for (const [lane, evs] of perLane) {
          if (evs.length === 1) made.push(eventRow(evs[0] as TlEvent));
          else made.push(groupRow(lane, evs.map((e) => ({ name: e.name, count: 1, t: e.t })), false));
        }
        made.sort((a, b) => rowTime(a) - rowTime(b));
        out.push(...made);
      }
      group = [];
    };
    for (const e of events) {
      if (pinned(e)) {
        flush();
        out.push(eventRow(e));
        for (const n of eventNotes(e, run, data, spans)) out.push({ kind: 'note', lanes: glyphs(e.t), text: n.text, tone: n.tone });
      } else group.push(e);
    }
    flush();
    // Events over the cap: one row per lane, marked approximate (times are bucket edges).
    const byLane = new Map<number, Array<{ name: string; count: number; t: number }>>();
    for (const c of approx) {
      const l = byLane.get(c.lane) ?? [];
      l.push({ name: c.name, count: c.count, t: c.first });
      byLane.set(c.lane, l);
    }
    for (const [lane, items] of [...byLane].sort((a, b) => a[0] - b[0])) out.push(groupRow(lane, items, true));
    return out;
  }

  function eventRow(e: TlEvent): TextRow {
    const mark: Glyph = e.findings.length ? 'finding' : 'event';
    return { kind: 'event', lanes: withMark(glyphs(e.t), col.get(e.lane) ?? -1, mark), event: e, inGap: false };
  }

  function groupRow(lane: number, items: Array<{ name: string; count: number; t: number }>, approx: boolean): TextRow {
    const names = new Map<string, number>();
    let t = Infinity;
    let tEnd = -Infinity;
    let count = 0;
    for (const it of items) {
      names.set(it.name, (names.get(it.name) ?? 0) + it.count);
      count += it.count;
      t = Math.min(t, it.t);
      tEnd = Math.max(tEnd, it.t);
    }
    // Ties go to the event a finding cites (postcopy_preempt_send_host_page rather than its bracketing events).
    const sorted = [...names].sort((a, b) => b[1] - a[1] || Number(cited.has(b[0])) - Number(cited.has(a[0])) || a[0].localeCompare(b[0]));
    const [name, nameCount] = sorted[0] as [string, number];
    return {
      kind: 'group',
      lanes: withMark(glyphs(t), col.get(lane) ?? -1, 'group'),
      t,
      tEnd,
      lane,
      count,
      name,
      nameCount,
      otherKinds: names.size - 1,
      approx,
      names: sorted.slice(0, 8).map(([n, c]) => ({ name: n, count: c })),
    };
  }
}
