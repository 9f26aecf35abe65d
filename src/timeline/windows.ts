// Time windows: parsing --from/--to, the default zoom (around findings and the end of postcopy),
// and merging overlapping windows. Pure.
import type { RunResult } from '../types.js';
import type { TimelineData, TimeWindow } from './types.js';

/** A time as the user gave it: absolute seconds as in the trace, or `+S` relative to the first event. */
export type TimeSpec = { kind: 'abs'; us: number } | { kind: 'rel'; us: number };

export class TimeSpecError extends Error {}

/** Seconds (with up to 6 decimals) to integer µs, exactly: 1795635181.952652 must not drift by float rounding. */
function secondsToUs(text: string): number | null {
  const m = /^(\d*)(?:\.(\d*))?$/.exec(text);
  if (!m || (m[1] === '' && (m[2] ?? '') === '')) return null;
  const whole = m[1] === '' ? 0 : Number(m[1]);
  const frac = (m[2] ?? '').padEnd(6, '0');
  const us = whole * 1e6 + Number(frac.slice(0, 6)) + (frac.length > 6 && Number(frac[6]) >= 5 ? 1 : 0);
  return Number.isSafeInteger(us) ? us : null;
}

export function parseTimeSpec(text: string, option: string): TimeSpec {
  const s = text.trim();
  const rel = s.startsWith('+');
  const us = secondsToUs(rel ? s.slice(1) : s);
  if (us === null) throw new TimeSpecError(`${option} ${JSON.stringify(text)}: expected seconds as in the trace (e.g. 1795635181.95) or relative to the first event (e.g. +3.25)`);
  return rel ? { kind: 'rel', us } : { kind: 'abs', us };
}

export function resolveTimeSpec(spec: TimeSpec, t0: number): number {
  return spec.kind === 'abs' ? spec.us : t0 + spec.us;
}

/** Merges overlapping or touching windows (reasons and aggregated counts add up), in time order. */
export function mergeWindows(windows: readonly TimeWindow[]): TimeWindow[] {
  const sorted = [...windows].sort((a, b) => a.from - b.from || a.to - b.to);
  const out: TimeWindow[] = [];
  for (const w of sorted) {
    const last = out[out.length - 1];
    if (last && w.from <= last.to) {
      last.to = Math.max(last.to, w.to);
      for (const r of w.reasons) if (!last.reasons.includes(r)) last.reasons.push(r);
      last.aggregated += w.aggregated;
    } else out.push({ from: w.from, to: w.to, reasons: [...w.reasons], aggregated: w.aggregated });
  }
  return out;
}

/** Windows of ±margin around every location of every finding (known once the run is judged). */
export function findingWindows(run: RunResult, marginUs: number): TimeWindow[] {
  const out: TimeWindow[] = [];
  run.findings.forEach((f, i) => {
    for (const l of f.locations) {
      if (l.ts === null) continue;
      const us = Math.round(l.ts * 1e6);
      out.push({ from: us - marginUs, to: us + marginUs, reasons: [`finding ${i + 1}`], aggregated: 0 });
    }
  });
  return mergeWindows(out);
}

/** Index of the window containing t (windows sorted, disjoint), or -1. */
export function windowIndexAt(windows: readonly TimeWindow[], t: number): number {
  let lo = 0;
  let hi = windows.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const w = windows[mid] as TimeWindow;
    if (t < w.from) hi = mid - 1;
    else if (t > w.to) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/**
 * Where a graphical view opens: the span of the windows that matter most — those around an error
 * or warning finding, or around the end of postcopy — else of all windows, else the whole run.
 * (An info finding early in the run must not stretch the first view over seconds of precopy.)
 */
export function initialView(data: TimelineData, run: RunResult): [number, number] {
  if (data.windows.length === 0) return [data.t0, data.tEnd];
  const minor = new Set(run.findings.map((f, i) => (f.severity === 'info' ? `finding ${i + 1}` : '')).filter(Boolean));
  const primary = data.windows.filter((w) => w.reasons.some((r) => !minor.has(r)));
  const use = primary.length ? primary : data.windows;
  return [Math.min(...use.map((w) => w.from)), Math.max(...use.map((w) => w.to))];
}
