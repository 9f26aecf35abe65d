// The rows of the graphical timeline (HTML report), top to bottom: per side a heading, the
// migration state band, one row per QEMUFile that has an owner or an access window (its owner
// spans and the windows on it), then the side's thread lanes. Pure.
import type { Side } from '../types.js';
import type { Spans, TimelineData } from './types.js';

export type Track =
  | { kind: 'side'; side: Side | null; label: string }
  | { kind: 'state'; side: Side }
  | { kind: 'file'; side: Side; file: string }
  | { kind: 'lane'; lane: number };

const FILE_SIDE: Record<string, Side> = {
  postcopy_qemufile_src: 'src',
  to_dst_file: 'src',
  from_dst_file: 'src',
  postcopy_qemufile_dst: 'dst',
  from_src_file: 'dst',
  to_src_file: 'dst',
};
const FILE_ORDER = Object.keys(FILE_SIDE);

export function planTracks(data: TimelineData, spans: Spans): Track[] {
  const tracks: Track[] = [];
  const files = new Set<string>();
  for (const o of spans.owners) files.add(o.file);
  for (const w of spans.windows) if (w.file) files.add(w.file);
  for (const side of ['src', 'dst', null] as const) {
    const lanes = data.lanes.filter((l) => l.side === side);
    if (!lanes.length && !spans.states.some((s) => s.side === side)) continue;
    tracks.push({ kind: 'side', side, label: side === 'src' ? 'source' : side === 'dst' ? 'destination' : 'side unknown' });
    if (side === null) {
      for (const l of lanes) tracks.push({ kind: 'lane', lane: l.id });
      continue;
    }
    if (spans.states.some((s) => s.side === side)) tracks.push({ kind: 'state', side });
    for (const f of FILE_ORDER) if (files.has(f) && FILE_SIDE[f] === side) tracks.push({ kind: 'file', side, file: f });
    for (const l of lanes) tracks.push({ kind: 'lane', lane: l.id });
  }
  return tracks;
}
