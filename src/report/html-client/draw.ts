// Drawing one run's timeline into its SVG: the kept windows, the axis and grid, one row per track
// (a side's title, its state band, a QEMUFile, a thread lane), and the findings' markers on top.
// Every drawn element that has something to say registers a tooltip (view.addTip).
import { niceStep } from '../../timeline/aggregate.js';
import { fmtDur } from './format.js';
import { AXIS, GUTTER, H, PAD_R } from './style.js';
import { el, txt } from './svg.js';
import { drawTrack, type Row, type Scale } from './tracks.js';
import type { TimelineView } from './view-api.js';

export function draw(v: TimelineView): void {
  const d = v.d;
  const svg = v.svg;
  const W = Math.max(480, v.section.querySelector('.chart')!.clientWidth);
  v.plotW = W - GUTTER - PAD_R;
  v.tips = [];
  let y = AXIS;
  const rows: Row[] = [];
  d.tracks.forEach((tr) => {
    rows.push({ tr, y });
    y += H[tr.kind];
  });
  const height = y + 8;
  svg.setAttribute('width', String(W));
  svg.setAttribute('height', String(height));
  svg.setAttribute('viewBox', '0 0 ' + W + ' ' + height);
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const plot = plotArea(v, height);
  const X = (t: number): number => v.x(t);
  const sc: Scale = { X, clampX: (t) => Math.max(GUTTER - 2, Math.min(GUTTER + v.plotW + 2, X(t))), height };
  drawWindows(v, plot, sc);
  const step = drawAxis(v, plot, sc);
  rows.forEach((r) => drawTrack(v, plot, r, sc));
  drawMarkers(v, plot, rows, X);
  if (v.sel && v.sel.t >= v.v0 && v.sel.t <= v.v1) el('line', { x1: X(v.sel.t), x2: X(v.sel.t), y1: AXIS, y2: height, stroke: '#dc2626', 'stroke-dasharray': '3 3' }, plot);
  v.section.querySelector('.view')!.textContent = 'view ' + v.fmtT(v.v0, step / 10) + ' … ' + v.fmtT(v.v1, step / 10) + ' s (' + fmtDur(v.v1 - v.v0) + ')';
}

/** The hatch pattern of conflicting windows, and the plot group clipped to the right of the gutter. */
function plotArea(v: TimelineView, height: number): SVGElement {
  const defs = el('defs', {}, v.svg);
  const pat = el('pattern', { id: v.hatch, width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' }, defs);
  el('rect', { width: 6, height: 6, fill: '#fecaca' }, pat);
  el('line', { x1: 0, y1: 0, x2: 0, y2: 6, stroke: '#dc2626', 'stroke-width': 2.5 }, pat);
  const clipId = 'clip-' + v.idx;
  const cp = el('clipPath', { id: clipId }, defs);
  el('rect', { x: GUTTER, y: 0, width: v.plotW, height }, cp);
  return el('g', { 'clip-path': 'url(#' + clipId + ')' }, v.svg);
}

/** Kept windows (where every event is shown) as a faint background. */
function drawWindows(v: TimelineView, plot: SVGElement, { clampX, height }: Scale): void {
  v.d.windows.forEach((w, i) => {
    if (w.to < v.v0 || w.from > v.v1) return;
    const r = el('rect', { x: clampX(w.from), y: AXIS - 6, width: Math.max(1, clampX(w.to) - clampX(w.from)), height: 6, fill: '#c7d2fe' }, plot);
    v.addTip(r, { kind: 'win', i });
    el('rect', { x: clampX(w.from), y: AXIS, width: Math.max(1, clampX(w.to) - clampX(w.from)), height: height - AXIS, fill: '#f5f7ff' }, plot);
  });
}

/** Axis labels and grid lines; the tick step. */
function drawAxis(v: TimelineView, plot: SVGElement, { X, height }: Scale): number {
  const step = niceStep(v.v1 - v.v0, v.plotW / 120);
  for (let t = Math.ceil(v.v0 / step) * step; t <= v.v1; t += step) {
    const gx = X(t);
    el('line', { x1: gx, x2: gx, y1: AXIS - 4, y2: height, class: 'grid' }, plot);
    if (gx > GUTTER + 18 && gx < GUTTER + v.plotW - 18) txt(plot, gx, AXIS - 10, v.fmtT(t, step), 'small', 'middle');
  }
  txt(v.svg, 8, 16, v.d.timeBase === 'order' ? 'line' : 's since first event', 'small');
  return step;
}

/** Finding markers above everything (one number per cluster, so close markers stay legible). */
function drawMarkers(v: TimelineView, plot: SVGElement, rows: Row[], X: (t: number) => number): void {
  const lastLabel: Record<string, number[]> = {};
  // Reverse order: each finding's first location (the offending access) ends up on top.
  v.d.markers
    .slice()
    .reverse()
    .forEach((m) => {
      if (m.t < v.v0 || m.t > v.v1) return;
      const row = rows.filter((r) => r.tr.kind === 'lane' && r.tr.lane === m.lane)[0];
      if (!row) return;
      const mx = X(m.t);
      const my = row.y + H.lane / 2;
      const g = el('g', { class: 'finding-marker', 'data-f': m.f, 'data-l': m.loc }, plot);
      el('path', { d: 'M' + mx + ' ' + (my - 8) + 'l7 8l-7 8l-7 -8z', fill: '#dc2626', stroke: '#fff', 'stroke-width': 1.5 }, g);
      const lk = m.lane + ':' + m.f;
      const near = (lastLabel[lk] = lastLabel[lk] || []).some((x) => Math.abs(mx - x) < 16);
      if (!near) {
        txt(g, mx + 8, my - 5, String(m.f + 1), 'small');
        lastLabel[lk]!.push(mx);
      }
      v.addTip(g, { kind: 'm', f: m.f, l: m.loc, ev: m.ev });
      if (v.sel && v.sel.f === m.f && v.sel.l === m.loc) g.classList.add('pulse');
    });
}
