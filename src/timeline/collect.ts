// The second pass over a run, as a pure accumulator: the caller streams the merged records in
// (cli/commands/timeline.ts does the reading) and gets TimelineData back. Memory stays bounded
// whatever the trace size: events inside the selected windows are kept up to maxFocusEvents,
// others up to maxContextEvents (0 for the terminal), lifecycle/state/finding events always (up to
// maxKeyEvents); everything else only as counts in a streaming histogram.
//
// The default windows are ±margin around each finding's locations (known before the pass) and
// around the end-of-postcopy events (found during it). Those are only recognised when they
// arrive, so the last `margin` µs of events wait in a ring buffer and join the window retroactively.
import type { TraceRecord } from '../ingest/trace-input.js';
import { rowsFor, type Catalog } from '../model/catalog.js';
import type { Role, RunResult, Side } from '../types.js';
import { StreamingHistogram } from './histogram.js';
import { laneOrder, planLanes, type LanePlan } from './lanes.js';
import type { Lane, TimelineData, TimeWindow, TlEvent } from './types.js';
import { findingWindows, mergeWindows, resolveTimeSpec, windowIndexAt, type TimeSpec } from './windows.js';

export type Selection = { kind: 'auto'; marginUs: number } | { kind: 'range'; from: TimeSpec | null; to: TimeSpec | null };

export interface CollectOptions {
  select: Selection;
  maxFocusEvents: number;
  maxContextEvents: number;
  maxKeyEvents?: number;
  histogramBuckets?: number;
}

/** Signals whose events the layout needs (states, lifecycles, window boundaries): always kept. */
export const KEY_SIGNALS = new Set([
  'thread-start', 'thread-exit', 'postcopy-start', 'preempt-on', 'preempt-off', 'preempt-channel', 'ping', 'pong',
  'eos-window-begin', 'eos-window-end', 'rp-join-begin', 'rp-join-end', 'rp-shut', 'rp-bad-end', 'cleanup', 'state',
  'fclose', 'quit-cancel', 'migrate-error', 'listen-exit', 'load-eof', 'incoming-pause', 'incoming-continue', 'resume',
  'resume-prepared', 'send-shut', 'cleanup-entry', 'cleanup-join', 'cleanup-exit', 'preempt-eos', 'preempt-pause',
  'preempt-continue',
]);

/** Events around which the default view zooms: the end of postcopy on both sides, pauses, failures. */
const FOCUS_SIGNALS = new Set([
  'eos-window-begin', 'eos-window-end', 'rp-join-end', 'cleanup-entry', 'cleanup-exit', 'preempt-eos', 'preempt-pause',
  'incoming-pause', 'rp-bad-end', 'migrate-error',
]);
const FOCUS_STATES = /new state (completed|failed|cancelled|postcopy-paused)\b/;

const TEXT_MAX = 240;
const MAX_PENDING = 1000;

export class TimelineCollector {
  private readonly plan: LanePlan;
  private readonly events: TlEvent[] = [];
  private readonly ring: TlEvent[] = [];
  private ringHead = 0;
  private readonly hist: StreamingHistogram;
  private readonly overflow: StreamingHistogram;
  private readonly staticWindows: TimeWindow[];
  private readonly dynamicWindows: TimeWindow[] = [];
  private dynamicUntil = -Infinity;
  private range: { from: number; to: number } | null = null;
  private readonly findingAt = new Map<string, number[]>();
  private readonly tidSide = new Map<number, Side>();
  private readonly inputPaths: string[];
  private readonly lastTs: Array<number | null>;
  /** Inputs without a single timestamp (the analysis counted them): placed by line number. */
  private readonly orderBased: Set<number>;
  private readonly pending = new Map<number, TraceRecord[]>();
  private pendingDropped = 0;
  private t0 = Infinity;
  private tEnd = -Infinity;
  private focusKept = 0;
  private contextKept = 0;
  private keyKept = 0;
  private contextOn: boolean;
  private contextComplete = true;
  private total = 0;
  private keyDropped = 0;

  constructor(
    private readonly run: RunResult,
    private readonly catalog: Catalog,
    private readonly opts: CollectOptions,
  ) {
    this.plan = planLanes(run);
    this.inputPaths = run.inputs.map((i) => i.path);
    this.lastTs = run.inputs.map(() => null);
    this.hist = new StreamingHistogram(opts.histogramBuckets ?? 4096);
    this.overflow = new StreamingHistogram(opts.histogramBuckets ?? 4096);
    this.contextOn = opts.maxContextEvents > 0;
    this.contextComplete = this.contextOn;
    for (const t of run.threads) if (t.side !== null && t.tid !== null) this.tidSide.set(t.tid, t.side);
    this.orderBased = new Set(
      run.inputs
        .map((inp, i) => {
          const q = run.dataQuality.perInput.find((p) => p.path === inp.path);
          return q && q.events > 0 && q.eventsWithoutTs === q.events ? i : -1;
        })
        .filter((i) => i >= 0),
    );
    // Finding locations are matched to events by input path and line: that is what they cite.
    run.findings.forEach((f, i) => {
      for (const l of f.locations) {
        const input = this.inputPaths.indexOf(l.file);
        if (input < 0) continue;
        const k = `${input}:${l.line}`;
        const list = this.findingAt.get(k) ?? [];
        if (!list.includes(i)) list.push(i);
        this.findingAt.set(k, list);
      }
    });
    this.staticWindows = opts.select.kind === 'auto' ? findingWindows(run, opts.select.marginUs) : [];
  }

  add(rec: TraceRecord): void {
    let t = rec.ts;
    if (this.orderBased.has(rec.input)) t = rec.line;
    else if (t === null) {
      // No timestamp of its own (a QEMU message, a cut line): it happened with its predecessor.
      // Before the input's first timestamp there is none: wait for it (bounded).
      t = this.lastTs[rec.input] ?? null;
      if (t === null) {
        const list = this.pending.get(rec.input) ?? [];
        if (list.length < MAX_PENDING) list.push(rec);
        else this.pendingDropped++;
        this.pending.set(rec.input, list);
        return;
      }
    } else if (this.lastTs[rec.input] === null) {
      this.lastTs[rec.input] = t;
      const waiting = this.pending.get(rec.input);
      this.pending.delete(rec.input);
      for (const p of waiting ?? []) this.add(p);
    }
    this.lastTs[rec.input] = t;
    this.place(rec, t);
  }

  private place(rec: TraceRecord, t: number): void {
    const input = this.run.inputs[rec.input];
    let side: Side | null = input?.side ?? null;
    // A stream holding both processes (a CI log): the side is the thread's, as the analysis found it.
    if (input?.mixed && rec.kind === 'event' && rec.tid !== null) side = this.tidSide.get(rec.tid) ?? null;

    let ev: TlEvent;
    if (rec.kind === 'message') {
      // QEMU's own error lines ("Detected IO failure for postcopy...") carry no TID: the side's catch-all lane.
      ev = this.makeEvent(t, this.plan.laneOf(side, -1), '(qemu message)', rec.input, rec.line, rec.text, 'message', true);
    } else {
      const rows = rowsFor(this.catalog, rec.name, rec.args);
      let signal: string | null = null;
      let role: Role | null = null;
      for (const r of rows) {
        if (!KEY_SIGNALS.has(r.signal)) continue;
        signal = r.signal;
        role = r.role === '*' ? null : r.role;
      }
      const lane = this.plan.laneOf(side, rec.tid);
      ev = this.makeEvent(t, lane, rec.name, rec.input, rec.line, rec.raw, signal, signal !== null);
      ev.role = role;
      if (signal === 'thread-exit') {
        const l = this.plan.lanes[lane] as Lane;
        if (rows.some((r) => r.signal === 'thread-exit' && (r.role === '*' || r.role === l.role))) l.exited = true;
      }
    }
    this.total++;
    if (this.t0 === Infinity) {
      this.hist.start(t);
      this.overflow.start(t);
      if (this.opts.select.kind === 'range') {
        const { from, to } = this.opts.select;
        this.range = { from: from ? resolveTimeSpec(from, t) : -Infinity, to: to ? resolveTimeSpec(to, t) : Infinity };
      }
    }
    if (t < this.t0) this.t0 = t;
    if (t > this.tEnd) this.tEnd = t;
    const lane = this.plan.lanes[ev.lane] as Lane;
    lane.events++;
    if (lane.first === null || t < lane.first) lane.first = t;
    if (lane.last === null || t > lane.last) lane.last = t;

    if (this.opts.select.kind === 'range') {
      const r = this.range as { from: number; to: number };
      if (t >= r.from && t <= r.to) this.keepFocus(ev);
      else this.keepOutside(ev);
      return;
    }
    const margin = this.opts.select.marginUs;
    if (this.isFocusTrigger(ev)) {
      this.dynamicWindows.push({ from: t - margin, to: t + margin, reasons: [ev.name === 'migrate_set_state' ? stateOf(ev.text) : ev.name], aggregated: 0 });
      this.dynamicUntil = Math.max(this.dynamicUntil, t + margin);
      this.pullRing(t - margin);
    }
    if (t <= this.dynamicUntil || windowIndexAt(this.staticWindows, t) >= 0) this.keepFocus(ev);
    else {
      this.ring.push(ev);
      this.evictRing(t - margin);
    }
  }

  finish(): TimelineData {
    const notes: string[] = [];
    let windows: TimeWindow[];
    if (this.opts.select.kind === 'range') {
      const r = this.range ?? { from: 0, to: 0 };
      windows = this.total ? [{ from: Math.max(r.from, this.t0), to: Math.min(r.to, this.tEnd), reasons: ['--from/--to'], aggregated: 0 }] : [];
      if (windows[0] && windows[0].from > windows[0].to) {
        notes.push('the --from/--to range holds no events of this run');
        windows = [];
      }
    } else {
      windows = mergeWindows([...this.staticWindows, ...this.dynamicWindows]).filter((w) => w.to >= this.t0 && w.from <= this.tEnd);
      if (windows.length === 0 && this.total) {
        // Nothing to zoom on (no finding, no end of postcopy): show the end of the trace.
        const from = this.tEnd - this.opts.select.marginUs;
        this.pullRing(from);
        windows = [{ from, to: this.tEnd, reasons: ['end of trace'], aggregated: 0 }];
      }
    }
    this.evictRing(Infinity);
    for (const w of windows) {
      w.from = Math.max(w.from, this.t0);
      w.to = Math.min(w.to, this.tEnd);
    }
    // Attribute events aggregated for the cap to the window they fell in.
    const ov = this.overflow.result();
    for (const [bucket, , , count] of ov.cells) {
      const mid = ov.origin + (bucket + 0.5) * ov.width;
      let best: TimeWindow | null = null;
      for (const w of windows) if (!best || Math.abs((w.from + w.to) / 2 - mid) < Math.abs((best.from + best.to) / 2 - mid)) best = w;
      if (best) best.aggregated += count;
    }
    const aggregated = windows.reduce((a, w) => a + w.aggregated, 0);
    if (aggregated) notes.push(`${aggregated} events inside the selected windows were over the ${this.opts.maxFocusEvents}-event limit and are shown aggregated`);
    if (this.contextOn && !this.contextComplete) notes.push(`more than ${this.opts.maxContextEvents} events outside the selected windows: those are shown as per-bucket counts`);
    if (this.keyDropped) notes.push(`${this.keyDropped} lifecycle/state events beyond the first ${this.opts.maxKeyEvents ?? 20000} were aggregated`);
    for (const i of this.orderBased) notes.push(`${this.inputPaths[i]}: no timestamps; its events are placed by line number, not in time`);
    const unplaced = [...this.pending.values()].reduce((a, l) => a + l.length, 0) + this.pendingDropped;
    if (unplaced) notes.push(`${unplaced} records without a timestamp before any timestamped one in their input are not shown`);

    // Renumber lanes in display order (catch-all lanes were created as events needed them).
    const order = laneOrder(this.plan.lanes);
    const newId = new Map<number, number>();
    order.forEach((old, i) => newId.set(old, i));
    const lanes = order.map((old, i) => ({ ...(this.plan.lanes[old] as Lane), id: i }));
    for (const e of this.events) e.lane = newId.get(e.lane) ?? e.lane;
    this.events.sort((a, b) => a.t - b.t || a.input - b.input || a.line - b.line);

    const allOrder = this.orderBased.size > 0 && this.orderBased.size === this.run.inputs.length;
    return {
      run: this.run.name,
      inputs: this.inputPaths,
      timeBase: allOrder ? 'order' : 'trace',
      t0: this.total ? this.t0 : 0,
      tEnd: this.total ? this.tEnd : 0,
      lanes,
      events: this.events,
      windows,
      contextComplete: this.contextComplete,
      histogram: this.hist.result((l) => newId.get(l) ?? l),
      totalEvents: this.total,
      keptEvents: this.events.length,
      notes,
    };
  }

  private makeEvent(t: number, lane: number, name: string, input: number, line: number, raw: string, signal: string | null, key: boolean): TlEvent {
    const findings = this.findingAt.get(`${input}:${line}`) ?? [];
    const text = raw.trimEnd();
    return {
      t,
      lane,
      name,
      input,
      line,
      text: text.length > TEXT_MAX ? `${text.slice(0, TEXT_MAX)}…` : text,
      signal,
      role: null,
      key: key || findings.length > 0,
      focus: false,
      findings,
    };
  }

  private isFocusTrigger(ev: TlEvent): boolean {
    if (ev.signal === null) return false;
    if (FOCUS_SIGNALS.has(ev.signal)) return true;
    if (ev.signal === 'thread-exit') return (this.plan.lanes[ev.lane] as Lane).role === 'preempt' || ev.role === 'preempt';
    return ev.signal === 'state' && FOCUS_STATES.test(ev.text);
  }

  private keepFocus(ev: TlEvent): void {
    ev.focus = true;
    if (ev.findings.length) {
      this.events.push(ev); // a finding's own events are never aggregated
      return;
    }
    if (this.focusKept < this.opts.maxFocusEvents) {
      this.focusKept++;
      this.events.push(ev);
      return;
    }
    if (ev.key && this.keepKey()) {
      this.events.push(ev);
      return;
    }
    this.hist.add(ev.t, ev.lane, ev.name);
    this.overflow.add(ev.t, 0, '');
  }

  private keepOutside(ev: TlEvent): void {
    if (ev.findings.length || (ev.key && this.keepKey())) {
      this.events.push(ev);
      return;
    }
    if (this.contextOn) {
      if (this.contextKept < this.opts.maxContextEvents) {
        this.contextKept++;
        this.events.push(ev);
        return;
      }
      this.dropContext();
    }
    this.hist.add(ev.t, ev.lane, ev.name);
  }

  private keepKey(): boolean {
    if (this.keyKept < (this.opts.maxKeyEvents ?? 20000)) {
      this.keyKept++;
      return true;
    }
    this.keyDropped++;
    return false;
  }

  /** Too many events outside the windows: keep those as counts only, so the cap holds. */
  private dropContext(): void {
    this.contextOn = false;
    this.contextComplete = false;
    let w = 0;
    for (const e of this.events) {
      if (!e.focus && !e.key && e.findings.length === 0) this.hist.add(e.t, e.lane, e.name);
      else this.events[w++] = e;
    }
    this.events.length = w;
  }

  /** Events still in the ring at or after `from` belong to a window that just opened. */
  private pullRing(from: number): void {
    const keep: TlEvent[] = [];
    for (let i = this.ringHead; i < this.ring.length; i++) {
      const e = this.ring[i] as TlEvent;
      if (e.t >= from) this.keepFocus(e);
      else keep.push(e);
    }
    this.ring.length = 0;
    this.ringHead = 0;
    this.ring.push(...keep);
  }

  /** Events older than `before` can no longer join a window; also bounds the ring's size. */
  private evictRing(before: number): void {
    const cap = Math.max(1, this.opts.maxFocusEvents);
    while (this.ringHead < this.ring.length) {
      const e = this.ring[this.ringHead] as TlEvent;
      if (e.t >= before && this.ring.length - this.ringHead <= cap) break;
      this.ringHead++;
      this.keepOutside(e);
    }
    if (this.ringHead > 4096 && this.ringHead * 2 > this.ring.length) {
      this.ring.splice(0, this.ringHead);
      this.ringHead = 0;
    }
  }
}

function stateOf(text: string): string {
  const m = /new state (\S+)/.exec(text);
  return m ? `state ${m[1]}` : 'state change';
}
