// One run's timeline: its data, the visible time range [v0, v1] within [lo, hi], the selected
// finding location, and the tooltips of what is drawn. Drawing is in draw.ts, the pointer and
// toolbar in interact.ts, tooltip texts in tip-content.ts.
import { bindControls } from './interact.js';
import type { RunData } from './data.js';
import { draw } from './draw.js';
import { fmtAbs, fmtT } from './format.js';
import { GUTTER } from './style.js';
import { showTip } from './tip.js';
import { tipContent } from './tip-content.js';
import type { LaneHist, Tip, TimelineView } from './view-api.js';

export class View implements TimelineView {
  readonly d: RunData;
  readonly svg: SVGSVGElement;
  readonly hatch: string;
  readonly laneIdx: number[][];
  readonly laneT: Float64Array[];
  readonly hist: LaneHist[];
  readonly lo = 0;
  readonly hi: number;
  readonly focus: [number, number];
  v0: number;
  v1: number;
  tips: Tip[] = [];
  sel: { f: number; l: number; t: number } | null = null;
  plotW = 0;
  private pending = false;

  constructor(
    readonly section: HTMLDetailsElement,
    readonly idx: number,
  ) {
    const d = JSON.parse(section.querySelector('script.run-data')!.textContent!) as RunData;
    this.d = d;
    this.svg = section.querySelector('svg.tl') as SVGSVGElement;
    this.hatch = 'hatch-' + idx;
    this.laneIdx = eventsByLane(d);
    this.laneT = this.laneIdx.map((ix) => Float64Array.from(ix, (i) => d.ev.t[i]!));
    this.hist = histByLane(d);
    this.hi = Math.max(1, d.tEnd);
    this.focus = this.focusView();
    this.v0 = this.focus[0];
    this.v1 = this.focus[1];
    bindControls(this);
    this.windowButtons();
    this.draw();
  }

  focusView(): [number, number] {
    const a = this.d.initial[0]!;
    const b = this.d.initial[1]!;
    const pad = (b - a) * 0.04 + 50;
    return [Math.max(this.lo, a - pad), Math.min(this.hi, b + pad)];
  }

  /** Event i's trace line, rebuilt from its compact form. */
  line(i: number): string {
    const d = this.d;
    return d.ev.c[i] ? d.lanes[d.ev.l[i]!]!.tid + '@' + this.fmtAbs(d.ev.t[i]!) + ':' + d.names[d.ev.n[i]!] + d.ev.x[i] : d.ev.x[i]!;
  }

  x(t: number): number {
    return GUTTER + ((t - this.v0) / (this.v1 - this.v0)) * this.plotW;
  }

  tAt(px: number): number {
    return this.v0 + ((px - GUTTER) / this.plotW) * (this.v1 - this.v0);
  }

  fmtT(t: number, step?: number): string {
    return fmtT(this.d.timeBase, t, step);
  }

  fmtAbs(t: number): string {
    return fmtAbs(this.d.timeBase, this.d.t0, t);
  }

  set(v: [number, number]): void {
    this.v0 = v[0];
    this.v1 = v[1];
    this.schedule();
  }

  /** One redraw on the next frame, however many changes came before it. */
  schedule(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  draw(): void {
    draw(this);
  }

  addTip(node: Element, tp: Tip): void {
    this.tips.push(tp);
    node.setAttribute('data-tip', String(this.tips.length - 1));
  }

  tipContent(k: number): HTMLElement {
    return tipContent(this, k);
  }

  /** One button per kept window (W1, W2…) that shows it. */
  windowButtons(): void {
    const box = this.section.querySelector('.wins')!;
    this.d.windows.forEach((w, i) => {
      const b = document.createElement('button');
      b.textContent = 'W' + (i + 1);
      b.title = w.reasons.join(', ') + ' (' + this.fmtT(w.from) + ' … ' + this.fmtT(w.to) + ' s)';
      b.addEventListener('click', () => {
        const pad = (w.to - w.from) * 0.05;
        this.set([Math.max(this.lo, w.from - pad), Math.min(this.hi, w.to + pad)]);
      });
      box.appendChild(b);
    });
  }

  /** Zooms to finding f's location l, marks it and shows its tooltip. */
  reveal(f: number, l: number): void {
    const loc = this.d.findings[f]!.locations[l]!;
    if (loc.t === null) return;
    const half = Math.max(150, Math.min(1500, (this.v1 - this.v0) / 2));
    this.sel = { f, l, t: loc.t };
    this.v0 = Math.max(this.lo, loc.t - half);
    this.v1 = Math.min(this.hi, loc.t + half);
    this.draw();
    this.svg.scrollIntoView({ block: 'center' });
    const m = this.svg.querySelector('.finding-marker[data-f="' + f + '"][data-l="' + l + '"]');
    if (m) {
      const rc = m.getBoundingClientRect();
      showTip(this.tipContent(+m.getAttribute('data-tip')!), rc.right, rc.bottom);
    }
  }
}

function eventsByLane(d: RunData): number[][] {
  const per: number[][] = [];
  for (let i = 0; i < d.lanes.length; i++) per.push([]);
  for (let i = 0; i < d.ev.t.length; i++) per[d.ev.l[i]!]!.push(i);
  return per;
}

/** The histogram cells (events not kept one by one), per lane, by bucket middle. */
function histByLane(d: RunData): LaneHist[] {
  const hc = d.hist.cells;
  const hl: Array<{ mid: number[]; count: number[]; name: number[] }> = [];
  for (let i = 0; i < d.lanes.length; i++) hl.push({ mid: [], count: [], name: [] });
  for (let i = 0; i + 3 < hc.length; i += 4) {
    const lane = hl[hc[i + 1]!];
    if (!lane) continue;
    lane.mid.push(d.hist.o + (hc[i]! + 0.5) * d.hist.w);
    lane.count.push(hc[i + 3]!);
    lane.name.push(hc[i + 2]!);
  }
  return hl.map((h) => {
    const order = h.mid.map((_, j) => j).sort((a, b) => h.mid[a]! - h.mid[b]!);
    return { mid: Float64Array.from(order.map((j) => h.mid[j]!)), count: order.map((j) => h.count[j]!), name: order.map((j) => h.name[j]!) };
  });
}
