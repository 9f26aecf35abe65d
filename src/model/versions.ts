// QEMU version ranges: "*", "<=7.2", ">=8.0", "8.0-9.2". Versions compare as major.minor.
// Fingerprint claims (§G.1) are intersected into the range a process can be.

export interface VersionRange {
  /** Inclusive lower bound as major*100+minor, or null for unbounded. */
  lo: number | null;
  hi: number | null;
}

const VER = /^(\d+)\.(\d+)$/;

function num(v: string): number | null {
  const m = VER.exec(v.trim());
  return m ? Number(m[1]) * 100 + Number(m[2]) : null;
}

function fmt(n: number): string {
  return `${Math.floor(n / 100)}.${n % 100}`;
}

/** Parses a range; returns null when the text is not one (the caller reports file:line). */
export function parseRange(text: string): VersionRange | null {
  const t = text.trim();
  if (t === '*' || t === '') return { lo: null, hi: null };
  if (t.startsWith('>=')) {
    const n = num(t.slice(2));
    return n === null ? null : { lo: n, hi: null };
  }
  if (t.startsWith('<=')) {
    const n = num(t.slice(2));
    return n === null ? null : { lo: null, hi: n };
  }
  const dash = t.indexOf('-');
  if (dash > 0) {
    const lo = num(t.slice(0, dash));
    const hi = num(t.slice(dash + 1));
    return lo === null || hi === null || lo > hi ? null : { lo, hi };
  }
  const n = num(t);
  return n === null ? null : { lo: n, hi: n };
}

export const ANY: VersionRange = { lo: null, hi: null };

function known(text: string): VersionRange {
  const r = parseRange(text);
  if (!r) throw new Error(`not a version range: ${text}`);
  return r;
}

// The version boundaries the model and the rules name, in one place (§G.1, §G.2).
/** QEMU 7.2 and older: the migration thread writes postcopy_qemufile_src, EOS included; no PREEMPT_THREAD_QUIT. */
export const LE_7_2 = known('<=7.2');
/** QEMU 8.0 on: the return-path thread owns postcopy_qemufile_src (9358982744). */
export const GE_8_0 = known('>=8.0');
/** Before 7afbdada7e (9.0; 6983d1657d in 8.2 stable). */
export const LE_8_2 = known('<=8.2');
/** From 7afbdada7e: the destination waits for the preempt channel before LISTEN. */
export const GE_9_0 = known('>=9.0');

export function intersect(a: VersionRange, b: VersionRange): VersionRange {
  const lo = a.lo === null ? b.lo : b.lo === null ? a.lo : Math.max(a.lo, b.lo);
  const hi = a.hi === null ? b.hi : b.hi === null ? a.hi : Math.min(a.hi, b.hi);
  return { lo, hi };
}

export function isEmpty(r: VersionRange): boolean {
  return r.lo !== null && r.hi !== null && r.lo > r.hi;
}

/** true when every version in `r` lies within `within`. */
export function isWithin(r: VersionRange, within: VersionRange): boolean {
  if (within.lo !== null && (r.lo === null || r.lo < within.lo)) return false;
  if (within.hi !== null && (r.hi === null || r.hi > within.hi)) return false;
  return true;
}

/** true when `r` and `other` share at least one version. */
export function overlaps(r: VersionRange, other: VersionRange): boolean {
  return !isEmpty(intersect(r, other));
}

export function formatRange(r: VersionRange): string {
  if (isEmpty(r)) return 'contradictory';
  if (r.lo === null && r.hi === null) return 'unknown';
  if (r.lo === null) return `<=${fmt(r.hi as number)}`;
  if (r.hi === null) return `>=${fmt(r.lo)}`;
  if (r.lo === r.hi) return fmt(r.lo);
  return `${fmt(r.lo)}-${fmt(r.hi)}`;
}
