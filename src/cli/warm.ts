// Reader threads started by the bin before it loads the CLI (ingest/worker-read.ts warmReaders):
// as many as the inputs named on the command line would get (worker-read.ts chooseWorkerInputs),
// judged from the sizes of the files named and of the files in the folders named (one level; a
// .gz file counted at four times its size, as the real choice does without reading its trailer;
// a simple trace not at all: its thread is started with a smaller heap when its input is known).
// Measured on the 128 MiB bench slice: the replay thread waited 110-135 ms for the first batch of
// a thread started when the run began. A guess that is too high costs an idle thread, stopped when
// the run is done; one too low, the wait.
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chooseWorkerInputs, spareCores, warmReaders } from '../ingest/worker-read.js';

/** Its size, or 0 for what gets no warm thread: not a file, or a simple trace (its reader thread is smaller: formats/simple.ts readerYoungMb). */
function sizeOf(path: string): number {
  try {
    const st = statSync(path);
    return st.isFile() && !isSimpleTrace(path) ? (path.endsWith('.gz') ? st.size * 4 : st.size) : 0;
  } catch {
    return 0;
  }
}

/** A simple trace begins with the u64 0xffffffffffffffff (its header record). */
function isSimpleTrace(path: string): boolean {
  const b = Buffer.alloc(8);
  const fd = openSync(path, 'r');
  try {
    return readSync(fd, b, 0, 8, 0) === 8 && b.readUInt32LE(0) === 0xffffffff && b.readUInt32LE(4) === 0xffffffff;
  } finally {
    closeSync(fd);
  }
}

/** Sizes of the files `argv` names, directly or in a folder it names. */
export function namedSizes(argv: readonly string[]): number[] {
  const sizes: number[] = [];
  for (const a of argv) {
    if (a.startsWith('-')) continue;
    try {
      if (statSync(a).isDirectory()) {
        for (const f of readdirSync(a)) sizes.push(sizeOf(join(a, f)));
        continue;
      }
    } catch {
      continue; // not a path (an option's value, a command name)
    }
    sizes.push(sizeOf(a));
  }
  return sizes;
}

/**
 * Only `check` reads on reader threads; with --html the timeline shows every line, read inline
 * (replay/stream.ts needsText), as timeline and convert read theirs. Synchronous on purpose: it runs
 * before the CLI loads, and bytes.ts traceBytesEstimate (the real choice's sizes) would await.
 */
export function warmFor(argv: readonly string[]): void {
  const command = argv.find((a) => !a.startsWith('-'));
  if (command !== 'check' || argv.some((a) => a === '--html' || a.startsWith('--html='))) return;
  warmReaders(chooseWorkerInputs(namedSizes(argv), 'auto', spareCores()).size);
}

