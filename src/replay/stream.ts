// The replay's stream: opens every input of an assembled run once (large ones on reader threads),
// merges them in time order (merge.ts) and hands each record to the observers in turn. This is
// the only place a run's inputs are streamed; what comes after reads lines back by offset only.
import { fileSize, newCounters, readTraceRecords, STDIN, type InputCounters, type TraceRecord } from '../ingest/trace-input.js';
import { chooseWorkerInputs, readInWorker, spareCores } from '../ingest/worker-read.js';
import { traceBytesEstimate } from '../ingest/bytes.js';
import { patternsOf, type ArgsUse, type Catalog } from '../model/catalog.js';
import type { AssembledRun, RunSpec } from '../assembly/types.js';
import type { UnparsedSample } from '../types.js';
import { mergeByTime } from './merge.js';
import type { ReplayObserver, Seen } from './observer.js';

export interface OpenOptions {
  catalog: Catalog;
  maxUnparsedSamples: number;
  traceEvents?: string;
  /** See AnalyzeOptions.readers. */
  readers?: 'auto' | 'inline' | 'worker';
  /** An observer shows trace lines: every line becomes a string (no read-back, no reader threads). */
  needsText?: boolean;
  /** Which events' arguments the observers read (catalog.ts argsUse); absent: all. */
  argsUse?: ArgsUse;
}

export interface OpenedInputs {
  sources: AsyncIterable<TraceRecord[]>[];
  counters: InputCounters[];
  /** Unparsed lines kept as samples, in the order the readers met them. */
  samples: UnparsedSample[];
}

/** Starts one reader per input; nothing is read until the stream is replayed. */
export async function openInputs(spec: RunSpec, run: AssembledRun, opts: OpenOptions): Promise<OpenedInputs> {
  const { inputs, formats } = run;
  const counters = inputs.map((i) => newCounters(i.path));
  const samples: UnparsedSample[] = [];
  // Large files are parsed on threads of their own while this one replays (same records, same counts).
  const sizes = await Promise.all(inputs.map(async (inp) => (inp.path === STDIN ? 0 : traceBytesEstimate(inp.path, await fileSize(inp.path)))));
  const inWorker = chooseWorkerInputs(sizes, opts.needsText ? 'inline' : (opts.readers ?? 'auto'), spareCores());
  const patterns = inWorker.size > 0 ? patternsOf(opts.catalog) : [];
  const sources = inputs.map((inp, i) => {
    // textLater: lines of a plain file stay there until a report names them (read back at the end).
    const readOpts = { maxSamples: opts.maxUnparsedSamples, onUnparsed: (s: UnparsedSample) => samples.push(s), textLater: !opts.needsText, ...(opts.argsUse ? { argsUse: opts.argsUse } : {}) };
    if (inWorker.has(i) && inp.path !== STDIN) {
      const tid = spec.inputs[i]?.tid;
      const ws = { path: inp.path, input: i, side: inp.side, format: formats[i]!.name, patterns, ...(opts.traceEvents ? { traceEvents: opts.traceEvents } : {}), ...(tid !== undefined ? { tid } : {}) };
      return readInWorker(ws, counters[i] as InputCounters, readOpts, { youngMb: formats[i]!.readerYoungMb });
    }
    return readTraceRecords(inp.path, i, inp.side, counters[i] as InputCounters, readOpts, formats[i]);
  });
  return { sources, counters, samples };
}

/**
 * Replays the merged stream once through `observers`, in order: the first (the run's model) fills
 * `seen` for the ones after it. Progress is reported after each batch.
 */
export async function replayStream(opened: Pick<OpenedInputs, 'sources' | 'counters'>, observers: readonly ReplayObserver[], onProgress?: (bytesRead: number, totalBytes: number) => void): Promise<void> {
  const seen: Seen = { rows: [], role: 'unknown' };
  const { counters } = opened;
  const waits = observers.filter((o) => o.onBatch !== undefined);
  for await (const batch of mergeByTime(opened.sources)) {
    for (const rec of batch) for (const o of observers) o.onEvent(rec, seen);
    for (const o of waits) await o.onBatch!();
    if (onProgress) onProgress(counters.reduce((a, c) => a + c.bytes, 0), counters.reduce((a, c) => a + c.totalBytes, 0));
  }
}
