// Reads an input on a worker thread (read-worker.ts) and yields the same record batches, with the
// same counters and unparsed samples, as reading it in this thread would (tested record for record).
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Side, UnparsedSample } from '../types.js';
import type { RowPatterns } from '../model/catalog.js';
import { RecordDecoder } from './record-codec.js';
import type { EncodedBatch } from './records.js';
import { InputError, type InputCounters, type InputReadOptions, type TraceRecord } from './records.js';

export interface WorkerReadSpec {
  path: string;
  input: number;
  side: Side | null;
  /** A name formatByName knows: the worker builds its own reader. */
  format: string;
  /** The catalog's conditional row patterns: the reader matches them (record-codec.ts). */
  patterns: RowPatterns;
  traceEvents?: string;
  tid?: number;
  maxSamples: number;
  /** Batches the worker may post ahead of the consumer. */
  window: number;
}

type Msg =
  | { type: 'batch'; batch: EncodedBatch; counters: Omit<InputCounters, 'notes'>; samples: UnparsedSample[] }
  | { type: 'end'; counters: InputCounters; samples: UnparsedSample[] }
  | { type: 'error'; input: boolean; message: string };

/**
 * Inputs this large are worth a thread of their own. Measured with the byte-scanning readers
 * (bench pairs, the destination being the large input; ratio to a readline+regex pass, median of
 * 4-5 interleaved rounds; thread vs this thread): destination 42 MB 0.54 vs 0.60; 74 MB 0.72 vs
 * 0.70; 119 MB 0.94 vs 0.72 (gzip 0.87 vs 0.77), for 25-60 MiB more peak RSS.
 */
export const WORKER_MIN_BYTES = 96 * 1048576;

/** Cores left once this thread replays. */
export function spareCores(): number {
  return availableParallelism() - 1;
}

/**
 * Which inputs to read on worker threads: in `auto`, the largest ones of WORKER_MIN_BYTES or more
 * of trace text (bytes.ts traceBytesEstimate), one per spare core (each worker is a V8 heap of its
 * own, tens of MiB). The others stay on this thread, which replays: once the replay got cheaper, a
 * thread for the smaller input beside the large one (a "companion") no longer paid for its isolate,
 * its messages and its memory. Interleaved runs, a 127 MB source beside a 946 MB destination (1 GiB
 * bench pair), companion vs none: log 4.5-5.4 vs 4.2-4.7 s (peak RSS 207-231 vs 171-188 MiB);
 * ftrace 6.8-9.6 vs 5.8 s (251-272 vs 211-218); gzip 5.1-5.5 vs 5.6-6.5 s, whose source lines become
 * strings here (peak RSS 270-273 vs 214-224: over 256 MiB with it); the 128 MiB slice within noise,
 * 30-35 MiB less. Sizes of 0 (standard input) never go to a worker.
 */
export function chooseWorkerInputs(sizes: readonly number[], mode: 'auto' | 'inline' | 'worker', spare: number): Set<number> {
  if (mode === 'inline') return new Set();
  const idx = sizes.map((_, i) => i).filter((i) => (sizes[i] as number) > 0);
  if (mode === 'worker') return new Set(idx);
  const bySize = idx.sort((a, b) => (sizes[b] as number) - (sizes[a] as number) || a - b);
  return new Set(bySize.filter((i) => (sizes[i] as number) >= WORKER_MIN_BYTES).slice(0, Math.max(0, spare)));
}

/**
 * The reader's young generation: at 16 MiB an ftrace reader spent 28% of its time collecting (6.6 s
 * for the 256 MiB bench pair), at 32 MiB 4.2 s; log input gained ~7%; 64 MiB only raised the peak
 * RSS (to 257 MiB). A format whose reader makes few objects asks for less (TraceFormat.readerYoungMb).
 */
export const READER_YOUNG_MB = 32;

/** A reader thread, started before it has an input: its first message will be the input's spec. */
function spawnReader(youngMb = READER_YOUNG_MB): Worker {
  const w = new Worker(new URL('./read-worker.js', import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: youngMb } });
  w.unref(); // an idle reader never keeps the process alive
  return w;
}

// Reader threads started ahead of their inputs (with READER_YOUNG_MB). A thread takes 100-150 ms
// from its start to its first batch (its module graph, then cold code), and the replay thread
// waited that long: the bin starts them before it loads the CLI (cli/warm.ts), so they load while it does.
const warm: Worker[] = [];

export function warmReaders(count: number): void {
  for (let i = 0; i < count; i++) warm.push(spawnReader());
}

/** Stops the warm threads no input took (analyzeRun, when its run is done). */
export async function releaseReaders(): Promise<void> {
  await Promise.all(warm.splice(0).map((w) => w.terminate()));
}

/**
 * Starts reading `spec` on a reader thread now (a warm one if there is one; it reads at most
 * `window` batches ahead) and yields its records when iterated.
 */
export function readInWorker(spec: Omit<WorkerReadSpec, 'maxSamples' | 'window'>, counters: InputCounters, opts: InputReadOptions, thread: { window?: number; youngMb?: number } = {}): AsyncIterable<TraceRecord[]> {
  const { window = 8, youngMb = READER_YOUNG_MB } = thread;
  const worker = (youngMb === READER_YOUNG_MB ? warm.pop() : undefined) ?? spawnReader(youngMb);
  const queue: Msg[] = [];
  let failure = null as Error | null; // set by the worker's callbacks
  let wake: (() => void) | null = null;
  const notify = () => {
    wake?.();
    wake = null;
  };
  worker.on('message', (m: Msg) => {
    queue.push(m);
    notify();
  });
  worker.on('error', (e) => {
    failure = e;
    notify();
  });
  worker.on('exit', (code) => {
    if (code !== 0 && !failure) failure = new Error(`reader thread for ${spec.path} exited with code ${code}`);
    notify();
  });
  worker.postMessage({ ...spec, maxSamples: opts.maxSamples, window } satisfies WorkerReadSpec);
  return (async function* () {
    worker.ref(); // the replay waits on it now
    const decoder = new RecordDecoder(spec.input, opts.argsUse);
    // Credits go back a few at a time: each message costs this thread ~50 µs (the reader's
    // wake-up, on a 2-core machine: 3,120 of them took 158 ms of a 1 GiB replay, measured).
    const step = Math.max(1, window >> 1);
    let owed = 0;
    try {
      for (;;) {
        const m = queue.shift();
        if (!m) {
          if (failure) throw failure;
          await new Promise<void>((r) => (wake = r));
          continue;
        }
        if (m.type === 'error') throw m.input ? new InputError(m.message) : new Error(m.message);
        for (const s of m.samples) opts.onUnparsed?.(s);
        Object.assign(counters, m.counters);
        if (m.type === 'end') return;
        const records = decoder.decode(m.batch);
        if (++owed === step) {
          worker.postMessage(owed); // that many more batches may come
          owed = 0;
        }
        yield records;
      }
    } finally {
      // Also after 'end': the worker's message listener would keep its thread alive.
      await worker.terminate();
    }
  })();
}
