// Where an input's bytes come from: a file, a gzip file (recognised by its magic, whatever its
// name), or standard input (`-`), itself possibly gzip. Every source is streamed in chunks; nothing
// is read whole. Standard input can be read once only, so its head (what detection and side
// inference look at) is kept in memory, bounded, and handed to the one full read before the rest
// of the stream follows.
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InputError } from './records.js';

export const STDIN = '-';
/** Bytes a format's detect() sees. */
export const HEAD_BYTES = 65536;
/** Bytes of standard input kept for detection and side inference (the rest is streamed once). */
export const STDIN_HEAD_BYTES = 4 << 20;
const CHUNK = 1 << 20;
const GZ_CHUNK = 128 << 10;

export interface ByteSource {
  /** Decompressed bytes, in order. */
  chunks: AsyncIterable<Buffer>;
  /** Raw (possibly compressed) bytes consumed so far: progress is measured against the file size. */
  rawBytes(): number;
  /** Problems that did not stop the read (a truncated .gz): the reader adds them to its notes. */
  warnings: string[];
  /**
   * Whether the bytes so far are a plain file's own, byte for byte (not gzip, not standard input),
   * so a line can be read back later from its offset (read-back.ts).
   */
  rereadable(): boolean;
}

export function displayName(path: string): string {
  return path === STDIN ? '<stdin>' : path;
}

export function isGzip(b: Buffer): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

function readError(path: string, e: unknown): InputError {
  if (e instanceof InputError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EISDIR') return new InputError(`${path}: is a directory, expected a trace file`);
  // A named pipe (`<(zcat trace.gz)`): the format is detected from its head and the side from its
  // first events before it is read through, so it would have to be read more than once.
  if (code === 'ESPIPE') return new InputError(`${displayName(path)}: is a pipe, which migtrace cannot read more than once: give it on standard input (-), save it to a file, or pass the .gz file itself (migtrace reads gzip)`);
  return new InputError(`${displayName(path)}: cannot read (${code ?? (e as Error).message})`);
}

/** Raw chunks of a file or of stdin, counting bytes as they pass. */
async function* counted(src: AsyncIterable<Buffer | string>, path: string, count: { n: number }): AsyncGenerator<Buffer> {
  try {
    for await (const c of src) {
      const b = typeof c === 'string' ? Buffer.from(c) : c;
      count.n += b.length;
      yield b;
    }
  } catch (e) {
    throw readError(path, e);
  }
}

/** Decompresses when the stream starts with the gzip magic; passes it through otherwise. */
async function* maybeGunzip(raw: AsyncIterable<Buffer>, path: string, warnings: string[], count: { n: number }): AsyncGenerator<Buffer> {
  const it = raw[Symbol.asyncIterator]();
  let first: Buffer | null = null;
  try {
    // Two bytes decide; a first chunk of one byte (a pipe can do that) is joined with the next.
    while (first === null || first.length < 2) {
      const r = await it.next();
      if (r.done) break;
      first = first ? Buffer.concat([first, r.value]) : r.value;
    }
    if (first === null) return;
    const head = first;
    const all: AsyncIterable<Buffer> = {
      [Symbol.asyncIterator]: () => {
        let sentHead = false;
        return {
          next: async () => {
            if (!sentHead) {
              sentHead = true;
              return { done: false, value: head };
            }
            return it.next();
          },
          return: async () => (await it.return?.()) ?? { done: true, value: undefined },
        };
      },
    };
    if (!isGzip(head)) {
      yield* all;
      return;
    }
    yield* gunzip(all, path, warnings, count);
  } finally {
    await it.return?.();
  }
}

async function* gunzip(src: AsyncIterable<Buffer>, path: string, warnings: string[], count: { n: number }): AsyncGenerator<Buffer> {
  const input = Readable.from(src);
  const gz = createGunzip({ chunkSize: 256 << 10 });
  input.on('error', (e) => gz.destroy(e));
  input.pipe(gz);
  try {
    for await (const c of gz) yield c as Buffer;
  } catch (e) {
    if (e instanceof InputError) throw e;
    const err = e as NodeJS.ErrnoException;
    // A truncated .gz still gave us everything before the cut: keep it, and say so.
    if (err.code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(err.message)) {
      warnings.push(`gzip stream ends early (truncated .gz?): read up to compressed byte ${count.n}`);
      return;
    }
    throw new InputError(`${displayName(path)}: gzip data is corrupt near compressed byte ${count.n} (${err.message})`);
  } finally {
    input.destroy();
    gz.destroy();
  }
}

/** Standard input, read once: the head is kept (bounded) for detection and side inference. */
class StdinOnce {
  private it: AsyncIterator<Buffer> | null = null;
  private head: Buffer[] = [];
  private headLen = 0;
  private ended = false;
  private fullRead = false;
  readonly count = { n: 0 };
  readonly warnings: string[] = [];

  private iterator(): AsyncIterator<Buffer> {
    this.it ??= maybeGunzip(counted(process.stdin, STDIN, this.count), STDIN, this.warnings, this.count)[Symbol.asyncIterator]();
    return this.it;
  }

  private async fill(n: number): Promise<void> {
    if (this.fullRead) throw new InputError('<stdin>: standard input was already read (it can be read only once)');
    const it = this.iterator();
    while (!this.ended && this.headLen < n) {
      const r = await it.next();
      if (r.done) this.ended = true;
      else {
        this.head.push(r.value);
        this.headLen += r.value.length;
      }
    }
  }

  async headBytes(n: number): Promise<Buffer> {
    await this.fill(n);
    const b = Buffer.concat(this.head);
    return b.subarray(0, Math.min(n, b.length));
  }

  /** Just the kept head (side inference), or the head then the rest (the one full read). */
  async *chunks(headOnly: boolean): AsyncGenerator<Buffer> {
    await this.fill(STDIN_HEAD_BYTES);
    if (headOnly) {
      yield* [...this.head];
      return;
    }
    this.fullRead = true;
    const head = this.head;
    this.head = []; // the full read owns it now: memory is released as it is consumed
    this.headLen = 0;
    while (head.length) yield head.shift() as Buffer;
    if (this.ended) return;
    const it = this.iterator();
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
}

let stdin: StdinOnce | null = null;
function stdinOnce(): StdinOnce {
  stdin ??= new StdinOnce();
  return stdin;
}

export interface OpenOptions {
  headOnly?: boolean;
  highWaterMark?: number;
  /**
   * The consumer is done with each chunk before it asks for the next, and keeps no view of it
   * (splitLines copies what it carries over): a plain file is then read into one buffer, over and
   * over. A stream allocates a new buffer per chunk, freed only when the collector gets to it:
   * on a gigabyte trace that was 40 MiB of the peak RSS.
   */
  reuseChunks?: boolean;
}

/** Streams an input's (decompressed) bytes. */
export function openBytes(path: string, opts: OpenOptions = {}): ByteSource {
  if (path === STDIN) {
    const s = stdinOnce();
    return { chunks: s.chunks(opts.headOnly === true), rawBytes: () => s.count.n, warnings: s.warnings, rereadable: () => false };
  }
  const count = { n: 0 };
  const warnings: string[] = [];
  const size = opts.highWaterMark ?? CHUNK;
  // A gzip file is read GZ_CHUNK compressed bytes at a time: gunzip inflates each chunk whole, so
  // 1 MiB of compressed trace text put ~12 MiB of output buffers in flight at once.
  const streamed = () => maybeGunzip(counted(createReadStream(path, { highWaterMark: Math.min(size, GZ_CHUNK) }), path, count), path, warnings, count);
  const plain = { yes: false };
  return { chunks: opts.reuseChunks ? plainFileChunks(path, size, count, streamed, plain) : streamed(), rawBytes: () => count.n, warnings, rereadable: () => plain.yes };
}

/**
 * A plain file's bytes through one reused buffer; a gzip file through the stream (gunzip keeps its
 * input chunks). Read synchronously: a chunk of a file in the page cache is a memory copy, and an
 * awaited read handed it to libuv's pool and back, a wake-up per MiB that waits for a core when
 * the replay and the reader threads keep both busy (1 GiB bench pair, 3 interleaved runs:
 * 4.18-4.60 -> 4.09-4.29 s).
 */
async function* plainFileChunks(path: string, size: number, count: { n: number }, streamed: () => AsyncGenerator<Buffer>, plain: { yes: boolean }): AsyncGenerator<Buffer> {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const buf = Buffer.allocUnsafeSlow(size);
    let bytesRead = readSync(fd, buf, 0, size, null);
    if (isGzip(buf.subarray(0, bytesRead))) {
      closeSync(fd);
      fd = undefined;
      yield* streamed();
      return;
    }
    plain.yes = true;
    while (bytesRead > 0) {
      count.n += bytesRead;
      yield buf.subarray(0, bytesRead);
      bytesRead = readSync(fd, buf, 0, size, null);
    }
  } catch (e) {
    throw readError(path, e);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The first `n` decompressed bytes of an input (fewer if it is shorter). */
export async function readHead(path: string, n = HEAD_BYTES): Promise<Buffer> {
  if (path === STDIN) return stdinOnce().headBytes(n);
  let fh;
  let plain: Buffer;
  try {
    fh = await open(path, 'r');
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    plain = buf.subarray(0, bytesRead);
  } catch (e) {
    throw readError(path, e);
  } finally {
    await fh?.close();
  }
  if (!isGzip(plain)) return plain;
  const parts: Buffer[] = [];
  let len = 0;
  for await (const c of openBytes(path, { highWaterMark: 64 << 10 }).chunks) {
    parts.push(c);
    len += c.length;
    if (len >= n) break;
  }
  return Buffer.concat(parts).subarray(0, n);
}

/**
 * Roughly how many bytes of trace an input holds, to decide whether it is worth a reader thread:
 * its size; for gzip the size its trailer gives (ISIZE: the uncompressed size mod 2^32, of the
 * last member), but at least four times its size (trace text compresses 6-12x; a wrapped or
 * multi-member ISIZE falls back to that). 0 for standard input (it is read here).
 */
export async function traceBytesEstimate(path: string, size: number): Promise<number> {
  if (path === STDIN || size < 2) return path === STDIN ? 0 : size;
  let fh;
  try {
    fh = await open(path, 'r');
    const b = Buffer.alloc(4);
    await fh.read(b, 0, 2, 0);
    if (!isGzip(b)) return size;
    if (size < 18) return size * 4; // header and trailer alone take 18 bytes
    await fh.read(b, 0, 4, size - 4);
    return Math.max(size * 4, b.readUInt32LE(0));
  } catch {
    return size; // the reader will say what is wrong with it
  } finally {
    await fh?.close();
  }
}
