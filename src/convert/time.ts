// Timestamps as text. migtrace keeps µs (possibly fractional: ns clocks); text formats print
// seconds, with 6 decimals, or 9 when the clock had sub-µs resolution (simple, LTTng, ftrace).

export function secondsText(us: number): string {
  const neg = us < 0;
  const a = Math.abs(us);
  const whole = Math.floor(a / 1e6);
  const restUs = a - whole * 1e6;
  const ns = Math.round(restUs * 1000);
  const frac = ns % 1000 === 0 ? String(ns / 1000).padStart(6, '0') : String(ns).padStart(9, '0');
  // Rounding can carry into the next second (999999.9996 µs).
  if (ns >= 1e9) return secondsText((neg ? -1 : 1) * (whole + 1) * 1e6);
  return `${neg ? '-' : ''}${whole}.${frac}`;
}

/** ISO-8601 UTC with µs, as QEMU >= 10.1 prefixes log lines (2025-07-21T18:43:28.089815Z). */
export function isoText(us: number): string {
  const ms = Math.floor(us / 1000);
  const d = new Date(ms);
  const micro = Math.floor(us - Math.floor(us / 1e6) * 1e6);
  return `${d.toISOString().slice(0, 19)}.${String(micro).padStart(6, '0')}Z`;
}

/**
 * A --from/--to-time value: seconds in the trace's own clock ("1795636380.5"), or "+S" seconds
 * after the first timestamped record. Returns a resolver that needs that first timestamp.
 */
export function parseTimeBound(text: string, option: string): (firstUs: number) => number {
  const t = text.trim();
  const rel = t.startsWith('+');
  const v = Number(rel ? t.slice(1) : t);
  if (t === '' || t === '+' || !Number.isFinite(v)) throw new Error(`${option} takes seconds (e.g. 1795636380.5) or +seconds after the first event (e.g. +2.5); got '${text}'`);
  return rel ? (first) => first + v * 1e6 : () => v * 1e6;
}
