// One row of the timeline: a side's title, its migration state band, a QEMUFile (its owners and
// access windows), or a thread lane (its lifetime, access windows and events). Labels go into the
// gutter (svg), everything on the time axis into the clipped plot.
import { bucketize } from '../../timeline/aggregate.js';
import type { Track } from './data.js';
import { GUTTER, H, PAD_R, ROLE, STATE } from './style.js';
import { el, txt } from './svg.js';
import type { TimelineView } from './view-api.js';

export interface Row {
  tr: Track;
  y: number;
}

/** Time to x, the same clamped to the plot (for spans that start or end off screen); the SVG's height. */
export interface Scale {
  X: (t: number) => number;
  clampX: (t: number) => number;
  height: number;
}

export function drawTrack(v: TimelineView, plot: SVGElement, { tr, y }: Row, sc: Scale): void {
  if (tr.kind === 'side') {
    el('line', { x1: 0, x2: GUTTER + v.plotW + PAD_R, y1: y + 0.5, y2: y + 0.5, stroke: '#cbd5e1' }, v.svg);
    txt(v.svg, 8, y + 16, tr.label, 'side');
  } else if (tr.kind === 'state') {
    drawStates(v, plot, tr, y, sc);
  } else if (tr.kind === 'file') {
    drawFile(v, plot, tr, y, sc);
  } else {
    drawLane(v, plot, tr.lane, y, sc);
  }
}

const visible = (v: TimelineView, a: number, b: number): boolean => b >= v.v0 && a <= v.v1;

function drawStates(v: TimelineView, plot: SVGElement, tr: Extract<Track, { kind: 'state' }>, y: number, { clampX }: Scale): void {
  txt(v.svg, 18, y + 14, 'state', 'lbl');
  v.d.states.forEach((s, i) => {
    if (s.side !== tr.side || !visible(v, s.from, s.to)) return;
    const x0 = clampX(s.from);
    const x1 = clampX(s.to);
    const r = el('rect', { x: x0, y: y + 3, width: Math.max(1, x1 - x0), height: H.state - 6, fill: STATE[s.state] || '#e5e7eb', stroke: '#fff' }, plot);
    v.addTip(r, { kind: 'state', i });
    if (x1 - x0 > 60) txt(plot, Math.max(x0, GUTTER) + 4, y + 14, s.state, 'small');
  });
}

/** A QEMUFile: who owns it when (thin bars in the owner's colour), and its access windows. */
function drawFile(v: TimelineView, plot: SVGElement, tr: Extract<Track, { kind: 'file' }>, y: number, { clampX }: Scale): void {
  const d = v.d;
  txt(v.svg, 18, y + 15, tr.file, 'lbl');
  d.owners.forEach((o, i) => {
    if (o.file !== tr.file || !visible(v, o.from, o.to)) return;
    const x0 = clampX(o.from);
    const x1 = clampX(o.to);
    const lane = d.lanes[o.lane]!;
    const r = el('rect', { x: x0, y: y + 8, width: Math.max(1, x1 - x0), height: 7, rx: 2, fill: ROLE[lane.role] || '#64748b', opacity: 0.85 }, plot);
    v.addTip(r, { kind: 'own', i });
    if (x1 - x0 > 120) txt(plot, Math.max(x0, GUTTER) + 4, y + 6.5, 'owner ' + lane.label, 'small');
  });
  d.access.forEach((a, i) => {
    if (a.file !== tr.file || !visible(v, a.from, a.to)) return;
    const x0 = clampX(a.from);
    const x1 = clampX(a.to);
    const r = el('rect', { x: x0, y: y + 3, width: Math.max(3, x1 - x0), height: H.file - 6, fill: a.conflict ? 'url(#' + v.hatch + ')' : '#fde68a', stroke: a.conflict ? '#dc2626' : '#d97706', opacity: 0.9 }, plot);
    v.addTip(r, { kind: 'acc', i });
    if (x1 - x0 > 90) txt(plot, Math.max(x0, GUTTER) + 4, y + 15, (a.kind === 'eos' ? 'EOS window' : a.kind === 'cleanup' ? 'cleanup' : a.kind) + ' · ' + d.lanes[a.lane]!.label, 'small');
  });
}

/** A thread lane: label, lifetime, the access windows it runs, its events. */
function drawLane(v: TimelineView, plot: SVGElement, laneNo: number, y: number, sc: Scale): void {
  const d = v.d;
  const { clampX } = sc;
  const lane = d.lanes[laneNo]!;
  const colour = ROLE[lane.role] || '#64748b';
  const mid = y + H.lane / 2;
  el('rect', { x: 6, y: mid - 5, width: 8, height: 10, rx: 2, fill: colour }, v.svg);
  const label = txt(v.svg, 18, mid + 4, lane.label, 'lbl');
  v.addTip(label, { kind: 'lane', lane: laneNo });
  el('line', { x1: 0, x2: GUTTER + v.plotW + PAD_R, y1: y + H.lane - 0.5, y2: y + H.lane - 0.5, stroke: '#f1f5f9' }, v.svg);
  if (lane.first !== null) {
    const end = lane.exited || lane.role === 'other' || lane.role === 'all' ? lane.last! : d.tEnd;
    if (visible(v, lane.first, end)) el('line', { x1: clampX(lane.first), x2: clampX(end), y1: mid, y2: mid, stroke: colour, 'stroke-opacity': 0.35, 'stroke-width': 2 }, plot);
  }
  drawLaneAccess(v, plot, laneNo, y, sc);
  drawLaneEvents(v, plot, laneNo, y, sc, colour);
}

function drawLaneAccess(v: TimelineView, plot: SVGElement, laneNo: number, y: number, { clampX }: Scale): void {
  const d = v.d;
  const h = H.lane;
  d.access.forEach((a, i) => {
    if (!visible(v, a.from, a.to)) return;
    const x0 = clampX(a.from);
    const x1 = clampX(a.to);
    if (a.lane === laneNo) {
      const r = el('rect', { x: x0, y: y + 2, width: Math.max(3, x1 - x0), height: h - 4, fill: a.conflict ? '#fecaca' : '#fef3c7', 'fill-opacity': 0.8, stroke: a.conflict ? '#f87171' : '#fcd34d' }, plot);
      v.addTip(r, { kind: 'acc', i });
    } else if (a.conflict && a.file) {
      // The file's owner running during a conflicting window: the other side of the race, shaded lighter.
      const owns = d.owners.some((o) => o.file === a.file && o.lane === laneNo && o.from <= a.to && o.to >= a.from);
      if (owns) el('rect', { x: x0, y: y + 2, width: Math.max(3, x1 - x0), height: h - 4, fill: '#fee2e2', 'fill-opacity': 0.7 }, plot);
    }
  });
}

/** Per-pixel buckets: one event → its tick; several → a bar whose height grows with the count.
 *  Counted (not kept) events first, as grey bars. */
function drawLaneEvents(v: TimelineView, plot: SVGElement, laneNo: number, y: number, { X }: Scale, colour: string): void {
  const d = v.d;
  const h = H.lane;
  const mid = y + h / 2;
  const PX = 3;
  const nb = Math.max(1, Math.floor(v.plotW / PX));
  drawLaneHist(v, plot, laneNo, mid, nb, PX);
  const bk = bucketize(v.laneT[laneNo]!, v.v0, v.v1, nb);
  const ix = v.laneIdx[laneNo]!;
  for (let c = 0; c < nb; c++) {
    const n = bk.counts[c]!;
    if (n === 0) continue;
    const first = bk.first[c]!;
    if (n === 1) {
      const ei = ix[first]!;
      const key = d.ev.k[ei] === 1;
      const ex = X(d.ev.t[ei]!);
      const r1 = el('rect', { class: 'ev', x: ex - 1, y: mid - (key ? 9 : 6), width: 2.5, height: key ? 18 : 12, fill: colour, opacity: key ? 1 : 0.75 }, plot);
      v.addTip(r1, { kind: 'e', ev: ei });
    } else {
      const bh = Math.min(h - 4, 8 + 3 * Math.log2(n));
      const r2 = el('rect', { class: 'bk', x: GUTTER + c * PX, y: mid - bh / 2, width: PX - 0.5, height: bh, fill: colour, opacity: 0.55 }, plot);
      v.addTip(r2, { kind: 'b', lane: laneNo, i0: first, n });
    }
  }
}

function drawLaneHist(v: TimelineView, plot: SVGElement, laneNo: number, mid: number, nb: number, PX: number): void {
  const hs = v.hist[laneNo]!;
  if (!hs.mid.length) return;
  const h = H.lane;
  const hb = bucketize(hs.mid, v.v0, v.v1, nb);
  for (let b = 0; b < nb; b++) {
    if (hb.counts[b] === 0) continue;
    const i0 = hb.first[b]!;
    const i1 = i0 + hb.counts[b]!;
    let total = 0;
    for (let k = i0; k < i1; k++) total += hs.count[k]!;
    const hh = Math.min(h - 6, 4 + 3 * Math.log2(total + 1));
    const hr = el('rect', { class: 'hb', x: GUTTER + b * PX, y: mid - hh / 2, width: PX - 0.5, height: hh, fill: '#cbd5e1' }, plot);
    v.addTip(hr, { kind: 'h', lane: laneNo, i0, i1 });
  }
}
