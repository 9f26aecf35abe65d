// What the timeline keeps of a run, as an observer of its one replay (replay/observer.ts): it sees
// every record once, as the model placed it, and gets the run's result at the end. Memory stays
// bounded whatever the trace size: events inside the selected windows are kept up to
// maxFocusEvents, others up to maxContextEvents (0 for the terminal), lifecycle/state/finding
// events always (up to maxKeyEvents); everything else only as counts in a streaming histogram.
//
// The default windows are ±margin around the end-of-postcopy events (recognised as they arrive, so
// the events just before them wait in a ring buffer and join the window retroactively) and around
// each finding's locations. Findings are known only once the run is judged: the ring holds the
// latest events not yet placed (up to holdEvents) until then, and a finding's own events are
// always shown. Lanes are known then too: events are kept under their input and thread id, and
// put on lanes at the end.
import type { TraceRecord } from '../ingest/trace-input.js';
import { fieldOf, type CatalogRow } from '../model/catalog.js';
import { shownTid } from '../model/attribution.js';
import { timelineSignals } from '../model/signals.js';
import type { ReplayObserver, Seen } from '../replay/observer.js';
import type { Role, RunResult, Side } from '../types.js';
import { StreamingHistogram } from './histogram.js';
import { laneOrder, planLanes } from './lanes.js';
import type { Lane, TimelineData, TimeWindow, TlEvent } from './types.js';
import { findingWindows, mergeWindows, resolveTimeSpec, windowIndexAt, type TimeSpec } from './windows.js';

export type Selection = { kind: 'auto'; marginUs: number } | { kind: 'range'; from: TimeSpec | null; to: TimeSpec | null };

export interface CollectOptions {
  select: Selection;
  maxFocusEvents: number;
  maxContextEvents: number;
  maxKeyEvents?: number;
  histogramBuckets?: number;
  /** What the caller wants said in the timeline's notes (after the collector's own). */
  notes?: string[];
  /** Events not yet placed that wait for the findings' windows (default 20000, or maxFocusEvents when larger and no context is kept). */
  holdEvents?: number;
}

/** Signals whose events the layout needs (states, lifecycles, window boundaries): always kept. */
export const KEY_SIGNALS = timelineSignals('key');

/** Events around which the default view zooms: the end of postcopy on both sides, pauses, failures. */
const FOCUS_SIGNALS = timelineSignals('focus');
/** Migration states around which the default view zooms. */
const FOCUS_STATES = new Set(['completed', 'failed', 'cancelled', 'postcopy-paused']);

const TEXT_MAX = 240;
const MAX_PENDING = 1000;
/** The thread id a QEMU message is kept under: it has none, and goes on its side's catch-all lane. */
const MESSAGE_TID = -1;

/** The records of one input and thread: a lane to be (several may share one). */
interface Key {
  input: number;
  /** A thread id, null for an event without one, MESSAGE_TID for QEMU messages. */
  tid: number | null;
  /** The thread's role as the replay knew it at its last event (the preempt thread's exit zooms). */
  role: Role;
  /** Roles the catalog gives this thread's thread-exit events ('*': any). */
  exitRoles: Set<string>;
  events: number;
  first: number;
  last: number;
}

export class TimelineCollector implements ReplayObserver {
  readonly needsText = true;
  private readonly keys: Key[] = [];
  private readonly keyIds = new Map<string, number>();
  private recentKey = -1;
  private readonly events: TlEvent[] = [];
  private readonly ring: TlEvent[] = [];
  private ringHead = 0;
  private readonly hold: number;
  private readonly hist: StreamingHistogram;
  private readonly overflow: StreamingHistogram;
  private readonly dynamicWindows: TimeWindow[] = [];
  private dynamicUntil = -Infinity;
  private range: { from: number; to: number } | null = null;
  private readonly lastTs: Array<number | null> = [];
  /** Inputs whose first event has no timestamp (a log written without -msg timestamp=on): placed by line number. */
  private readonly orderBased = new Set<number>();
  private readonly firstEventSeen = new Set<number>();
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

  constructor(private readonly opts: CollectOptions) {
    // Lanes are per thread until the end (a few hundred threads at most): the histogram keeps them apart.
    this.hist = new StreamingHistogram(opts.histogramBuckets ?? 4096, 1 << 16);
    this.overflow = new StreamingHistogram(opts.histogramBuckets ?? 4096);
    this.contextOn = opts.maxContextEvents > 0;
    this.contextComplete = this.contextOn;
    // With context kept (HTML), events leaving the ring are kept anyway and a finding's window
    // marks them at the end: the ring need not be long. Without (terminal), it is what a finding
    // far from the end of postcopy can still claim.
    this.hold = Math.max(1, opts.holdEvents ?? (this.contextOn ? 20_000 : Math.max(opts.maxFocusEvents, 20_000)));
  }

  onEvent(rec: TraceRecord, seen: Seen): void {
    if (rec.kind === 'event' && !this.firstEventSeen.has(rec.input)) {
      this.firstEventSeen.add(rec.input);
      if (rec.ts === null) this.becomesOrderBased(rec.input);
    }
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
    } else if ((this.lastTs[rec.input] ?? null) === null) {
      this.lastTs[rec.input] = t;
      this.flushPending(rec.input, () => t as number);
    }
    this.lastTs[rec.input] = t;
    this.place(rec, seen.rows, seen.role, t);
  }

  /** Records waiting for their input's first timestamp (only messages wait: an event decides). */
  private flushPending(input: number, timeOf: (rec: TraceRecord) => number): void {
    const waiting = this.pending.get(input);
    this.pending.delete(input);
    for (const p of waiting ?? []) this.place(p, [], 'unknown', timeOf(p));
  }

  private becomesOrderBased(input: number): void {
    this.orderBased.add(input);
    this.flushPending(input, (p) => p.line);
  }

  private keyOf(input: number, tid: number | null, role: Role): number {
    const recent = this.keys[this.recentKey];
    if (recent && recent.input === input && recent.tid === tid) {
      if (tid !== null) recent.role = role;
      return this.recentKey;
    }
    const k = `${input}:${tid}`;
    let id = this.keyIds.get(k);
    if (id === undefined) {
      id = this.keys.length;
      this.keys.push({ input, tid, role, exitRoles: new Set(), events: 0, first: Infinity, last: -Infinity });
      this.keyIds.set(k, id);
    } else if (tid !== null) (this.keys[id] as Key).role = role;
    this.recentKey = id;
    return id;
  }

  private place(rec: TraceRecord, rows: readonly CatalogRow[], threadRole: Role, t: number): void {
    let ev: TlEvent;
    let key: Key;
    if (rec.kind === 'message') {
      // QEMU's own error lines ("Detected IO failure for postcopy...") carry no TID: the side's catch-all lane.
      const k = this.keyOf(rec.input, MESSAGE_TID, 'unknown');
      key = this.keys[k] as Key;
      ev = this.makeEvent(t, k, '(qemu message)', rec.input, rec.line, rec.text, 'message', true);
    } else {
      // A stand-in thread (no thread id: model/attribution.ts) is not a thread of the trace.
      const tid = shownTid(rec.tid);
      const k = this.keyOf(rec.input, tid, tid === null ? 'unknown' : threadRole);
      key = this.keys[k] as Key;
      let signal: string | null = null;
      let role: Role | null = null;
      for (const r of rows) {
        if (!KEY_SIGNALS.has(r.signal)) continue;
        signal = r.signal;
        role = r.role === '*' ? null : r.role;
      }
      ev = this.makeEvent(t, k, rec.name, rec.input, rec.line, rec.raw, signal, signal !== null);
      ev.role = role;
      if (signal === 'state') ev.state = fieldOf(rows, rec.args, 'state');
      if (signal === 'thread-exit') for (const r of rows) if (r.signal === 'thread-exit') key.exitRoles.add(r.role);
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
    key.events++;
    if (t < key.first) key.first = t;
    if (t > key.last) key.last = t;

    if (this.opts.select.kind === 'range') {
      const r = this.range as { from: number; to: number };
      if (t >= r.from && t <= r.to) this.keepFocus(ev);
      else this.keepOutside(ev);
      return;
    }
    const margin = this.opts.select.marginUs;
    if (this.isFocusTrigger(ev)) {
      this.dynamicWindows.push({ from: t - margin, to: t + margin, reasons: [ev.name === 'migrate_set_state' ? (ev.state ? `state ${ev.state}` : 'state change') : ev.name], aggregated: 0 });
      this.dynamicUntil = Math.max(this.dynamicUntil, t + margin);
      this.pullRing(t - margin);
    }
    if (t <= this.dynamicUntil) this.keepFocus(ev);
    else this.hold1(ev);
  }

  /** An event outside the windows known so far waits in the ring: a finding's window may claim it at the end. */
  private hold1(ev: TlEvent): void {
    this.ring.push(ev);
    this.evictRing();
  }

  /** Lays the kept events out on lanes, now that the run is judged (its threads and findings known). */
  finish(run: RunResult): TimelineData {
    const notes: string[] = [];
    const inputPaths = run.inputs.map((i) => i.path);
    const findingAt = findingsByLine(run, inputPaths);
    const held = (fn: (e: TlEvent) => void) => {
      for (const e of this.events) fn(e);
      for (let i = this.ringHead; i < this.ring.length; i++) fn(this.ring[i] as TlEvent);
    };
    held((e) => {
      const f = findingAt.get(`${e.input}:${e.line}`);
      if (f) {
        e.findings = f;
        e.key = true;
      }
    });
    let windows: TimeWindow[];
    if (this.opts.select.kind === 'range') {
      const r = this.range ?? { from: 0, to: 0 };
      windows = this.total ? [{ from: Math.max(r.from, this.t0), to: Math.min(r.to, this.tEnd), reasons: ['--from/--to'], aggregated: 0 }] : [];
      if (windows[0] && windows[0].from > windows[0].to) {
        notes.push('the --from/--to range holds no events of this run');
        windows = [];
      }
      this.flushRing([]);
    } else {
      const found = findingWindows(run, this.opts.select.marginUs);
      windows = mergeWindows([...found, ...this.dynamicWindows]).filter((w) => w.to >= this.t0 && w.from <= this.tEnd);
      // Nothing to zoom on (no finding, no end of postcopy): show the end of the trace.
      if (windows.length === 0 && this.total) windows = [{ from: this.tEnd - this.opts.select.marginUs, to: this.tEnd, reasons: ['end of trace'], aggregated: 0 }];
      for (const e of this.events) if (!e.focus && windowIndexAt(windows, e.t) >= 0) e.focus = true;
      this.flushRing(windows);
    }
    this.showFindingEvents(run, findingAt, inputPaths);
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
    for (const i of this.orderBased) notes.push(`${inputPaths[i]}: no timestamps; its events are placed by line number, not in time`);
    const unplaced = [...this.pending.values()].reduce((a, l) => a + l.length, 0) + this.pendingDropped;
    if (unplaced) notes.push(`${unplaced} records without a timestamp before any timestamped one in their input are not shown`);
    notes.push(...(this.opts.notes ?? []));

    // Lanes now that the threads are known; then renumbered in display order (catch-all lanes were created as keys needed them).
    const { lanes: planned, laneOfKey } = this.lanesOf(run);
    const order = laneOrder(planned);
    const newId = new Map<number, number>();
    order.forEach((old, i) => newId.set(old, i));
    const lanes = order.map((old, i) => ({ ...(planned[old] as Lane), id: i }));
    const finalLane = (key: number) => newId.get(laneOfKey[key] as number) ?? 0;
    for (const e of this.events) e.lane = finalLane(e.lane);
    this.events.sort((a, b) => a.t - b.t || a.input - b.input || a.line - b.line);

    const allOrder = this.orderBased.size > 0 && this.orderBased.size === run.inputs.length;
    return {
      run: run.name,
      inputs: inputPaths,
      timeBase: allOrder ? 'order' : 'trace',
      t0: this.total ? this.t0 : 0,
      tEnd: this.total ? this.tEnd : 0,
      lanes,
      events: this.events,
      windows,
      contextComplete: this.contextComplete,
      histogram: this.hist.result(finalLane),
      totalEvents: this.total,
      keptEvents: this.events.length,
      notes,
    };
  }

  /** Each key's lane: by the side the analysis gave its input or thread, and its thread id. */
  private lanesOf(run: RunResult): { lanes: Lane[]; laneOfKey: number[] } {
    const plan = planLanes(run);
    const tidSide = new Map<number, Side>();
    for (const t of run.threads) if (t.side !== null && t.tid !== null) tidSide.set(t.tid, t.side);
    const laneOfKey = this.keys.map((k) => {
      const input = run.inputs[k.input];
      let side: Side | null = input?.side ?? null;
      // A stream holding both processes (a CI log): the side is the thread's, as the analysis found it.
      if (input?.mixed && k.tid !== null && k.tid !== MESSAGE_TID) side = tidSide.get(k.tid) ?? null;
      const id = plan.laneOf(side, k.tid);
      const l = plan.lanes[id] as Lane;
      l.events += k.events;
      if (k.events > 0) {
        if (l.first === null || k.first < l.first) l.first = k.first;
        if (l.last === null || k.last > l.last) l.last = k.last;
      }
      if (k.exitRoles.has('*') || k.exitRoles.has(l.role)) l.exited = true;
      return id;
    });
    return { lanes: plan.lanes, laneOfKey };
  }

  /**
   * A finding's events are shown whatever the caps: one the stream counted in the histogram before
   * the finding was known is taken back out of it and shown from the finding's location.
   */
  private showFindingEvents(run: RunResult, findingAt: Map<string, number[]>, inputPaths: string[]): void {
    const kept = new Set(this.events.map((e) => `${e.input}:${e.line}`));
    for (const f of run.findings) {
      for (const l of f.locations) {
        const input = inputPaths.indexOf(l.file);
        const at = `${input}:${l.line}`;
        if (input < 0 || kept.has(at)) continue;
        const t = this.orderBased.has(input) ? l.line : l.ts === null ? null : Math.round(l.ts * 1e6);
        if (t === null || t < this.t0 || t > this.tEnd) continue;
        kept.add(at);
        const k = this.keyOf(input, l.tid, l.role);
        this.hist.add(t, k, l.event, -1);
        const ev = this.makeEvent(t, k, l.event, input, l.line, l.text ?? '', null, true);
        ev.findings = findingAt.get(at) ?? [];
        ev.focus = true;
        this.events.push(ev);
      }
    }
  }

  private makeEvent(t: number, lane: number, name: string, input: number, line: number, raw: string, signal: string | null, key: boolean): TlEvent {
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
      state: null,
      key,
      focus: false,
      findings: [],
    };
  }

  private isFocusTrigger(ev: TlEvent): boolean {
    if (ev.signal === null) return false;
    if (FOCUS_SIGNALS.has(ev.signal)) return true;
    if (ev.signal === 'thread-exit') return (this.keys[ev.lane] as Key).role === 'preempt' || ev.role === 'preempt';
    return ev.signal === 'state' && ev.state !== null && FOCUS_STATES.has(ev.state);
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

  /**
   * Events in the ring at or after `from` belong to a window that just opened. The ring is in
   * stream order, nearly time order: it is scanned back from its end, a margin past `from`.
   */
  private pullRing(from: number): void {
    const slack = this.opts.select.kind === 'auto' ? this.opts.select.marginUs : 0;
    let i = this.ring.length - 1;
    while (i >= this.ringHead && (this.ring[i] as TlEvent).t >= from - slack) i--;
    const tail = this.ring.splice(i + 1);
    for (const e of tail) {
      if (e.t >= from) this.keepFocus(e);
      else this.ring.push(e);
    }
  }

  /** Bounds the ring: its oldest events are placed outside the windows. */
  private evictRing(): void {
    while (this.ring.length - this.ringHead > this.hold) this.keepOutside(this.ring[this.ringHead++] as TlEvent);
    if (this.ringHead > 4096 && this.ringHead * 2 > this.ring.length) {
      this.ring.splice(0, this.ringHead);
      this.ringHead = 0;
    }
  }

  /** At the end: what waits in the ring goes inside the final windows, or outside them. */
  private flushRing(windows: readonly TimeWindow[]): void {
    for (let i = this.ringHead; i < this.ring.length; i++) {
      const e = this.ring[i] as TlEvent;
      if (windowIndexAt(windows, e.t) >= 0) this.keepFocus(e);
      else this.keepOutside(e);
    }
    this.ring.length = 0;
    this.ringHead = 0;
  }
}

/** Finding locations by input and line (what they cite) → the indexes of the findings naming them. */
function findingsByLine(run: RunResult, inputPaths: string[]): Map<string, number[]> {
  const at = new Map<string, number[]>();
  run.findings.forEach((f, i) => {
    for (const l of f.locations) {
      const input = inputPaths.indexOf(l.file);
      if (input < 0) continue;
      const k = `${input}:${l.line}`;
      const list = at.get(k) ?? [];
      if (!list.includes(i)) list.push(i);
      at.set(k, list);
    }
  });
  return at;
}
