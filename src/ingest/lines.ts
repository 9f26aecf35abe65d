// Streams a file as batches of lines without ever holding it whole: bytes are split at '\n'
// (CRLF tolerated), each line decoded on its own so a bad byte damages one line only, and lines
// longer than `maxLineBytes` are cut (counted as overlong) instead of growing a buffer forever.
import { createReadStream } from 'node:fs';

export interface LineBatch {
  /** Line texts; CR stripped. */
  lines: string[];
  /** 1-based number of lines[0] in the file. */
  firstLine: number;
  /** Numbers (1-based) of lines that were cut at maxLineBytes. */
  overlong: number[];
  /** Bytes consumed so far (for progress). */
  bytesRead: number;
}

export interface LineReaderOptions {
  maxLineBytes?: number;
  batchLines?: number;
  highWaterMark?: number;
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
  let lineNo = 1;
  let bytesRead = 0;
  let batch: LineBatch = { lines: [], firstLine: 1, overlong: [], bytesRead: 0 };

  const decode = (buf: Buffer, start: number, end: number): string => {
    if (end > start && buf[end - 1] === 0x0d) end--;
    // utf8Slice is what toString('utf8', ...) calls, minus its argument checks: one call per line.
    return (buf as unknown as { utf8Slice(s: number, e: number): string }).utf8Slice(start, end);
  };
  const push = (text: string, overlong: boolean) => {
    if (batch.lines.length === 0) batch.firstLine = lineNo;
    batch.lines.push(text);
    if (overlong) batch.overlong.push(lineNo);
    lineNo++;
  };

  for await (const chunk0 of source) {
    const chunk = typeof chunk0 === 'string' ? Buffer.from(chunk0) : chunk0;
    bytesRead += chunk.length;
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) break;
      if (carry !== null) {
        if (carryTruncated) {
          push(decode(carry, 0, carry.length), true);
        } else {
          const room = maxLine - carry.length;
          const take = Math.min(nl - start, Math.max(room, 0));
          const whole = Buffer.concat([carry, chunk.subarray(start, start + take)]);
          push(decode(whole, 0, whole.length), nl - start > take);
        }
        carry = null;
        carryTruncated = false;
      } else if (nl - start > maxLine) {
        push(decode(chunk, start, start + maxLine), true);
      } else {
        push(decode(chunk, start, nl), false);
      }
      start = nl + 1;
      if (batch.lines.length >= batchLines) {
        batch.bytesRead = bytesRead;
        yield batch;
        batch = { lines: [], firstLine: lineNo, overlong: [], bytesRead };
      }
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      if (carry === null) {
        carry = rest.length > maxLine ? Buffer.from(rest.subarray(0, maxLine)) : Buffer.from(rest);
        carryTruncated = rest.length > maxLine;
      } else if (!carryTruncated) {
        const room = maxLine - carry.length;
        carry = Buffer.concat([carry, rest.subarray(0, Math.max(0, room))]);
        carryTruncated = rest.length > room;
      }
    }
  }
  if (carry !== null && (carry.length > 0 || carryTruncated)) push(decode(carry, 0, carry.length), carryTruncated);
  batch.bytesRead = bytesRead;
  if (batch.lines.length > 0) yield batch;
}
