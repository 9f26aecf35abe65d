// What drawing, tooltips and controls need of a run's timeline view (the View class in view.ts
// implements it): its data, the visible range [v0, v1] within [lo, hi], and a few helpers.
import type { RunData } from './data.js';

/** Histogram cells of one lane, sorted by bucket middle. */
export interface LaneHist {
  mid: Float64Array;
  count: number[];
  name: number[];
}

/** What a drawn element's tooltip shows: an event, a finding marker, a bar of events, a bar of
 *  counted events, a state, an owner, an access window, a kept window, or a lane. */
export type Tip =
  | { kind: 'e'; ev: number }
  | { kind: 'm'; f: number; l: number; ev: number }
  | { kind: 'b'; lane: number; i0: number; n: number }
  | { kind: 'h'; lane: number; i0: number; i1: number }
  | { kind: 'state' | 'own' | 'acc' | 'win'; i: number }
  | { kind: 'lane'; lane: number };

export interface TimelineView {
  readonly d: RunData;
  readonly idx: number;
  readonly section: HTMLDetailsElement;
  readonly svg: SVGSVGElement;
  /** Id of the hatch pattern of conflicting access windows. */
  readonly hatch: string;
  /** Per lane: the indexes of its events, and their times. */
  readonly laneIdx: number[][];
  readonly laneT: Float64Array[];
  readonly hist: LaneHist[];
  readonly lo: number;
  readonly hi: number;
  /** The opening view: around the findings and the end of postcopy. */
  readonly focus: [number, number];
  v0: number;
  v1: number;
  /** Width of the plot area, set by each draw. */
  plotW: number;
  tips: Tip[];
  /** The finding location last revealed. */
  sel: { f: number; l: number; t: number } | null;
  x(t: number): number;
  tAt(px: number): number;
  fmtT(t: number, step?: number): string;
  fmtAbs(t: number): string;
  line(i: number): string;
  set(v: [number, number]): void;
  schedule(): void;
  draw(): void;
  addTip(node: Element, tp: Tip): void;
  tipContent(k: number): HTMLElement;
}
