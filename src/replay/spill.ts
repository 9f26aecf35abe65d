// Where a trace's judged migrations go when the report is streamed: each one, once judged, is
// written out as one JSON line to a file of its own and dropped from memory, and read back one at
// a time when the report is written. What a migration's report entry needs from the end of the
// trace (the thread summary, events the backend dropped) is added as it is read back, so memory
// does not grow with the number of migrations and the report is the same as when all are kept.
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';

const FLUSH_AT = 1 << 20;
const open = new Set<Spill<unknown>>();
// A check that stops on an error still removes its files.
process.once('exit', () => {
  for (const s of open) s.close();
});

/** Values written out as JSON lines in order, read back in the same order as often as needed. */
export class Spill<T> {
  // The file is made at the first value (a trace of one migration makes none).
  private dir: string | null = null;
  private fd: number | null = null;
  private closed = false;
  private pending: string[] = [];
  private pendingChars = 0;
  private written = 0;
  /** How many values were written. */
  count = 0;

  push(value: T): void {
    const line = `${JSON.stringify(value)}\n`;
    this.pending.push(line);
    this.pendingChars += line.length;
    this.count++;
    if (this.pendingChars >= FLUSH_AT) this.flush();
  }

  private flush(): void {
    if (!this.pending.length) return;
    if (this.closed) throw new Error('spill written after close');
    if (this.fd === null) {
      this.dir = mkdtempSync(join(tmpdir(), 'migtrace-episodes-'));
      this.fd = openSync(join(this.dir, 'episodes.jsonl'), 'w+');
      open.add(this as Spill<unknown>);
      // Unlinked at once where the system allows it: the open descriptor keeps the data, and a
      // process that dies without running its exit handlers (out of heap) leaves nothing behind.
      try {
        rmSync(this.dir, { recursive: true });
        this.dir = null;
      } catch {
        // (Windows: removed on close, or at exit.)
      }
    }
    const buf = Buffer.from(this.pending.join(''), 'utf8');
    for (let off = 0; off < buf.length; ) off += writeSync(this.fd, buf, off, buf.length - off, this.written + off);
    this.written += buf.length;
    this.pending = [];
    this.pendingChars = 0;
  }

  /** The values in the order written (each read is a fresh copy). */
  *read(): Generator<T> {
    if (this.closed) throw new Error('spill read after close');
    this.flush();
    if (this.fd === null) return;
    const fd = this.fd;
    const chunk = Buffer.alloc(FLUSH_AT);
    const decoder = new StringDecoder('utf8');
    let rest = '';
    for (let pos = 0, n = 0; (n = readSync(fd, chunk, 0, chunk.length, pos)) > 0; pos += n) {
      const text = rest + decoder.write(chunk.subarray(0, n));
      const lines = text.split('\n');
      rest = lines.pop()!;
      for (const l of lines) yield JSON.parse(l) as T;
    }
    if (rest) yield JSON.parse(rest) as T;
  }

  /** Removes the file; reading after this is an error. */
  close(): void {
    this.closed = true;
    this.pending = [];
    if (this.fd !== null) closeSync(this.fd);
    if (this.dir !== null) rmSync(this.dir, { recursive: true, force: true });
    this.fd = null;
    this.dir = null;
    open.delete(this as Spill<unknown>);
  }
}
