// What migtrace writes for people and CI logs: stdout carries the report only, stderr one-line
// diagnostics. Both can be made ASCII-only (--ascii) for CI logs that mangle Unicode, and a reader
// that goes away (`migtrace check traces | head`) ends the output quietly, not with a stack.
// Both are the invocation's own (cli/io.ts): its streams, its --ascii.
import { toAscii, type AsciiStyle } from '../report/ascii.js';
import { cliIo, outputState } from './io.js';

/** From now on, everything written here is ASCII, escaped the way `style` keeps it exact (or as close as text can). */
export function setAsciiOutput(style: AsciiStyle | null): void {
  outputState().ascii = style;
}

/** The output closes when its reader goes away (EPIPE): later writes are dropped, the exit code stays the run's. */
export function watchStdout(stream: NodeJS.WritableStream = cliIo().stdout): void {
  const state = outputState();
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    state.stdoutClosed = true;
  });
}

function closedPipe(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED';
}

// stdout is for the report only; wait until it is flushed so a piped consumer gets all of it.
export function writeOut(text: string, stream: NodeJS.WritableStream = cliIo().stdout): Promise<void> {
  const state = outputState();
  const stdout = cliIo().stdout;
  if (state.stdoutClosed && stream === stdout) return Promise.resolve();
  const out = state.ascii ? toAscii(text, state.ascii) : text;
  return new Promise((resolve, reject) => {
    stream.write(out, (err) => {
      if (!err) return resolve();
      if (!closedPipe(err)) return reject(err);
      if (stream === stdout) state.stdoutClosed = true;
      resolve();
    });
  });
}

const PIECES_PER_WRITE = 1 << 16;

/** A report in pieces (report/index.ts PIECES), written as it is made, about 64 KiB a write. */
export async function writeOutPieces(pieces: Iterable<string>, stream: NodeJS.WritableStream = cliIo().stdout): Promise<void> {
  const state = outputState();
  for (const text of batches(pieces)) {
    await writeOut(text, stream);
    if (state.stdoutClosed && stream === cliIo().stdout) return; // the reader went away: make no more of it
  }
}

/** Pieces joined into strings of about 64 KiB (a write each, not one per line). */
export function* batches(pieces: Iterable<string>): Generator<string> {
  let buf: string[] = [];
  let size = 0;
  for (const p of pieces) {
    buf.push(p);
    size += p.length;
    if (size >= PIECES_PER_WRITE) {
      yield buf.join('');
      buf = [];
      size = 0;
    }
  }
  if (buf.length) yield buf.join('');
}

/** One diagnostic line (or lines) on stderr. */
export function writeErr(text: string): void {
  const { ascii } = outputState();
  cliIo().stderr.write(ascii ? toAscii(text, 'text') : text);
}
