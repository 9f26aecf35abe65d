// Whether an input ends where its writer stopped writing, or was cut: a trace backend writes whole
// records, so a text trace whose last line has no newline, a gzip stream that ends early or a
// binary record cut short means the input is a prefix of the trace. Rules that reason about what
// did not happen before the end of a trace must not take such a cut for silence.
import { open } from 'node:fs/promises';
import { STDIN } from './bytes.js';
import type { InputCounters } from './records.js';

/** Why the input ends early, or null when it ends on a whole record (or cannot be told: standard input). */
export async function cutReason(path: string, format: string, counters: InputCounters, truncatedRecord: boolean): Promise<string | null> {
  const gz = counters.notes.find((n) => /gzip stream ends early/.test(n));
  if (gz) return gz;
  if (truncatedRecord) return 'its last binary record is cut short';
  if (path === STDIN || format === 'simple' || path.endsWith('.gz') || counters.lines === 0) return null;
  const fh = await open(path, 'r').catch(() => null);
  if (!fh) return null;
  try {
    const { size } = await fh.stat();
    if (size === 0) return null;
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, size - 1);
    return b[0] === 0x0a ? null : 'its last line has no newline (the file was cut mid-line)';
  } finally {
    await fh.close();
  }
}
