// `migtrace convert`: any inputs → one normalized event stream, merged in time order (the replay's
// stream, replay/stream.ts, with the writer as its observer), filtered, written as csv, jsonl or
// log. Streams end to end: memory does not grow with the input.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { detectFormatStrict, displayName, formatByName, InputError, newCounters, withFormatOptions, type InputCounters, type TraceFormat, type TraceRecord } from '../ingest/trace-input.js';
import type { Catalog } from '../model/catalog.js';
import type { ReplayObserver } from '../replay/observer.js';
import { replayStream } from '../replay/stream.js';
import { inferSide } from '../assembly/sides.js';
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
}

/** Writes the converted stream to `out` (a file path, "-" or undefined for stdout, .gz compressed). */
export async function convert(opts: ConvertOptions, output: string | undefined, stdout: Writable = process.stdout): Promise<ConvertSummary> {
  if (opts.inputs.length === 0) throw new InputError('convert: give at least one input');
  if (opts.inputs.filter((p) => p === '-').length > 1) throw new InputError('convert: standard input (-) can be given once');
  for (const [opt, t] of [['--from', opts.from], ['--to-time', opts.toTime]] as const) if (t !== undefined) parseTimeBound(t, opt);

  const formats: TraceFormat[] = [];
  const summary: ConvertSummary = { inputs: [], written: 0, samples: [] };
  const tidSides: Array<Map<number, Side> | undefined> = [];
  for (const [i, path] of opts.inputs.entries()) {
    const base = opts.inputFormat ? formatByName(opts.inputFormat) : await detectFormatStrict(path);
    const tid = opts.threadIds?.[i];
    const format = withFormatOptions(base, { ...(opts.traceEvents ? { traceEvents: opts.traceEvents } : {}), ...(tid !== undefined ? { tid } : {}) });
    formats.push(format);
    const named = opts.sides?.[i];
    const guess: { side: Side | null; why: string; tidSides?: Map<number, Side> } = named ? { side: named, why: 'named' } : await inferSide(path, format, opts.catalog);
    tidSides.push(guess.tidSides);
    summary.inputs.push({ path: displayName(path), format: format.name, side: guess.side, sideEvidence: guess.why, counters: newCounters(path) });
  }
  // One undecided input beside a decided single-side one is the other process (as in check).
  const decided = summary.inputs.filter((x) => x.side !== null);
  const undecided = summary.inputs.filter((x, i) => x.side === null && !tidSides[i]);
  if (undecided.length === 1 && decided.length === 1) undecided[0]!.side = decided[0]!.side === 'src' ? 'dst' : 'src';

  const sources = opts.inputs.map((path, i) =>
    formats[i]!.read(path, i, summary.inputs[i]!.side, summary.inputs[i]!.counters, {
      maxSamples: opts.maxUnparsedSamples ?? 20,
      onUnparsed: (s) => summary.samples.push(s),
    }),
  );

  const spec: FilterSpec = { ...(opts.events ? { events: opts.events } : {}), ...(opts.tids ? { tids: opts.tids } : {}), ...(opts.pids ? { pids: opts.pids } : {}), ...(opts.side ? { side: opts.side } : {}) };
  const fromBound = opts.from !== undefined ? parseTimeBound(opts.from, '--from') : null;
  const toBound = opts.toTime !== undefined ? parseTimeBound(opts.toTime, '--to-time') : null;
  let keep: ReturnType<typeof compileFilter> | null = fromBound || toBound ? null : compileFilter(spec);
  const writer = WRITERS[opts.to];

  const { stream, done } = openOutput(output, stdout);
  const write = async (text: string) => {
    if (!stream.write(text)) await once(stream, 'drain');
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
    await replayStream({ sources, counters: summary.inputs.map((i) => i.counters) }, [writerObserver]);
  } finally {
    await done();
  }
  return summary;
}

function openOutput(output: string | undefined, stdout: Writable): { stream: Writable; done: () => Promise<void> } {
  if (output === undefined || output === '-') {
    return { stream: stdout, done: async () => {} };
  }
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
  };
}
