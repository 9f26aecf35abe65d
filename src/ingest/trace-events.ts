// QEMU trace-events files (`trace-events` per directory, merged into the build's
// `trace-events-all`): one event per line,
//   [disable] name(type arg, ...) "format" [PRIx64 "more format" ...]
// with '#' comments (docs/devel/tracing.rst; scripts/tracetool/__init__.py). Formats that carry no
// argument names or types (simple, LTTng without the build's metadata) need it to print arguments
// the way the log backend does. The file must come from the same QEMU build as the trace.
import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { readLineBatches } from './lines.js';
import { InputError } from './records.js';
import { compileFormat, type Piece } from './formats/printf.js';

export interface TraceEventArg {
  type: string;
  name: string;
  /** Recorded as a length-prefixed string by the simple backend (tracetool is_string). */
  isString: boolean;
}

export interface TraceEventDef {
  name: string;
  args: TraceEventArg[];
  /** The format with string literals joined and PRI macros expanded, e.g. "chan=%d addr=0x%lx". */
  fmt: string;
  pieces: Piece[];
  /** The `disable` property: compiled out, never in a trace. */
  disabled: boolean;
}

export interface TraceEvents {
  path: string;
  events: Map<string, TraceEventDef>;
  /** Lines that are neither comments nor event declarations (counted, not fatal). */
  skipped: number;
}

const DECL = /^((?:[a-z]+\s+)*?)([A-Za-z_]\w*)\(([^)]*)\)\s*(.*)$/;
const PROPS = new Set(['disable', 'tcg', 'vcpu', 'tcg-trans', 'tcg-exec']);

/** tracetool's is_string: `char *` or `const char *`, one level of pointer. */
function isStringType(type: string): boolean {
  const t = type.replace(/\s+/g, ' ').trim();
  return /^(const )?char ?\*/.test(t) && (t.match(/\*/g) ?? []).length === 1;
}

function parseArgs(text: string): TraceEventArg[] | null {
  const t = text.trim();
  if (t === '' || t === 'void') return [];
  const out: TraceEventArg[] = [];
  for (const part of t.split(',')) {
    const m = /^(.*?)([A-Za-z_]\w*)\s*$/.exec(part.trim());
    if (!m || !m[1]!.trim()) return null;
    const type = m[1]!.trim();
    out.push({ type, name: m[2]!, isString: isStringType(type) });
  }
  return out;
}

/** PRIx64 → "lx": the glibc x86_64 expansion (64-bit, FAST16/32/64, PTR, MAX are long). */
function expandPri(macro: string): string | null {
  const m = /^PRI([diouxX])(8|16|32|64|PTR|MAX|LEAST8|LEAST16|LEAST32|LEAST64|FAST8|FAST16|FAST32|FAST64)$/.exec(macro);
  if (!m) return null;
  const size = m[2]!;
  const long = size === '64' || size === 'PTR' || size === 'MAX' || size === 'LEAST64' || size === 'FAST16' || size === 'FAST32' || size === 'FAST64';
  return `${long ? 'l' : ''}${m[1]}`;
}

function unescapeC(s: string): string {
  return s.replace(/\\(["\\'nrt0]|x[0-9a-fA-F]{1,2})/g, (_, e: string) => {
    switch (e[0]) {
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      case '0':
        return '\0';
      case 'x':
        return String.fromCharCode(parseInt(e.slice(1), 16));
      default:
        return e;
    }
  });
}

/** Joins `"a %" PRIx64 " b"` into `a %lx b`; null when the text is not a C string concatenation. */
export function joinFormat(text: string): string | null {
  let out = '';
  let i = 0;
  const n = text.length;
  let any = false;
  while (i < n) {
    const c = text[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < n && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (j >= n) return null;
      out += unescapeC(text.slice(i + 1, j));
      i = j + 1;
      any = true;
      continue;
    }
    const m = /^[A-Za-z_]\w*/.exec(text.slice(i));
    if (!m) return null;
    const exp = expandPri(m[0]);
    if (exp === null) return null;
    out += exp;
    i += m[0].length;
  }
  return any ? out : null;
}

/** Parses one declaration line; null for comments, blanks and lines that are not declarations. */
export function parseTraceEventLine(line: string): TraceEventDef | null {
  const t = line.trim();
  if (t === '' || t.startsWith('#')) return null;
  const m = DECL.exec(t);
  if (!m) return null;
  const props = m[1]!.trim().split(/\s+/).filter(Boolean);
  if (props.some((p) => !PROPS.has(p))) return null;
  const args = parseArgs(m[3]!);
  if (!args) return null;
  let fmtText = m[4]!.trim();
  // tcg events carry two formats ("trans", "exec"); the last one is the one printed.
  const split = /"\s*,\s*"/.exec(fmtText);
  if (split && props.includes('tcg')) fmtText = fmtText.slice(split.index + split[0].length - 1);
  const fmt = fmtText === '' ? '' : joinFormat(fmtText);
  if (fmt === null) return null;
  return { name: m[2]!, args, fmt, pieces: compileFormat(fmt), disabled: props.includes('disable') };
}

const cache = new Map<string, Promise<TraceEvents>>();

/** Loads (once per path) a trace-events file. Streamed by lines like any input. */
export function loadTraceEvents(path: string): Promise<TraceEvents> {
  let p = cache.get(path);
  if (!p) {
    p = readTraceEvents(path);
    cache.set(path, p);
  }
  return p;
}

async function readTraceEvents(path: string): Promise<TraceEvents> {
  const events = new Map<string, TraceEventDef>();
  let skipped = 0;
  try {
    for await (const batch of readLineBatches(path)) {
      for (const line of batch.lines) {
        const d = parseTraceEventLine(line);
        if (d) events.set(d.name, d);
        else if (line.trim() && !line.trim().startsWith('#')) skipped++;
      }
    }
  } catch (e) {
    throw new InputError(`trace-events ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (events.size === 0) throw new InputError(`trace-events ${path}: no event declarations in it (expected lines like: name(int arg) "arg %d")`);
  return { path, events, skipped };
}

/** Name of the file looked for beside an input when no --trace-events is given. */
export const TRACE_EVENTS_BESIDE = 'trace-events-all';

/**
 * The trace-events file for an input: the one given, else `trace-events-all` in the input's folder,
 * else none. A given file that cannot be read is an input error; a missing default is not.
 */
export async function traceEventsFor(input: string, given: string | undefined): Promise<TraceEvents | null> {
  if (given) return loadTraceEvents(given);
  if (input === '-') return null;
  const beside = join(dirname(input), TRACE_EVENTS_BESIDE);
  try {
    if (!(await stat(beside)).isFile()) return null;
  } catch {
    return null;
  }
  return loadTraceEvents(beside);
}
