// Counts of the events the timeline does not keep one by one, per lane, event name and time
// bucket. The trace's time span is unknown while it streams, so buckets start 1 µs wide and
// double (merging pairs) whenever an event falls past the last bucket: memory stays bounded by
// maxBuckets × lanes × distinct names, whatever the trace length.
import type { Histogram } from './types.js';

const MAX_NAMES = 4096;

export class StreamingHistogram {
  private width = 1;
  private origin: number | null = null;
  private readonly nameIds = new Map<string, number>();
  private readonly names: string[] = [];
  /** key = (bucket * MAX_LANES + lane) * MAX_NAMES + nameId → count; exact in a double up to 2^53. */
  private cells = new Map<number, number>();

  /** `maxLanes`: lane ids at or past it share the last one (the timeline's are per thread until its end). */
  constructor(
    private readonly maxBuckets = 4096,
    private readonly maxLanes = 256,
  ) {}

  add(t: number, lane: number, name: string, count = 1): void {
    if (this.origin === null) this.origin = Math.floor(t);
    let b = Math.floor((t - this.origin) / this.width);
    if (b < 0) b = 0; // a few µs of cross-thread reordering before the first event
    while (b >= this.maxBuckets) {
      this.rebin();
      b = Math.floor((t - this.origin) / this.width);
    }
    let id = this.nameIds.get(name);
    if (id === undefined) {
      if (this.names.length < MAX_NAMES - 1) {
        id = this.names.length;
        this.names.push(name);
        this.nameIds.set(name, id);
      } else {
        // Past 4095 distinct names the rest share one slot (not remembered: the map stays bounded).
        id = MAX_NAMES - 1;
        if (this.names.length === MAX_NAMES - 1) this.names.push('(other events)');
      }
    }
    const key = (b * this.maxLanes + Math.min(lane, this.maxLanes - 1)) * MAX_NAMES + id;
    this.cells.set(key, (this.cells.get(key) ?? 0) + count);
  }

  /** Sets the origin before the first event (so buckets line up with the trace start). */
  start(t: number): void {
    if (this.origin === null) this.origin = Math.floor(t);
  }

  get total(): number {
    let n = 0;
    for (const c of this.cells.values()) n += c;
    return n;
  }

  private rebin(): void {
    this.width *= 2;
    const next = new Map<number, number>();
    const stride = this.maxLanes * MAX_NAMES;
    for (const [key, count] of this.cells) {
      const bucket = Math.floor(key / stride);
      const rest = key - bucket * stride;
      const k2 = Math.floor(bucket / 2) * stride + rest;
      next.set(k2, (next.get(k2) ?? 0) + count);
    }
    this.cells = next;
  }

  /** The histogram as data, lanes renumbered by `laneMap` (old id → new id; several may become one). */
  result(laneMap?: (lane: number) => number): Histogram {
    const merged = new Map<string, Histogram['cells'][number]>();
    for (const [key, count] of this.cells) {
      if (count === 0) continue; // every event counted here was taken back out
      const nameId = key % MAX_NAMES;
      const rest = (key - nameId) / MAX_NAMES;
      const lane = rest % this.maxLanes;
      const bucket = (rest - lane) / this.maxLanes;
      const l = laneMap ? laneMap(lane) : lane;
      const k = `${bucket}:${l}:${nameId}`;
      const cell = merged.get(k);
      if (cell) cell[3] += count;
      else merged.set(k, [bucket, l, nameId, count]);
    }
    const cells = [...merged.values()];
    cells.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
    return { width: this.width, origin: this.origin ?? 0, names: [...this.names], cells };
  }
}

/** Histogram cells whose bucket midpoint lies in [from, to), summed per lane and name. */
export function histogramIn(h: Histogram, from: number, to: number): Array<{ lane: number; name: string; count: number; first: number; last: number }> {
  const acc = new Map<string, { lane: number; name: string; count: number; first: number; last: number }>();
  for (const [bucket, lane, nameId, count] of h.cells) {
    const b0 = h.origin + bucket * h.width;
    const mid = b0 + h.width / 2;
    if (mid < from || mid >= to) continue;
    const name = h.names[nameId] ?? '?';
    const k = `${lane}\u0000${name}`;
    const cur = acc.get(k);
    if (cur) {
      cur.count += count;
      cur.first = Math.min(cur.first, b0);
      cur.last = Math.max(cur.last, b0 + h.width);
    } else acc.set(k, { lane, name, count, first: b0, last: b0 + h.width });
  }
  return [...acc.values()].sort((a, b) => a.lane - b.lane || b.count - a.count || a.name.localeCompare(b.name));
}
