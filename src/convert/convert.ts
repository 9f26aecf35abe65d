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

/**
 * Where convert writes when given no file: the CLI's standard output (cli/output.ts writeOut: a
 * write is done once it is out, and a reader that went away closes it).
 */
export interface TextSink {
  write(text: string): Promise<void>;
  /** Its reader went away: nothing more is taken, and convert stops reading its inputs. */
  closed(): boolean;
}

/** Writes the converted stream to `output` (a file path, .gz compressed) or, for "-" or undefined, to `stdout`. */
export async function convert(opts: ConvertOptions, output: string | undefined, stdout?: TextSink): Promise<ConvertSummary> {
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

  const out = openOutput(output, stdout);
  const write = async (text: string) => {
    if (out.closed()) throw new OutputClosed();
    await out.write(text);
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
    summary.outputClosed = out.closed(); // at its very last write
  } catch (e) {
    // The reader went away (`convert … | head`): the output ends there, quietly, and so does the
    // reading (the replay stops; its reader threads end with it).
    if (!(e instanceof OutputClosed)) throw e;
    summary.outputClosed = true;
  } finally {
    await out.done();
  }
  return summary;
}

class OutputClosed extends Error {}

interface Output extends TextSink {
  done(): Promise<void>;
}

function openOutput(output: string | undefined, stdout: TextSink | undefined): Output {
  if (output === undefined || output === '-') {
    if (!stdout) throw new Error('convert: no standard output given');
    return { write: (t) => stdout.write(t), closed: () => stdout.closed(), done: async () => {} };
  }
  const file = createWriteStream(output);
  const failed = new Promise<never>((_, reject) => file.once('error', (e) => reject(new InputError(`-o ${output}: cannot write (${(e as NodeJS.ErrnoException).code ?? e.message})`))));
  failed.catch(() => {});
  const stream: Writable = output.endsWith('.gz') ? createGzip() : file;
  if (stream !== file) stream.pipe(file);
  return {
    write: async (t) => {
      if (!stream.write(t)) await Promise.race([once(stream, 'drain'), failed]);
    },
    closed: () => false,
    done: async () => {
      stream.end();
      await Promise.race([once(file, 'close'), failed]);
    },
  };
}
