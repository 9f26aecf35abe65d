// Per-pixel aggregation and zoom arithmetic, shared by the tests and the HTML report: the report's
// page script (src/report/html-client/) imports these very functions and runs them in the
// browser, so they use no Node API and import nothing.

/** First index i in the sorted array with a[i] >= x (a.length if none). */
export function lowerBound(a: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Counts the sorted times that fall in [v0, v1) into n equal buckets (one per few pixels).
 * `first[b]` is the index of the bucket's first time, -1 when empty: a bucket of one is drawn as
 * that event, a fuller one as a bar with a count. Cost: log(N) + the visible events.
 */
export function bucketize(times: ArrayLike<number>, v0: number, v1: number, n: number): { counts: Int32Array; first: Int32Array; lo: number; hi: number } {
  const counts = new Int32Array(n);
  const first = new Int32Array(n).fill(-1);
  const lo = lowerBound(times, v0);
  const hi = lowerBound(times, v1);
  const scale = n / (v1 - v0);
  for (let i = lo; i < hi; i++) {
    let b = Math.floor(((times[i] as number) - v0) * scale);
    if (b >= n) b = n - 1;
    if (b < 0) b = 0;
    if (first[b] === -1) first[b] = i;
    counts[b] = (counts[b] as number) + 1;
  }
  return { counts, first, lo, hi };
}

/** A round tick step (1, 2 or 5 × 10^k) giving about `target` ticks over `span`. */
export function niceStep(span: number, target: number): number {
  const raw = span / Math.max(1, target);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const norm = raw / mag;
  return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
}

/**
 * Zooms the view [v0, v1] by `factor` (< 1 zooms in) keeping the time at `anchor` fixed, clamped
 * to the data [lo, hi] and to a minimum width of `minSpan`.
 */
export function zoomView(v0: number, v1: number, factor: number, anchor: number, lo: number, hi: number, minSpan: number): [number, number] {
  let span = (v1 - v0) * factor;
  const full = hi - lo;
  if (span < minSpan) span = minSpan;
  if (span >= full) return [lo, hi];
  const rel = v1 > v0 ? (anchor - v0) / (v1 - v0) : 0.5;
  let a = anchor - rel * span;
  let b = a + span;
  if (a < lo) {
    b += lo - a;
    a = lo;
  }
  if (b > hi) {
    a -= b - hi;
    b = hi;
  }
  return [a, b];
}

/** Pans the view by `delta` (time units), clamped to the data [lo, hi]. */
export function panView(v0: number, v1: number, delta: number, lo: number, hi: number): [number, number] {
  const span = v1 - v0;
  let a = v0 + delta;
  if (a < lo) a = lo;
  if (a + span > hi) a = hi - span;
  if (a < lo) a = lo;
  return [a, a + span];
}
