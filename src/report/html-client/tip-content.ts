// What a tooltip says about the element it belongs to (the view's tips[k]), as DOM nodes with
// text content only.
import { fmtDur } from './format.js';
import type { Tip, TimelineView } from './view-api.js';

type Line = (s: string, cls?: string | null, tag?: string) => HTMLElement;

export function tipContent(v: TimelineView, k: number): HTMLElement {
  const tp = v.tips[k];
  const box = document.createElement('div');
  if (!tp) return box;
  const line: Line = (s, cls, tag) => {
    const e = document.createElement(tag || 'div');
    if (cls) e.className = cls;
    e.textContent = s;
    box.appendChild(e);
    return e;
  };
  if (tp.kind === 'e' || tp.kind === 'm') eventTip(v, tp, line);
  else if (tp.kind === 'b') bucketTip(v, tp, line);
  else if (tp.kind === 'h') histTip(v, tp, line);
  else if (tp.kind === 'lane') laneTip(v, tp.lane, line);
  else spanTip(v, tp, line);
  return box;
}

/** An event, or a finding's marker (with the event it names, when that event was kept). */
function eventTip(v: TimelineView, tp: Extract<Tip, { kind: 'e' | 'm' }>, line: Line): void {
  const d = v.d;
  const i = tp.ev;
  if (tp.kind === 'm') {
    const f = d.findings[tp.f]!;
    const loc = f.locations[tp.l]!;
    line('finding ' + (tp.f + 1) + ': ' + f.rule + ' [' + f.evidence + ']', null, 'b');
    if (loc.note) line(loc.note);
    if (i < 0) {
      line(loc.file + ':' + loc.line, 'dim');
      if (loc.text) line(loc.text, 'tt');
      return;
    }
  }
  line(d.inputs[d.ev.i[i]!] + ':' + d.ev.ln[i], null, tp.kind === 'e' ? 'b' : 'div');
  line(d.lanes[d.ev.l[i]!]!.label + ' · ' + v.fmtT(d.ev.t[i]!) + ' s (' + v.fmtAbs(d.ev.t[i]!) + ')', 'dim');
  line(v.line(i), 'tt');
  if (tp.kind === 'e' && d.ev.f[i]! >= 0) line('named by finding ' + (d.ev.f[i]! + 1));
}

/** Several kept events in one pixel. */
function bucketTip(v: TimelineView, tp: Extract<Tip, { kind: 'b' }>, line: Line): void {
  const d = v.d;
  const ix = v.laneIdx[tp.lane]!;
  const list: Array<[string, number]> = [];
  for (let j = tp.i0; j < tp.i0 + tp.n; j++) list.push([d.names[d.ev.n[ix[j]!]!]!, 1]);
  line(tp.n + ' events on ' + d.lanes[tp.lane]!.label, null, 'b');
  line(v.fmtT(d.ev.t[ix[tp.i0]!]!) + ' … ' + v.fmtT(d.ev.t[ix[tp.i0 + tp.n - 1]!]!) + ' s · zoom in to see each', 'dim');
  names(list, line);
}

/** Events outside the kept windows, counted per time bucket. */
function histTip(v: TimelineView, tp: Extract<Tip, { kind: 'h' }>, line: Line): void {
  const d = v.d;
  const h = v.hist[tp.lane]!;
  const hl: Array<[string, number]> = [];
  let total = 0;
  for (let q = tp.i0; q < tp.i1; q++) {
    hl.push([d.hist.names[h.name[q]!]!, h.count[q]!]);
    total += h.count[q]!;
  }
  line('≈' + total + ' events on ' + d.lanes[tp.lane]!.label, null, 'b');
  line('outside the kept windows: counted per time bucket (' + fmtDur(d.hist.w) + '), not kept one by one', 'dim');
  names(hl, line);
}

/** The six most frequent event names of a list of (name, count), most frequent first. */
function names(list: Array<[string, number]>, line: Line): void {
  const m = new Map<string, number>();
  for (const [name, n] of list) m.set(name, (m.get(name) ?? 0) + n);
  const keys = [...m.keys()].sort((a, b) => m.get(b)! - m.get(a)!);
  keys.slice(0, 6).forEach((n) => line('×' + m.get(n) + ' ' + n, 'tt'));
  if (keys.length > 6) line('… ' + (keys.length - 6) + ' more kinds', 'dim');
}

/** A state band, a QEMUFile's owner, an access window, or a kept window. */
function spanTip(v: TimelineView, tp: Extract<Tip, { kind: 'state' | 'own' | 'acc' | 'win' }>, line: Line): void {
  const d = v.d;
  if (tp.kind === 'state') {
    const s = d.states[tp.i]!;
    line((s.side === 'src' ? 'source' : 'destination') + ' state: ' + s.state, null, 'b');
    line(v.fmtT(s.from) + ' … ' + (s.open ? 'end of trace' : v.fmtT(s.to)) + ' s (' + fmtDur(s.to - s.from) + ')', 'dim');
  } else if (tp.kind === 'own') {
    const o = d.owners[tp.i]!;
    line(o.file + ' owned by ' + d.lanes[o.lane]!.label, null, 'b');
    line(v.fmtT(o.from) + ' … ' + (o.open ? 'end of trace' : v.fmtT(o.to)) + ' s', 'dim');
    line(o.why);
  } else if (tp.kind === 'acc') {
    const a = d.access[tp.i]!;
    line(a.label, null, 'b');
    line((a.file ? a.file + ' · ' : '') + d.lanes[a.lane]!.label + ' · ' + v.fmtT(a.from) + ' … ' + (a.open ? 'end of trace (never closed)' : v.fmtT(a.to)) + ' s (' + fmtDur(a.to - a.from) + ')', 'dim');
    if (a.conflict) line('a finding names this window', null);
  } else {
    const w = d.windows[tp.i]!;
    line('window ' + (tp.i + 1) + ': ' + w.reasons.join(', '), null, 'b');
    line(v.fmtT(w.from) + ' … ' + v.fmtT(w.to) + ' s' + (w.aggregated ? ' · ' + w.aggregated + ' events over the limit, counted' : ''), 'dim');
  }
}

function laneTip(v: TimelineView, lane: number, line: Line): void {
  const ln = v.d.lanes[lane]!;
  line(ln.label + ' (' + (ln.side || '?') + ')', null, 'b');
  line(ln.events + ' events' + (ln.first !== null ? ' · ' + v.fmtT(ln.first) + ' … ' + v.fmtT(ln.last!) + ' s' : '') + (ln.exited ? ' · exited' : ''), 'dim');
}
