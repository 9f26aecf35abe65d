// What migtrace writes for people and CI logs: stdout carries the report only, stderr one-line
// diagnostics. Both can be made ASCII-only (--ascii) for CI logs that mangle Unicode, and a reader
// that goes away (`migtrace check traces | head`) ends the output quietly, not with a stack.
import { toAscii, type AsciiStyle } from '../report/ascii.js';

let ascii: AsciiStyle | null = null;
let stdoutClosed = false;

/** From now on, everything written here is ASCII, escaped the way `style` keeps it exact (or as close as text can). */
export function setAsciiOutput(style: AsciiStyle | null): void {
  ascii = style;
}

/** The output closes when its reader goes away (EPIPE): later writes are dropped, the exit code stays the run's. */
export function watchStdout(stream: NodeJS.WriteStream = process.stdout): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    stdoutClosed = true;
  });
}

function closedPipe(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED';
}

// stdout is for the report only; wait until it is flushed so a piped consumer gets all of it.
export function writeOut(text: string, stream: NodeJS.WritableStream = process.stdout): Promise<void> {
  if (stdoutClosed && stream === process.stdout) return Promise.resolve();
  const out = ascii ? toAscii(text, ascii) : text;
  return new Promise((resolve, reject) => {
    stream.write(out, (err) => {
      if (!err) return resolve();
      if (!closedPipe(err)) return reject(err);
      if (stream === process.stdout) stdoutClosed = true;
      resolve();
    });
  });
}

/** One diagnostic line (or lines) on stderr. */
export function writeErr(text: string): void {
  process.stderr.write(ascii ? toAscii(text, 'text') : text);
}
