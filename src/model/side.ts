// Which process wrote a trace file (documented in README "How migtrace reads a run"): count the
// events that only one side emits (catalog rows with side src or dst: the source's migration and
// return-path threads, the destination's listen, fault and preempt threads and loadvm) in the
// head of the file. A side wins when it has at least SIDE_MARGIN times the other's count.
import type { Side } from '../types.js';
import { rowsFor, type Catalog } from './catalog.js';

export const SIDE_MARGIN = 3;
export const SIDE_DECISIVE = 20;

export interface SideScore {
  src: number;
  dst: number;
  firstSrc: string | null;
  firstDst: string | null;
}

export function newSideScore(): SideScore {
  return { src: 0, dst: 0, firstSrc: null, firstDst: null };
}

/** Adds one event to the score; returns true once the score is decisive (no need to read on). */
export function scoreEvent(score: SideScore, catalog: Catalog, name: string, args: string, where: string): boolean {
  const rows = rowsFor(catalog, name, args);
  if (rows.length === 0) return false;
  const side = rows[0]!.side;
  if (side === 'both' || rows.some((r) => r.side !== side)) return false;
  if (side === 'src') {
    score.src++;
    score.firstSrc ??= `${name} at ${where}`;
  } else {
    score.dst++;
    score.firstDst ??= `${name} at ${where}`;
  }
  return (score.src >= SIDE_DECISIVE && score.dst === 0) || (score.dst >= SIDE_DECISIVE && score.src === 0);
}

export function decideSide(score: SideScore): { side: Side | null; why: string } {
  const { src, dst } = score;
  if (src > 0 && src >= SIDE_MARGIN * dst) return { side: 'src', why: `${src} source-only events vs ${dst} destination-only (first: ${score.firstSrc})` };
  if (dst > 0 && dst >= SIDE_MARGIN * src) return { side: 'dst', why: `${dst} destination-only events vs ${src} source-only (first: ${score.firstDst})` };
  return { side: null, why: src + dst === 0 ? 'no source-only or destination-only events' : `mixed: ${src} source-only and ${dst} destination-only events` };
}
