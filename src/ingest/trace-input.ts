// Opens any trace input: detects its format from the first bytes (or takes --input-format) and
// streams it through that format's reader. Formats live in ./formats, one module each; bytes
// (file, .gz, standard input `-`) come from ./bytes.ts.
import type { Side } from '../types.js';
import { displayName, readHead } from './bytes.js';
import { BABELTRACE_FORMAT } from './formats/babeltrace.js';
import { CSV_FORMAT } from './formats/csv.js';
import { FTRACE_FORMAT } from './formats/ftrace.js';
import { JSONL_FORMAT } from './formats/jsonl.js';
import { LOG_FORMAT } from './formats/log.js';
import { SIMPLE_FORMAT } from './formats/simple.js';
import { SYSLOG_FORMAT } from './formats/syslog.js';
import { InputError, type InputCounters, type InputReadOptions, type TraceFormat, type TraceRecord } from './records.js';

export { InputError, fileSize, newCounters, withFormatOptions, type InputCounters, type InputReadOptions, type TraceFormat, type TraceRecord } from './records.js';
export { STDIN, displayName } from './bytes.js';

/** Every format, most specific first: on equal confidence the earlier one wins. */
export const FORMATS: readonly TraceFormat[] = [SIMPLE_FORMAT, CSV_FORMAT, JSONL_FORMAT, FTRACE_FORMAT, BABELTRACE_FORMAT, SYSLOG_FORMAT, LOG_FORMAT];

/** Other names people use for a format (accepted by --input-format). */
const ALIASES: Record<string, string> = {
  simpletrace: 'simple',
  'trace-cmd': 'ftrace',
  trace_pipe: 'ftrace',
  babeltrace2: 'babeltrace',
  lttng: 'babeltrace',
  ust: 'babeltrace',
  ndjson: 'jsonl',
  json: 'jsonl',
};

/** Names for --input-format's choices. */
export const FORMAT_NAMES: readonly string[] = [...FORMATS.map((f) => f.name), ...Object.keys(ALIASES)];

export function formatByName(name: string): TraceFormat {
  const n = ALIASES[name] ?? name;
  const f = FORMATS.find((x) => x.name === n);
  if (!f) throw new InputError(`unknown input format '${name}' (known: ${FORMATS.map((x) => x.name).join(', ')})`);
  return f;
}


/** Where an unrecognised input starts: its first non-blank line, shortened, for the error message. */
export interface FirstLine {
  line: number;
  text: string;
}

const PREVIEW_CHARS = 40;

export function firstLineOf(head: Buffer): FirstLine | null {
  const text = head.toString('latin1');
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const l = raw.replace(/\r$/, '');
    if (l.trim() === '') continue;
    // Control bytes other than tab: binary data, not worth showing.
    if (/[\x00-\x08\x0e-\x1f\x7f]/.test(l.slice(0, 200))) return { line: i + 1, text: 'binary data' };
    return { line: i + 1, text: JSON.stringify(l.length > PREVIEW_CHARS ? `${l.slice(0, PREVIEW_CHARS)}…` : l) };
  }
  return null;
}

/**
 * The input error for an input no format recognises: one short line with file and line. (It
 * used to list every format's description: 1,300 characters nobody reads in a CI log;
 * docs/formats.md has them.)
 */
export function notRecognised(path: string, first?: FirstLine | null): InputError {
  const at = first ? `${displayName(path)}:${first.line}: ` : `${displayName(path)}: `;
  const seen = first ? ` (${first.text})` : ' (no text in it)';
  return new InputError(`${at}not a recognised trace${seen}; expected QEMU's log backend (TID@sec.usec:event args) or simple, csv, jsonl, ftrace, babeltrace, syslog (docs/formats.md), or name one with --input-format`);
}

/**
 * A tar archive (a run folder packed, .tar or .tar.gz) is no trace: its members' lines would be
 * read as one stream, headers included. The head is decompressed already, so the tar header's
 * magic is at 257 either way.
 */
function isTar(head: Buffer): boolean {
  return head.length >= 262 && head.toString('latin1', 257, 262) === 'ustar';
}

/** A detected format; `fallback`: none recognised the head, read as a log (firstLine: for the error). */
export type DetectedFormat = TraceFormat & { fallback?: true; firstLine?: FirstLine | null };

/**
 * The most likely format of an input. When no format recognises the head, the input is read as
 * a log anyway (a CI job log can open with far more than 64 KiB of other output before its first
 * trace line); the caller says "not a recognised trace" if that finds no event (see run.ts).
 */
export async function detectFormat(path: string): Promise<DetectedFormat> {
  const h = await readHead(path);
  if (isTar(h)) throw new InputError(`${displayName(path)}: a tar archive, not a trace: unpack it (tar xf ${displayName(path)}) and give the folder`);
  let best: TraceFormat | null = null;
  let score = 0;
  for (const f of FORMATS) {
    const s = f.detect(h);
    if (s > score) {
      score = s;
      best = f;
    }
  }
  if (!best || score < 0.05) return { ...LOG_FORMAT, fallback: true, firstLine: firstLineOf(h) };
  return best;
}

export function readTraceRecords(
  path: string,
  input: number,
  side: Side | null,
  counters: InputCounters,
  opts: InputReadOptions,
  format: TraceFormat = LOG_FORMAT,
): AsyncGenerator<TraceRecord[]> {
  return format.read(path, input, side, counters, opts);
}

/** detectFormat for callers that read an input once and must know its format up front. */
export async function detectFormatStrict(path: string): Promise<TraceFormat> {
  const f = await detectFormat(path);
  if ('fallback' in f) throw notRecognised(path, f.firstLine);
  return f;
}
