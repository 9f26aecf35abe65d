// Which process wrote a trace file (documented in README "How migtrace reads a run"): count the
// events that only one side emits (catalog rows with side src or dst: the source's migration and
// return-path threads, the destination's listen, fault and preempt threads and loadvm) in the
// head of the file. A side wins when it has at least SIDE_MARGIN times the other's count.
import type { Side } from '../types.js';
import { rowsFor, type Catalog, type CatalogRow } from './catalog.js';

export const SIDE_MARGIN = 3;
export const SIDE_DECISIVE = 200;
/** Exclusive events of each side that make a stream without thread ids one of both processes. */
const MIXED_MIN = 3;

export interface SideScore {
  src: number;
  dst: number;
  firstSrc: string | null;
  firstDst: string | null;
  /** Per TID: how many source-only and destination-only events it logged (one stream may hold both processes). */
  byTid: Map<number, { src: number; dst: number }>;
}

export function newSideScore(): SideScore {
  return { src: 0, dst: 0, firstSrc: null, firstDst: null, byTid: new Map() };
}

/** The side an event proves its process to be, from the catalog (null: both sides log it, or unknown). */
export function exclusiveSide(catalog: Catalog, name: string, args: string): Side | null {
  return sideOfRows(rowsFor(catalog, name, args));
}

/** The one side an event's catalog rows say logs it, or null (none, `both`, or rows that disagree). */
export function sideOfRows(rows: readonly CatalogRow[]): Side | null {
  if (rows.length === 0) return null;
  const side = rows[0]!.side;
  if (side === 'both' || rows.some((r) => r.side !== side)) return null;
  return side;
}

/** Adds one event to the score; returns true once the score is decisive (no need to read on). */
export function scoreEvent(score: SideScore, catalog: Catalog, name: string, args: string, where: string, tid: number | null = null): boolean {
  const side = exclusiveSide(catalog, name, args);
  if (side === null) return false;
  if (tid !== null) {
    const t = score.byTid.get(tid) ?? { src: 0, dst: 0 };
    t[side]++;
    score.byTid.set(tid, t);
  }
  if (side === 'src') {
    score.src++;
    score.firstSrc ??= `${name} at ${where}`;
  } else {
    score.dst++;
    score.firstDst ??= `${name} at ${where}`;
  }
  return (score.src >= SIDE_DECISIVE && score.dst === 0) || (score.dst >= SIDE_DECISIVE && score.src === 0);
}

/**
 * A file is one process when one side has SIDE_MARGIN times the other's exclusive events; it is a
 * stream of both (a CI job log, qtest's migration-test) when each of its TIDs clearly belongs to
 * one side and both sides are there.
 */
export function decideSide(score: SideScore): { side: Side | null; why: string; tidSides?: Map<number, Side> } {
  const { src, dst } = score;
  if (src > 0 && dst > 0 && score.byTid.size > 1) {
    const tidSides = new Map<number, Side>();
    let ambiguous = 0;
    for (const [tid, t] of score.byTid) {
      if (t.src > 0 && t.dst === 0) tidSides.set(tid, 'src');
      else if (t.dst > 0 && t.src === 0) tidSides.set(tid, 'dst');
      else ambiguous++;
    }
    const sides = new Set(tidSides.values());
    if (ambiguous === 0 && sides.size === 2) {
      const n = (s: Side) => [...tidSides.values()].filter((x) => x === s).length;
      return { side: null, tidSides, why: `one stream with both processes: ${n('src')} source threads and ${n('dst')} destination threads told apart by the events only one side logs` };
    }
  }
  // No thread ids (QEMU >= 10.1 writing both processes' stderr into one CI log): both sides' own
  // events are there, so each event is placed by the side its name implies (replay/run.ts).
  if (score.byTid.size === 0 && src >= MIXED_MIN && dst >= MIXED_MIN) {
    return { side: null, tidSides: new Map(), why: `one stream with both processes and no thread ids (${src} source-only and ${dst} destination-only events): each event is placed by the side its name implies; events both sides log cannot be placed` };
  }
  if (src > 0 && src >= SIDE_MARGIN * dst) return { side: 'src', why: `${src} source-only events vs ${dst} destination-only (first: ${score.firstSrc})` };
  if (dst > 0 && dst >= SIDE_MARGIN * src) return { side: 'dst', why: `${dst} destination-only events vs ${src} source-only (first: ${score.firstDst})` };
  return { side: null, why: src + dst === 0 ? 'no source-only or destination-only events' : `mixed: ${src} source-only and ${dst} destination-only events` };
}
