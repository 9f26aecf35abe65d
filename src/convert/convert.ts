// `migtrace convert`: any inputs → one normalized event stream, merged in time order (the replay's
// stream, replay/stream.ts, with the writer as its observer), filtered, written as csv, jsonl or
// log. Each input's format and side come from the assembly stage, as for check (an input whose
// side cannot be told is written with none). Streams end to end: memory does not grow with the input.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { displayName, InputError, notRecognised, type DetectedFormat, type InputCounters, type TraceRecord } from '../ingest/trace-input.js';
import type { Catalog } from '../model/catalog.js';
import type { ReplayObserver } from '../replay/observer.js';
import { openInputs, replayStream } from '../replay/stream.js';
import { assembleRun } from '../assembly/assemble.js';
import type { RunSpec } from '../assembly/types.js';
import type { Side, UnparsedSample } from '../types.js';
import { compileFilter, type FilterSpec } from './filter.js';
import { parseTimeBound } from './time.js';
import { WRITERS, type OutputFormat } from './writers.js';

export interface ConvertOptions {
  inputs: string[];
  to: OutputFormat;
  events?: string[];
  from?: string;
  toTime?: string;
  tids?: number[];
  pids?: number[];
  side?: Side;
  /** Force every input's format (see FORMATS). */
  inputFormat?: string;
  traceEvents?: string;
  /** Per input, a side the user named (skips inference). */
  sides?: Array<Side | undefined>;
  /** Per input, the thread id of a per-thread file (from its name, as a run folder gives it). */
  threadIds?: Array<number | undefined>;
  catalog: Catalog;
  maxUnparsedSamples?: number;
}

export interface ConvertSummary {
  inputs: Array<{ path: string; format: string; side: Side | null; sideEvidence: string; counters: InputCounters }>;
  written: number;
  samples: UnparsedSample[];
  /** Standard output's reader went away before the end (`| head`): reading stopped there. */
  outputClosed: boolean;
}

/** Writes the converted stream to `out` (a file path, "-" or undefined for stdout, .gz compressed). */
export async function convert(opts: ConvertOptions, output: string | undefined, stdout: Writable = process.stdout): Promise<ConvertSummary> {
  if (opts.inputs.length === 0) throw new InputError('convert: give at least one input');
  if (opts.inputs.filter((p) => p === '-').length > 1) throw new InputError('convert: standard input (-) can be given once');
  for (const [opt, t] of [['--from', opts.from], ['--to-time', opts.toTime]] as const) if (t !== undefined) parseTimeBound(t, opt);

  const run: RunSpec = {
    name: 'convert',
    inputs: opts.inputs.map((path, i) => {
      const side = opts.sides?.[i];
      const tid = opts.threadIds?.[i];
      return { path, ...(side ? { side } : {}), ...(opts.inputFormat ? { format: opts.inputFormat } : {}), ...(tid !== undefined ? { tid } : {}) };
    }),
  };
  const assembled = await assembleRun(run, opts.catalog, opts.traceEvents, { undecided: 'keep' });
  const { tidSides } = assembled;
  // An input no format recognised is refused, even with its side named: convert writes records,
  // and a file of none is a mistake to say, not an empty output (check reads it as unparsed lines).
  assembled.formats.forEach((f, i) => {
    const d = f as DetectedFormat;
    if (d.fallback) throw notRecognised(opts.inputs[i]!, d.firstLine ?? null);
  });
  // Every line as read (thread names, process ids): the text is what convert writes.
  const opened = await openInputs(run, assembled, { catalog: opts.catalog, maxUnparsedSamples: opts.maxUnparsedSamples ?? 20, needsText: true });
  const summary: ConvertSummary = {
    inputs: assembled.inputs.map((inp, i) => ({ path: displayName(inp.path), format: inp.format, side: inp.side, sideEvidence: inp.sideEvidence, counters: opened.counters[i]! })),
    written: 0,
    samples: opened.samples,
    outputClosed: false,
  };

  const spec: FilterSpec = { ...(opts.events ? { events: opts.events } : {}), ...(opts.tids ? { tids: opts.tids } : {}), ...(opts.pids ? { pids: opts.pids } : {}), ...(opts.side ? { side: opts.side } : {}) };
  const fromBound = opts.from !== undefined ? parseTimeBound(opts.from, '--from') : null;
  const toBound = opts.toTime !== undefined ? parseTimeBound(opts.toTime, '--to-time') : null;
  let keep: ReturnType<typeof compileFilter> | null = fromBound || toBound ? null : compileFilter(spec);
  const writer = WRITERS[opts.to];

  const { stream, done, closed } = openOutput(output, stdout);
  const write = async (text: string) => {
    if (closed.now) throw new OutputClosed();
    if (!stream.write(text)) await Promise.race([once(stream, 'drain'), closed.signal]);
  };
  // The records as the replay streams them (replay/stream.ts), with this writer its only observer:
  // convert needs no model, only the merged stream.
  const sideOf = (rec: TraceRecord) => (rec.kind === 'event' ? (rec.side ?? (rec.tid !== null ? tidSides[rec.input]?.get(rec.tid) : undefined) ?? null) : (summary.inputs[rec.input]?.side ?? null));
  let text = '';
  const writerObserver: ReplayObserver = {
    onEvent(rec) {
      if (keep === null) {
        // Relative bounds (+S) count from the first timestamped record.
        if (rec.ts === null) return;
        keep = compileFilter({ ...spec, ...(fromBound ? { fromUs: fromBound(rec.ts) } : {}), ...(toBound ? { toUs: toBound(rec.ts) } : {}) });
      }
      const side = sideOf(rec);
      if (!keep(rec, side)) return;
      text += writer.line(rec, side);
      summary.written++;
    },
    async onBatch() {
      if (!text) return;
      const t = text;
      text = '';
      await write(t);
    },
  };
  try {
    if (writer.header) await write(writer.header);
    await replayStream(opened, [writerObserver]);
  } catch (e) {
    // The reader went away (`convert … | head`): the output ends there, quietly, and so does the
    // reading (the replay stops; its reader threads end with it).
    if (!(e instanceof OutputClosed)) throw e;
    summary.outputClosed = true;
  } finally {
    await done();
  }
  return summary;
}

class OutputClosed extends Error {}

/** Whether standard output's reader went away (EPIPE): `now`, or `signal` resolving when it does. */
interface Closed {
  now: boolean;
  signal: Promise<void>;
}

const NEVER: Closed = { now: false, signal: new Promise<void>(() => {}) };

function openOutput(output: string | undefined, stdout: Writable): { stream: Writable; done: () => Promise<void>; closed: Closed } {
  if (output === undefined || output === '-') return openStdout(stdout);
  const file = createWriteStream(output);
  const failed = new Promise<never>((_, reject) => file.once('error', (e) => reject(new InputError(`-o ${output}: cannot write (${(e as NodeJS.ErrnoException).code ?? e.message})`))));
  failed.catch(() => {});
  if (!output.endsWith('.gz')) {
    return {
      stream: file,
      done: async () => {
        file.end();
        await Promise.race([once(file, 'close'), failed]);
      },
      closed: NEVER,
    };
  }
  const gz = createGzip();
  gz.pipe(file);
  return {
    stream: gz,
    done: async () => {
      gz.end();
      await Promise.race([once(file, 'close'), failed]);
    },
    closed: NEVER,
  };
}

function openStdout(stdout: Writable): { stream: Writable; done: () => Promise<void>; closed: Closed } {
  let failure: Error | null = null;
  let gone = (): void => {};
  const closed: Closed = { now: false, signal: new Promise<void>((resolve) => (gone = resolve)) };
  const onError = (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') {
      closed.now = true;
      gone();
    } else failure = e;
  };
  stdout.on('error', onError);
  return {
    stream: stdout,
    closed,
    // Done once all of it is out: writes the pipe has not taken yet are queued in the process,
    // and the bin's exit would drop them (`convert … | slow reader` lost its last lines).
    done: async () => {
      if (!closed.now && !stdout.destroyed) await Promise.race([new Promise<void>((resolve) => stdout.write('', () => resolve())), closed.signal]);
      stdout.off('error', onError);
      if (failure) throw failure;
    },
  };
}
