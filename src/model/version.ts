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
  /** Source threads that wrote urgent pages (the writing thread tells the writer model). */
  private readonly urgentTids = new Set<number>();
  /** The source threads that wrote urgent pages, in the order they first did (writerModel reads it from either end). */
  private readonly urgentOrder: Array<{ tid: number; ref: EventRef }> = [];

  constructor(private readonly fileOf: (input: number) => string) {}

  static wants(row: CatalogRow): boolean {
    return reads('version', row.signalIndex);
  }

  observe(ref: EventRef, rows: readonly CatalogRow[]): void {
    for (const row of rows) {
      if (row.signal === 'urgent-write' && ref.side === 'src' && ref.tid !== null && !this.urgentTids.has(ref.tid)) {
        this.urgentTids.add(ref.tid);
        this.urgentOrder.push({ tid: ref.tid, ref });
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
    // Asked once or twice per event: two named loads, not a keyed one.
    return side === 'src' ? this.sides.src.range : this.sides.dst.range;
  }

  /**
   * §D.0: ≤7.2 → the migration thread sends urgent pages and the EOS; ≥8.0 → the rp thread.
   * By thread: the latest urgent writer whose role is known decides; the first EVIDENCE_KEPT known
   * are the evidence (all a report shows). Asked at every migration judged early, over every urgent
   * writer the run has had (one per migration of a long-lived source), so it reads from the ends
   * and stops early: a pass over all made a trace of 1083 migrations quadratic (measured).
   */
  writerModel(threads: ThreadTable): { model: WriterModel; evidence: Evidence[] } {
    const known = (w: { tid: number }): 'rp' | 'migration' | null => {
      const role = threads.roleOf('src', w.tid);
      return role === 'rp' || role === 'migration' ? role : null;
    };
    const evidence: Evidence[] = [];
    for (let i = 0; i < this.urgentOrder.length && evidence.length < EVIDENCE_KEPT; i++) {
      const w = this.urgentOrder[i]!;
      const role = known(w);
      if (role === null) continue;
      const claim = role === 'rp' ? 'urgent pages sent by the return-path thread (>=8.0 writer model)' : 'urgent pages sent by the migration thread (<=7.2 writer model)';
      evidence.push({ claim, event: w.ref.name, file: this.fileOf(w.ref.input), line: w.ref.line });
    }
    let byThread: WriterModel = 'unknown';
    for (let i = this.urgentOrder.length - 1; i >= 0 && evidence.length > 0; i--) {
      const role = known(this.urgentOrder[i]!);
      if (role === null) continue;
      byThread = role === 'rp' ? 'return-path-thread (>=8.0)' : 'migration-thread (<=7.2)';
      break;
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
