// Durations and times as the page prints them.

export function fmtDur(us: number): string {
  if (us < 1000) return Math.round(us) + ' µs';
  if (us < 1e6) return (us / 1000).toFixed(us < 10000 ? 2 : 1) + ' ms';
  return (us / 1e6).toFixed(3) + ' s';
}

/** A time on the axis: seconds since the first event (`+1.234567`), or `L<n>` when the run is
 *  ordered by line only; `step` (the tick step) sets the digits. */
export function fmtT(timeBase: string, t: number, step?: number): string {
  if (timeBase === 'order') return 'L' + Math.round(t);
  const digits = step ? Math.max(0, Math.min(6, 6 - Math.floor(Math.log10(step)))) : 6;
  return '+' + (t / 1e6).toFixed(digits);
}

/** A time as QEMU prints it (sec.usec since the epoch), or `line <n>`. */
export function fmtAbs(timeBase: string, t0: number, t: number): string {
  if (timeBase === 'order') return 'line ' + Math.round(t);
  const a = t0 + t;
  const s = Math.floor(a / 1e6);
  let u = String(Math.round(a - s * 1e6));
  while (u.length < 6) u = '0' + u;
  return s + '.' + u;
}
