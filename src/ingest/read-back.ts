// Lines a reader left in their file (a plain file's scanned lines never become strings: on a reader
// thread, record-codec.ts; in the replay's own reads, text-reader.ts with textLater) are read back
// from their offsets when a report names them: a handful of reads at the end instead of a string
// per event.
import { closeSync, openSync, readSync } from 'node:fs';

/**
 * Enough bytes for what a location shows (300 characters of at most 4 bytes, and one more to
 * know the line goes on).
 */
export const READ_BACK_BYTES = 1204;

/**
 * The line starting at each offset of a plain file, as splitLines would have given it (up to '\n',
 * one trailing CR dropped), cut at `maxBytes`; or the error that kept it from being read.
 * Read synchronously: this runs once the replay is over, with nothing else to do, and an awaited
 * read is a thread-pool round trip each (5,688 locations of a 1 GiB trace: 229-280 ms awaited).
 */
export async function readLinesAt(path: string, offsets: readonly number[], maxBytes = READ_BACK_BYTES): Promise<Map<number, string | Error>> {
  const out = new Map<number, string | Error>();
  const wanted = [...new Set(offsets)].sort((a, b) => a - b);
  let fd: number | null = null;
  try {
    fd = openSync(path, 'r');
    const buf = Buffer.alloc(maxBytes);
    for (const at of wanted) {
      const bytesRead = readSync(fd, buf, 0, maxBytes, at);
      let end = buf.indexOf(0x0a);
      const whole = end >= 0 && end < bytesRead;
      if (!whole) end = bytesRead;
      if ((whole || bytesRead < maxBytes) && end > 0 && buf[end - 1] === 0x0d) end--;
      out.set(at, buf.toString('utf8', 0, end));
    }
  } catch (e) {
    const err = new Error((e as NodeJS.ErrnoException).code ?? (e as Error).message);
    for (const at of wanted) if (!out.has(at)) out.set(at, err);
  } finally {
    if (fd !== null) closeSync(fd);
  }
  return out;
}
