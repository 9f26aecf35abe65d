// The C printf subset QEMU trace-events formats use (%d %i %u %x %X %o %c %s %p %f %e %g %%, flags
// "-+ #0", width, precision, '*', length hh h l ll z j t), so an event decoded from a binary or
// typed trace prints its arguments exactly as the log backend would: catalog regexes such as
// `^chan=1` or `new state (\S+)` must match the same text. Integers arrive as the simple backend
// stores them (every argument widened to uint64), so each conversion narrows to its C width.

export type ArgValue = string | number | bigint;

export interface Conv {
  flags: string;
  width: number | '*' | null;
  prec: number | '*' | null;
  /** Bits of the C argument: 8, 16, 32 or 64 (from the length modifier; x86_64 LP64). */
  bits: number;
  conv: string;
}

export type Piece = string | Conv;

const SPEC = /%([-+ #0]*)(\d+|\*)?(?:\.(\d*|\*))?(hh|h|ll|l|z|j|t|q|L)?([diouxXcspfFeEgGaA%])/g;

function bitsOf(len: string | undefined): number {
  switch (len) {
    case 'hh':
      return 8;
    case 'h':
      return 16;
    case undefined:
    case '':
      return 32;
    default:
      return 64;
  }
}

/** Splits a format into literal text and conversions, once per event definition. */
export function compileFormat(fmt: string): Piece[] {
  const out: Piece[] = [];
  let last = 0;
  let lit = '';
  for (const m of fmt.matchAll(SPEC)) {
    lit += fmt.slice(last, m.index);
    last = m.index + m[0].length;
    if (m[5] === '%') {
      lit += '%';
      continue;
    }
    if (lit) out.push(lit);
    lit = '';
    const w = m[2];
    const p = m[3];
    out.push({
      flags: m[1] ?? '',
      width: w === undefined ? null : w === '*' ? '*' : Number(w),
      prec: p === undefined ? null : p === '*' ? '*' : Number(p || '0'),
      bits: bitsOf(m[4]),
      conv: m[5] as string,
    });
  }
  lit += fmt.slice(last);
  if (lit) out.push(lit);
  return out;
}

function asInteger(v: ArgValue | undefined): number | bigint | null {
  if (v === undefined) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : null;
  if (typeof v === 'bigint') return v;
  const t = v.trim();
  if (/^-?(0x[0-9a-f]+|\d+)$/i.test(t)) {
    const neg = t.startsWith('-');
    const b = BigInt(neg ? t.slice(1) : t);
    return neg ? -b : b;
  }
  return null;
}

function unsigned(v: number | bigint, bits: number): number | bigint {
  if (typeof v === 'number') {
    if (bits === 64) return v >= 0 && Number.isSafeInteger(v) ? v : BigInt.asUintN(64, BigInt(v));
    if (bits === 32) return v >>> 0;
    return bits === 16 ? v & 0xffff : v & 0xff;
  }
  const u = BigInt.asUintN(bits, v);
  return bits === 64 ? u : Number(u);
}

function signed(v: number | bigint, bits: number): number | bigint {
  if (typeof v === 'number') {
    if (bits === 64) return Number.isSafeInteger(v) ? v : BigInt.asIntN(64, BigInt(v));
    if (bits === 32) return v | 0;
    return bits === 16 ? (v << 16) >> 16 : (v << 24) >> 24;
  }
  const s = BigInt.asIntN(bits, v);
  return bits === 64 ? s : Number(s);
}

function pad(body: string, sign: string, c: Conv, width: number, numeric: boolean, precGiven: boolean): string {
  const len = sign.length + body.length;
  if (width <= len) return sign + body;
  if (c.flags.includes('-')) return sign + body + ' '.repeat(width - len);
  // '0' pads numbers after the sign/prefix, and is ignored for integers with a precision.
  if (numeric && c.flags.includes('0') && !precGiven) return sign + '0'.repeat(width - len) + body;
  return ' '.repeat(width - len) + sign + body;
}

function intDigits(mag: string, prec: number | null): string {
  if (prec === null) return mag;
  if (prec === 0 && mag === '0') return '';
  return mag.padStart(prec, '0');
}

function renderOne(c: Conv, v: ArgValue | undefined, width: number, prec: number | null): string {
  const conv = c.conv;
  if (conv === 's') {
    let s = v === undefined ? '' : typeof v === 'string' ? v : String(v);
    if (prec !== null) s = s.slice(0, prec);
    return pad(s, '', c, width, false, false);
  }
  if (conv === 'f' || conv === 'F' || conv === 'e' || conv === 'E' || conv === 'g' || conv === 'G' || conv === 'a' || conv === 'A') {
    const x = typeof v === 'string' ? Number(v) : Number(v ?? 0);
    const p = prec ?? 6;
    let s = conv === 'f' || conv === 'F' ? x.toFixed(p) : conv === 'e' || conv === 'E' ? x.toExponential(p).replace(/e([+-])(\d)$/, 'e$10$2') : String(Number(x.toPrecision(p || 1)));
    if (conv === 'E' || conv === 'G') s = s.toUpperCase();
    const sign = s.startsWith('-') ? '-' : c.flags.includes('+') ? '+' : c.flags.includes(' ') ? ' ' : '';
    return pad(s.replace(/^-/, ''), sign, c, width, true, false);
  }
  const n = asInteger(v);
  if (n === null) return pad(v === undefined ? '' : String(v), '', c, width, false, false); // not a number: show what there is
  switch (conv) {
    case 'p': {
      const u = unsigned(n, 64);
      if (u === 0 || u === 0n) return pad('(nil)', '', c, width, false, false);
      return pad(`0x${u.toString(16)}`, '', c, width, false, false);
    }
    case 'c':
      return pad(String.fromCharCode(Number(unsigned(n, 8))), '', c, width, false, false);
    case 'd':
    case 'i': {
      const s = signed(n, c.bits);
      const neg = s < 0;
      const mag = (neg ? -s : s).toString();
      const sign = neg ? '-' : c.flags.includes('+') ? '+' : c.flags.includes(' ') ? ' ' : '';
      return pad(intDigits(mag, prec), sign, c, width, true, prec !== null);
    }
    default: {
      const u = unsigned(n, c.bits);
      const radix = conv === 'o' ? 8 : conv === 'u' ? 10 : 16;
      let mag = u.toString(radix);
      if (conv === 'X') mag = mag.toUpperCase();
      mag = intDigits(mag, prec);
      let prefix = '';
      if (c.flags.includes('#') && u !== 0 && u !== 0n) prefix = conv === 'x' ? '0x' : conv === 'X' ? '0X' : conv === 'o' && !mag.startsWith('0') ? '0' : '';
      return pad(mag, prefix, c, width, true, prec !== null);
    }
  }
}

/** printf(pieces, args...) as glibc would print it. Missing arguments print as empty. */
export function formatPrintf(pieces: readonly Piece[], args: readonly ArgValue[]): string {
  let out = '';
  let ai = 0;
  for (const p of pieces) {
    if (typeof p === 'string') {
      out += p;
      continue;
    }
    let width = 0;
    let flagsLeft = false;
    if (p.width === '*') {
      const w = Number(asInteger(args[ai++]) ?? 0);
      flagsLeft = w < 0;
      width = Math.abs(w);
    } else if (p.width !== null) width = p.width;
    let prec: number | null = null;
    if (p.prec === '*') {
      const pr = Number(asInteger(args[ai++]) ?? -1);
      prec = pr < 0 ? null : pr;
    } else prec = p.prec;
    const conv = flagsLeft && !p.flags.includes('-') ? { ...p, flags: `${p.flags}-` } : p;
    out += renderOne(conv, args[ai++], width, prec);
  }
  return out;
}
