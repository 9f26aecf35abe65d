// Version fingerprinting (§G.1): each fingerprint event proves its process is within a version
// range; the ranges are intersected. The writer model of postcopy_qemufile_src (§D.0) follows from
// the source range, or directly from which thread sends urgent pages (§A.2 item 3).
import type { Evidence, Side, VersionGuess } from '../types.js';
import type { CatalogRow } from './catalog.js';
import { reads } from './signals.js';
import type { EventRef, ThreadTable } from './threads.js';
import { ANY, formatRange, GE_8_0, intersect, isEmpty, isWithin, LE_7_2, type VersionRange } from './versions.js';

/** Urgent writers named as evidence of the writer model (what the report shows: result.ts). */
export const EVIDENCE_KEPT = 2;

export type WriterModel = 'migration-thread (<=7.2)' | 'return-path-thread (>=8.0)' | 'unknown';

interface SideVersion {
  range: VersionRange;
  evidence: Evidence[];
  seen: Set<CatalogRow>;
  contradictions: string[];
}

export class VersionTracker {
  private readonly sides: Record<Side, SideVersion> = {
    src: { range: ANY, evidence: [], seen: new Set(), contradictions: [] },
    dst: { range: ANY, evidence: [], seen: new Set(), contradictions: [] },
  };
  /** First urgent-page write per (tid), to tell the writer model from the writing thread. */
  private readonly urgentWriters = new Map<number, EventRef>();

  constructor(private readonly fileOf: (input: number) => string) {}

  static wants(row: CatalogRow): boolean {
    return reads('version', row.signalIndex);
  }

  observe(ref: EventRef, rows: readonly CatalogRow[]): void {
    for (const row of rows) {
      if (row.signal === 'urgent-write' && ref.side === 'src' && ref.tid !== null && !this.urgentWriters.has(ref.tid)) {
        this.urgentWriters.set(ref.tid, ref);
      }
      if (row.signal !== 'fingerprint' || ref.side === null) continue;
      const s = this.sides[ref.side];
      if (s.seen.has(row)) continue; // one piece of evidence per fingerprint row is enough
      s.seen.add(row);
      const next = intersect(s.range, row.versions);
      const ev: Evidence = { claim: `${ref.side} ${row.versionsText}`, event: ref.name, file: this.fileOf(ref.input), line: ref.line };
      if (isEmpty(next)) {
        s.contradictions.push(`${ref.name} (${row.versionsText}) at ${ev.file}:${ev.line} contradicts ${formatRange(s.range)}`);
        continue;
      }
      s.range = next;
      s.evidence.push(ev);
    }
  }

  range(side: Side): VersionRange {
    return this.sides[side].range;
  }

  /**
   * §D.0: ≤7.2 → the migration thread sends urgent pages and the EOS; ≥8.0 → the rp thread.
   * Asked at every migration judged early, over every urgent writer the run has had (one per
   * migration of a long-lived source): evidence for the first EVIDENCE_KEPT only (all a report
   * shows), so the pass over them allocates nothing.
   */
  writerModel(threads: ThreadTable): { model: WriterModel; evidence: Evidence[] } {
    const evidence: Evidence[] = [];
    let byThread: WriterModel = 'unknown';
    for (const [tid, ref] of this.urgentWriters) {
      const role = threads.roleOf('src', tid);
      if (role !== 'rp' && role !== 'migration') continue;
      byThread = role === 'rp' ? 'return-path-thread (>=8.0)' : 'migration-thread (<=7.2)';
      if (evidence.length < EVIDENCE_KEPT) {
        const claim = role === 'rp' ? 'urgent pages sent by the return-path thread (>=8.0 writer model)' : 'urgent pages sent by the migration thread (<=7.2 writer model)';
        evidence.push({ claim, event: ref.name, file: this.fileOf(ref.input), line: ref.line });
      }
    }
    if (byThread !== 'unknown') return { model: byThread, evidence };
    const r = this.sides.src.range;
    if (isWithin(r, LE_7_2)) return { model: 'migration-thread (<=7.2)', evidence: this.sides.src.evidence };
    if (isWithin(r, GE_8_0)) return { model: 'return-path-thread (>=8.0)', evidence: this.sides.src.evidence };
    return { model: 'unknown', evidence: [] };
  }

  guess(side: Side): VersionGuess {
    const s = this.sides[side];
    return { range: formatRange(s.range), evidence: s.evidence };
  }

  contradictions(): string[] {
    return [...this.sides.src.contradictions, ...this.sides.dst.contradictions];
  }
}
