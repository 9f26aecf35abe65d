// Opens any trace input: detects its format from the first bytes (or takes --input-format) and
// streams it through that format's reader. Formats live in ./formats, one module each.
import { open } from 'node:fs/promises';
import type { Side } from '../types.js';
import { LOG_FORMAT } from './formats/log.js';
import { InputError, type InputCounters, type InputReadOptions, type TraceFormat, type TraceRecord } from './records.js';

export { InputError, fileSize, newCounters, type InputCounters, type InputReadOptions, type TraceFormat, type TraceRecord } from './records.js';

export const FORMATS: readonly TraceFormat[] = [LOG_FORMAT];
const HEAD_BYTES = 65536;

export function formatByName(name: string): TraceFormat {
  const f = FORMATS.find((x) => x.name === name);
  if (!f) throw new InputError(`unknown input format '${name}' (known: ${FORMATS.map((x) => x.name).join(', ')})`);
  return f;
}

async function head(path: string): Promise<Buffer> {
  let fh;
  try {
    fh = await open(path, 'r');
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0);
    return buf.subarray(0, bytesRead);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(code === 'EISDIR' ? `${path}: is a directory, expected a trace file` : `${path}: cannot read (${code ?? (e as Error).message})`);
  } finally {
    await fh?.close();
  }
}

/** The most likely format of an input; an input no format recognises is an input error. */
export async function detectFormat(path: string): Promise<TraceFormat> {
  const h = await head(path);
  let best: TraceFormat | null = null;
  let score = 0;
  for (const f of FORMATS) {
    const s = f.detect(h);
    if (s > score) {
      score = s;
      best = f;
    }
  }
  if (!best || score < 0.05) {
    throw new InputError(`${path}: not a recognised trace (expected one of: ${FORMATS.map((f) => `${f.name} — ${f.describe}`).join('; ')})`);
  }
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
