// The bench trace in the other shapes issue #6 names, written from the log files as streams:
//   gzip    — the same log files gzip-compressed (level 6, zlib's default);
//   ftrace  — each event as the kernel renders QEMU's ftrace backend (a trace_marker write) in
//             tracefs `trace`: `comm-TID (PID) [CPU] flags sec.usec: tracing_mark_write: name args`,
//             after the tracefs header; TGID column on, timestamps kept.
// (The binary `simple` format is built from the self-built run's real .simple files instead:
// bench/make-simple.ts.)
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

const FTRACE_HEADER = `# tracer: nop
#
# entries-in-buffer/entries-written: 0/0   #P:2
#
#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
#              | |         |   |||||     |         |
`;
const LINE = /^(\d+)@(\d+\.\d+):(.*)$/;

export async function gzipFile(from: string, to: string): Promise<void> {
  await pipeline(createReadStream(from), createGzip(), createWriteStream(to));
}

export async function ftraceFile(from: string, to: string, pid: number): Promise<void> {
  const out = createWriteStream(to);
  const write = (s: string) => (out.write(s) ? Promise.resolve() : new Promise<void>((r) => out.once('drain', () => r())));
  await write(FTRACE_HEADER);
  let buf = '';
  for await (const l of createInterface({ input: createReadStream(from), crlfDelay: Infinity })) {
    const m = LINE.exec(l);
    if (!m) continue;
    const tid = Number(m[1]);
    buf += `${`qemu-${tid}`.padStart(22)} (${String(pid).padStart(7)}) [${String(tid % 2).padStart(3, '0')}] ..... ${m[2]}: tracing_mark_write: ${m[3]}\n`;
    if (buf.length > 1 << 20) {
      await write(buf);
      buf = '';
    }
  }
  await write(buf);
  await new Promise((r) => out.end(r));
}
