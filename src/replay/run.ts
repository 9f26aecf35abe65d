// One run (a migration's source and/or destination traces) end to end, in four steps a reader can
// follow: assembly (each input's format and side: assembly/), the replay (the inputs streamed once,
// merged in time order, through the model and rules and any other observers: stream.ts, model.ts),
// read-back (the few lines a report names that were left in their file: read-back.ts) and the
// result (result.ts). Pure with respect to output: nothing here prints.
import { cutReason } from '../ingest/input-end.js';
import { releaseReaders } from '../ingest/worker-read.js';
import { argsUse, type Catalog } from '../model/catalog.js';
import type { Rule } from '../rules/rule.js';
import type { RunResult, Side } from '../types.js';
import { assembleRun } from '../assembly/assemble.js';
import type { AssembledRun, RunSpec } from '../assembly/types.js';
import { RunModel } from './model.js';
import type { ReplayObserver } from './observer.js';
import { readBackTexts } from './read-back.js';
import { buildResult, EpisodeSink, type EpisodeStream } from './result.js';
import { openInputs, replayStream, type OpenedInputs } from './stream.js';
import type { InputCounters, TraceRecord } from '../ingest/trace-input.js';

export type { RunSpec } from '../assembly/types.js';
export type { ReplayObserver } from './observer.js';
export { decideVerdict, type EpisodeStream } from './result.js';

/**
 * Migrations of one trace whose model is kept open at a time. An older one is judged when this many
 * later ones have begun: by then nothing of it is still happening, and a trace of thousands of
 * migrations runs in memory that does not grow with each one's model (1083 migrations: the same
 * result to the byte as judging all at the end, bar the note that says so).
 */
export const KEEP_OPEN = 64;

export interface AnalyzeOptions {
  catalog: Catalog;
  /** The rules to run (the CLI gives rules/index.ts's RULES): the engine imports no rule itself. */
  rules: readonly Rule[];
  stuckAfterMs: number;
  maxUnparsedSamples: number;
  /** A QEMU trace-events file for formats that need one (simple, LTTng); default: beside the input. */
  traceEvents?: string;
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /**
   * Where inputs are parsed: `auto` (default) gives the largest inputs of 96 MiB or more (gzip:
   * four times its size) a worker thread each, one per spare core; `inline` never (batch workers:
   * the cores are taken); `worker` every input but standard input (tests).
   */
  readers?: 'auto' | 'inline' | 'worker';
  /** Migrations kept open at a time (default KEEP_OPEN; tests use fewer). */
  keepOpen?: number;
  /**
   * Watch the same replay (the timeline, the HTML report): each gets every record once, after the
   * model and its rules, so nothing needs to read the inputs again.
   */
  observers?: readonly ReplayObserver[];
  /** Inputs already read and assembled (one test of a stream that holds many: replay/tests.ts). */
  prepared?: PreparedRun;
}

/** A run whose records were read already: its assembly, each input's records, counts and cut. */
export interface PreparedRun {
  assembled: AssembledRun;
  sources: AsyncIterable<TraceRecord[]>[];
  counters: InputCounters[];
  /** Per input: why it ends early (the part of a cut log that holds its end), else null. */
  cuts: Array<string | null>;
}

export async function analyzeRun(spec: RunSpec, opts: AnalyzeOptions): Promise<RunResult> {
  return (await analyze(spec, opts, null)).result;
}

/**
 * The same, for a report written as a stream: each migration after the first is written out once
 * judged (replay/spill.ts) instead of kept, and its report entry is read back from `episodes`
 * (in order, as often as needed; null when the trace holds one migration). The result has no
 * `episodes` then; everything else is as analyzeRun's. Close `episodes` when done.
 */
export async function analyzeRunStreamed(spec: RunSpec, opts: AnalyzeOptions): Promise<{ result: RunResult; episodes: EpisodeStream | null }> {
  const sink = new EpisodeSink();
  try {
    return await analyze(spec, opts, sink);
  } catch (e) {
    sink.close();
    throw e;
  }
}

async function analyze(spec: RunSpec, opts: AnalyzeOptions, sink: EpisodeSink | null): Promise<{ result: RunResult; episodes: EpisodeStream | null }> {
  try {
    return await analyzeInputs(spec, opts, sink);
  } finally {
    await releaseReaders(); // warm reader threads this run did not take (cli/warm.ts)
  }
}

async function analyzeInputs(spec: RunSpec, opts: AnalyzeOptions, sink: EpisodeSink | null): Promise<{ result: RunResult; episodes: EpisodeStream | null }> {
  const prepared = opts.prepared;
  const assembled = prepared?.assembled ?? (await assembleRun(spec, opts.catalog, opts.traceEvents));
  const keepOpen = opts.keepOpen ?? KEEP_OPEN;
  const others = opts.observers ?? [];
  const model = new RunModel(spec, assembled, { catalog: opts.catalog, rules: opts.rules, stuckAfterMs: opts.stuckAfterMs, keepOpen, onEpisode: (i) => others.forEach((o) => o.onEpisode?.(i)), ...(sink ? { onJudged: sink.take } : {}) });
  // Only the model and its rules watching: the events whose arguments they never read come without
  // them (other observers say nothing of what they read: they get every argument).
  const argsRead = others.length === 0 ? { argsUse: argsUse(opts.catalog, new Set(opts.rules.flatMap((r) => r.readsArgs ?? []))) } : {};
  const opened = prepared ? { sources: prepared.sources, counters: prepared.counters, samples: [] } : await openInputs(spec, assembled, { ...opts, needsText: others.some((o) => o.needsText), ...argsRead });
  await replayStream(opened, [model, ...others], opts.onProgress);
  const cuts = prepared?.cuts ?? (await inputCuts(assembled, opened));
  model.cutOf = cutOfSide(assembled, cuts);
  const judged = model.judgeRest();
  await readBackTexts(model.leftInFile, model.fileOf, (i) => assembled.formats[i]!);
  return buildResult({ spec, assembled, model, judged, counters: opened.counters, samples: opened.samples, cuts, keepOpen, ...(sink ? { sink } : {}) });
}

/** Per input, why it ends early: what comes after its cut is unknown, not absent. */
async function inputCuts({ inputs, formats }: AssembledRun, { counters, samples }: OpenedInputs): Promise<Array<string | null>> {
  return Promise.all(inputs.map((inp, i) => cutReason(inp.path, formats[i]!.name, counters[i]!, samples.some((s) => s.file === inp.path && s.reason.startsWith('truncated record')))));
}

/** The first cut input of a side (an input of both processes counts for each). */
function cutOfSide({ inputs }: AssembledRun, cuts: Array<string | null>): (side: Side) => string | null {
  return (side) => {
    const i = inputs.findIndex((inp, k) => cuts[k] !== null && (inp.side === side || (inp.mixed === true && inp.side === null)));
    return i < 0 ? null : `${inputs[i]!.path}: ${cuts[i]}`;
  };
}
