// Streams a file as batches of lines without ever holding it whole: bytes are split at '\n'
// (CRLF tolerated), each line decoded on its own so a bad byte damages one line only, and lines
// longer than `maxLineBytes` are cut (counted as overlong) instead of growing a buffer forever.
import { createReadStream } from 'node:fs';

export interface LineBatch {
  /** Line texts; CR stripped. Empty when read with `strings: false` (then see `bytes`). */
  lines: string[];
  /** Lines in the batch (lines.length, or the bytes' line count without strings). */
  count: number;
  /** 1-based number of lines[0] in the file. */
  firstLine: number;
  /** Numbers (1-based) of lines that were cut at maxLineBytes. */
  overlong: number[];
  /** Bytes consumed so far (for progress). */
  bytesRead: number;
  /**
   * With `keepBytes`: the batch's lines as UTF-8 (CR stripped, cut lines cut), line i being
   * bytes[starts[i], ends[i]) — what a reader thread sends instead of strings (record-codec.ts).
   */
  bytes?: LineBytes;
}

export interface LineBytes {
  /** An ArrayBuffer of its own (transferable). */
  bytes: Buffer;
  starts: Uint32Array;
  ends: Uint32Array;
  /** Where each line starts in the (decompressed) input, in bytes: a plain file's lines can be read back from there. */
  offsets: Float64Array;
}

export interface LineReaderOptions {
  maxLineBytes?: number;
  batchLines?: number;
  highWaterMark?: number;
  /** Also give each batch its lines' bytes (LineBatch.bytes). */
  keepBytes?: boolean;
  /**
   * `false`: no line strings, only the bytes (implies keepBytes). For a reader that scans most
   * lines as bytes and decodes only the few it must (log-bytes.ts).
   */
  strings?: boolean;
}

export const DEFAULT_MAX_LINE_BYTES = 1 << 20;

export async function* readLineBatches(path: string, opts: LineReaderOptions = {}): AsyncGenerator<LineBatch> {
  const stream = createReadStream(path, { highWaterMark: opts.highWaterMark ?? 1 << 20 });
  yield* splitLines(stream, opts);
}

export async function* splitLines(source: AsyncIterable<Buffer | string>, opts: LineReaderOptions = {}): AsyncGenerator<LineBatch> {
  const maxLine = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const batchLines = opts.batchLines ?? 4096;
  let carry: Buffer | null = null; // partial line from the previous chunk
  let carryTruncated = false; // the partial line already exceeded maxLine: skip to next '\n'
  let carryAt = 0; // the input's offset of the carried line
  let lineNo = 1;
  let bytesRead = 0;
  let batch: LineBatch = { lines: [], count: 0, firstLine: 1, overlong: [], bytesRead: 0 };

  // With keepBytes: the lines pushed from the current chunk since the last flush are one region of
  // it, copied at once when the batch is handed out or the chunk is done (the chunk's buffer may be
  // reused by the reader); a line rebuilt from a carry is copied on its own.
  const strings = opts.strings !== false;
  const keep = opts.keepBytes === true || !strings;
  let store = keep ? Buffer.allocUnsafeSlow(1 << 19) : null;
  let storeLen = 0;
  // Each batch's line positions go straight into typed arrays of its own (handed out, and
  // transferred by a reader thread): no number arrays copied over at the end of each batch. A
  // batch holds at most batchLines lines (it is handed out when it has that many).
  let kept = 0;
  let starts = new Uint32Array(keep ? batchLines : 0);
  let ends = new Uint32Array(keep ? batchLines : 0);
  let offsets = new Float64Array(keep ? batchLines : 0);
  let region: Buffer | null = null; // the chunk the pending region is in
  let regionStart = 0;
  let regionEnd = 0;
  const ensure = (n: number) => {
    if (storeLen + n <= (store as Buffer).length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max((store as Buffer).length * 2, storeLen + n));
    (store as Buffer).copy(bigger, 0, 0, storeLen);
    store = bigger;
  };
  const flushRegion = () => {
    if (region === null) return;
    ensure(regionEnd - regionStart);
    region.copy(store as Buffer, storeLen, regionStart, regionEnd);
    storeLen += regionEnd - regionStart;
    region = null;
  };
  /** Records where line (bytes start..end of buf, at byte `at` of the input) lies in the store; `inPlace`: buf is the chunk being read. */
  const keepLine = (buf: Buffer, start: number, end: number, inPlace: boolean, at: number) => {
    offsets[kept] = at;
    if (!inPlace) {
      flushRegion();
      ensure(end - start);
      buf.copy(store as Buffer, storeLen, start, end);
      starts[kept] = storeLen;
      ends[kept++] = storeLen + end - start;
      storeLen += end - start;
      return;
    }
    if (region !== buf) {
      flushRegion();
      region = buf;
      regionStart = start;
    }
    const base = storeLen + (start - regionStart);
    starts[kept] = base;
    ends[kept++] = base + end - start;
    regionEnd = end;
  };
  const takeBytes = (): LineBytes => {
    flushRegion();
    const out = { bytes: (store as Buffer).subarray(0, storeLen), starts: starts.subarray(0, kept), ends: ends.subarray(0, kept), offsets: offsets.subarray(0, kept) };
    store = Buffer.allocUnsafeSlow(Math.max(1 << 19, storeLen));
    storeLen = 0;
    kept = 0;
    starts = new Uint32Array(batchLines);
    ends = new Uint32Array(batchLines);
    offsets = new Float64Array(batchLines);
    return out;
  };

  const decode = (buf: Buffer, start: number, end: number, inPlace: boolean, at: number): string => {
    if (end > start && buf[end - 1] === 0x0d) end--;
    if (keep) keepLine(buf, start, end, inPlace, at);
    if (!strings) return '';
    return buf.toString('utf8', start, end);
  };
  const push = (text: string, overlong: boolean) => {
    if (batch.count++ === 0) batch.firstLine = lineNo;
    if (strings) batch.lines.push(text);
    if (overlong) batch.overlong.push(lineNo);
    lineNo++;
  };

  for await (const chunk0 of source) {
    const chunk = typeof chunk0 === 'string' ? Buffer.from(chunk0) : chunk0;
    const base = bytesRead; // the input's offset of chunk[0]
    bytesRead += chunk.length;
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) break;
      if (carry !== null) {
        if (carryTruncated) {
          push(decode(carry, 0, carry.length, false, carryAt), true);
        } else {
          const room = maxLine - carry.length;
          const take = Math.min(nl - start, Math.max(room, 0));
          const whole = Buffer.concat([carry, chunk.subarray(start, start + take)]);
          push(decode(whole, 0, whole.length, false, carryAt), nl - start > take);
        }
        carry = null;
        carryTruncated = false;
      } else if (nl - start > maxLine) {
        push(decode(chunk, start, start + maxLine, true, base + start), true);
      } else if (!strings) {
        // The hot path (bytes only, the whole line in this chunk): decode, keepLine and push
        // written out, since the calls cost more than their bodies here.
        const end = nl > start && chunk[nl - 1] === 0x0d ? nl - 1 : nl;
        offsets[kept] = base + start;
        if (region !== chunk) {
          flushRegion();
          region = chunk;
          regionStart = start;
        }
        const at = storeLen + (start - regionStart);
        starts[kept] = at;
        ends[kept++] = at + end - start;
        regionEnd = end;
        if (batch.count++ === 0) batch.firstLine = lineNo;
        lineNo++;
      } else {
        push(decode(chunk, start, nl, true, base + start), false);
      }
      start = nl + 1;
      if (batch.count >= batchLines) {
        batch.bytesRead = bytesRead;
        if (keep) batch.bytes = takeBytes();
        yield batch;
        batch = { lines: [], count: 0, firstLine: lineNo, overlong: [], bytesRead };
      }
    }
    flushRegion(); // the next chunk may be read into this same buffer
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      if (carry === null) {
        carryAt = base + start;
        carry = rest.length > maxLine ? Buffer.from(rest.subarray(0, maxLine)) : Buffer.from(rest);
        carryTruncated = rest.length > maxLine;
      } else if (!carryTruncated) {
        const room = maxLine - carry.length;
        carry = Buffer.concat([carry, rest.subarray(0, Math.max(0, room))]);
        carryTruncated = rest.length > room;
      }
    }
  }
  if (carry !== null && (carry.length > 0 || carryTruncated)) push(decode(carry, 0, carry.length, false, carryAt), carryTruncated);
  batch.bytesRead = bytesRead;
  if (keep) batch.bytes = takeBytes();
  if (batch.count > 0) yield batch;
}
