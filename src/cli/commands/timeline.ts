// `migtrace timeline`: analyse one run, then stream its inputs a second time to keep the events of
// the selected time windows (timeline/collect.ts decides what is kept; this file only reads) and
// show them as swimlanes in the terminal, and/or as a self-contained HTML file. Also exports
// writeHtmlReport for `check --html`.
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Argv, CommandModule } from 'yargs';
import { detectFormatStrict, formatByName, InputError, newCounters, readTraceRecords, STDIN, type InputCounters, type TraceFormat } from '../../ingest/trace-input.js';
import { loadCatalog, type Catalog } from '../../model/catalog.js';
import { mergeByTime } from '../../replay/merge.js';
import { analyzeRun } from '../../replay/run.js';
import { renderHtmlReport, type HtmlRun } from '../../report/html.js';
import { renderTimelineText } from '../../report/timeline-text.js';
import { TimelineCollector, type CollectOptions, type Selection } from '../../timeline/collect.js';
import { computeSpans } from '../../timeline/spans.js';
import type { TimelineData } from '../../timeline/types.js';
import { parseTimeSpec, TimeSpecError } from '../../timeline/windows.js';
import type { Report, RunResult } from '../../types.js';
import { UsageError } from '../errors.js';
import { writeOut } from '../output.js';
import { cliIo, setExitCode } from '../io.js';
import { makeProgress } from '../progress.js';
import { resolveRuns } from '../../assembly/folders.js';
import { VERSION } from '../version.js';

export interface TimelineArgs {
  paths: string[];
  src?: string | string[];
  dst?: string | string[];
  from?: string;
  to?: string;
  html?: string;
  margin: number;
  'max-events': number;
  width?: number;
  catalog: string[];
  'stuck-after': number;
  quiet: boolean;
}

/** Caps of the terminal view: a few thousand events are more than 80 columns can show anyway. */
export const TEXT_LIMITS = { maxFocusEvents: 5000, maxContextEvents: 0 } as const;
/** Caps of the HTML report: the browser stays responsive with this many (per-pixel buckets beyond). */
export const HTML_LIMITS = { maxFocusEvents: 50_000, maxContextEvents: 100_000 } as const;
export const DEFAULT_MARGIN_MS = 3;

export const timelineCommand: CommandModule<object, TimelineArgs> = {
  command: 'timeline [paths..]',
  describe: 'Show one run as swimlanes (threads, QEMUFile owners, access windows, states, findings)',
  builder: (y: Argv) =>
    y
      .positional('paths', { type: 'string', array: true, default: [], describe: 'One run: a folder with src.log/dst.log, or its trace files' })
      .option('src', { type: 'string', requiresArg: true, describe: 'A source trace file (repeatable; - for standard input): skips side inference for it' })
      .option('dst', { type: 'string', requiresArg: true, describe: 'A destination trace file (repeatable)' })
      .option('from', { type: 'string', requiresArg: true, describe: 'Start of the window: seconds as in the trace, or +S after the first event' })
      .option('to', { type: 'string', requiresArg: true, describe: 'End of the window (same forms as --from)' })
      .option('margin', { type: 'number', default: DEFAULT_MARGIN_MS, describe: 'Default view: ms shown around each finding event and end-of-postcopy event' })
      .option('max-events', { type: 'number', default: TEXT_LIMITS.maxFocusEvents, describe: 'Events kept inside the windows for the terminal view (the rest are counted)' })
      .option('width', { type: 'number', describe: 'Columns (default: the terminal width, else 80)' })
      .option('html', { type: 'string', requiresArg: true, describe: 'Also write a self-contained HTML timeline (zoom, pan, tooltips) to this file' })
      .option('catalog', { type: 'string', array: true, default: [], describe: 'Extra event catalog CSV (as for check)' })
      .option('stuck-after', { type: 'number', default: 1000, describe: 'As for check' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress on stderr' })
      .example('$0 timeline traces/10.0.13/c-postcopy-preempt-pre72-2', 'Zoom on the findings and the end of postcopy')
      .example('$0 timeline RUN --from +3.24 --to +3.30', 'Show a chosen window (seconds after the first event)')
      .example('$0 timeline RUN --html run.html', 'Also write an interactive HTML timeline')
      .example('zcat job.log.gz | $0 timeline -', 'A CI job log from standard input (kept in a temporary file: the timeline reads it twice)')
      .check((a) => {
        if ((a.paths as string[]).length === 0 && !a.src && !a.dst) throw new UsageError('give a run folder, its trace files, or - for standard input');
        if (!Number.isFinite(a.margin) || (a.margin as number) <= 0) throw new UsageError(`--margin takes a number of milliseconds > 0 (got ${a.margin})`);
        if (!Number.isInteger(a['max-events']) || (a['max-events'] as number) < 1) throw new UsageError(`--max-events takes a whole number >= 1 (got ${a['max-events']})`);
        if (a.width !== undefined && (!Number.isInteger(a.width) || (a.width as number) < 40)) throw new UsageError(`--width takes a whole number >= 40 (got ${a.width})`);
        if (!Number.isFinite(a['stuck-after']) || (a['stuck-after'] as number) < 0) throw new UsageError(`--stuck-after takes a number of milliseconds >= 0 (got ${a['stuck-after']})`);
        if (a.html !== undefined && (typeof a.html !== 'string' || a.html === '')) throw new UsageError('--html takes one file name');
        return true;
      }) as unknown as Argv<TimelineArgs>,
  handler: async (args) => {
    setExitCode(await runTimeline(args));
  },
};

function selection(args: Pick<TimelineArgs, 'from' | 'to' | 'margin'>): Selection {
  if (args.from === undefined && args.to === undefined) return { kind: 'auto', marginUs: Math.round(args.margin * 1000) };
  try {
    const from = args.from !== undefined ? parseTimeSpec(args.from, '--from') : null;
    const to = args.to !== undefined ? parseTimeSpec(args.to, '--to') : null;
    if (from && to && from.kind === to.kind && from.us >= to.us) throw new TimeSpecError(`--from ${args.from} is not before --to ${args.to}`);
    return { kind: 'range', from, to };
  } catch (e) {
    if (e instanceof TimeSpecError) throw new UsageError(e.message);
    throw e;
  }
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

export async function runTimeline(args: TimelineArgs): Promise<number> {
  const usesStdin = [...args.paths, ...list(args.src), ...list(args.dst)].includes(STDIN);
  if (!usesStdin) return timelineOf(args);
  // The timeline reads its inputs twice (analysis, then the events it draws): standard input is
  // kept in a temporary file for that, and shown as -, as check shows it.
  const dir = await mkdtemp(join(tmpdir(), 'migtrace-stdin-'));
  const kept = join(dir, 'stdin');
  try {
    await pipeline(process.stdin, createWriteStream(kept));
    const swap = (v: string) => (v === STDIN ? kept : v);
    return await timelineOf({ ...args, paths: args.paths.map(swap), src: list(args.src).map(swap), dst: list(args.dst).map(swap) }, (text) => text.split(kept).join(STDIN));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function timelineOf(args: TimelineArgs, shown: (text: string) => string = (t) => t): Promise<number> {
  const select = selection(args);
  const catalog = loadCatalog(args.catalog);
  const specs = await resolveRuns(args.paths, { src: list(args.src), dst: list(args.dst) });
  if (specs.length !== 1) throw new UsageError(`timeline shows one run; ${specs.length} found (${specs.slice(0, 3).map((s) => s.name).join(', ')}${specs.length > 3 ? ', …' : ''}): name one run folder`);
  const spec = specs[0]!;
  const progress = makeProgress(!args.quiet);
  const run = await analyzeRun(spec, {
    catalog,
    stuckAfterMs: args['stuck-after'],
    maxUnparsedSamples: 20,
    onProgress: (done, total) => progress.update(`${spec.name} (analysis)`, done, total),
  });
  progress.done();
  // One second pass serves both views: the HTML caps are a superset of the terminal's.
  const limits = args.html ? { maxFocusEvents: Math.max(HTML_LIMITS.maxFocusEvents, args['max-events']), maxContextEvents: HTML_LIMITS.maxContextEvents } : { maxFocusEvents: args['max-events'], maxContextEvents: 0 };
  const data = await collectTimeline(run, catalog, { select, ...limits }, (done, total) => progress.update(`${spec.name} (timeline)`, done, total));
  progress.done();
  const spans = computeSpans(data, run);
  const { stdout } = cliIo();
  const width = args.width ?? (stdout.isTTY && stdout.columns ? stdout.columns : 80);
  await writeOut(shown(renderTimelineText(data, spans, run, { width })));
  if (args.html) {
    await writeHtmlFile(args.html, shown(renderHtmlReport({ tool: { name: 'migtrace', version: VERSION }, runs: [run] }, [{ run, data }])));
    cliIo().stderr.write(`migtrace: wrote ${args.html}\n`);
  }
  return 0;
}

/** Second streaming pass over one analysed run's inputs (sides as the analysis decided them). */
export async function collectTimeline(run: RunResult, catalog: Catalog, opts: CollectOptions, onProgress?: (done: number, total: number) => void): Promise<TimelineData> {
  const stdin = run.inputs.find((i) => i.path === STDIN || i.path === '<stdin>');
  if (stdin) throw new UsageError('the timeline reads its inputs a second time, which standard input cannot do: save it to a file first');
  const formats: TraceFormat[] = [];
  for (const inp of run.inputs) {
    let f: TraceFormat;
    try {
      f = formatByName(inp.format); // the format the analysis read it with
    } catch {
      f = await detectFormatStrict(inp.path);
    }
    formats.push(f);
  }
  const counters = run.inputs.map((i) => newCounters(i.path));
  const sources = run.inputs.map((inp, i) => readTraceRecords(inp.path, i, inp.side, counters[i] as InputCounters, { maxSamples: 0 }, formats[i]));
  const collector = new TimelineCollector(run, catalog, opts);
  for await (const batch of mergeByTime(sources)) {
    for (const rec of batch) collector.add(rec);
    onProgress?.(
      counters.reduce((a, c) => a + c.bytes, 0),
      counters.reduce((a, c) => a + c.totalBytes, 0),
    );
  }
  return collector.finish();
}

export interface HtmlReportOptions {
  /** The catalog the analysis used (default: the built-in one). */
  catalog?: Catalog;
  /** ms around findings and end-of-postcopy events that the report opens on. */
  marginMs?: number;
}

/**
 * Writes the HTML report of every run in `report` to `file` (for `check --html FILE`): streams
 * each run's inputs once more for its events. Throws UsageError when the file cannot be written.
 */
export async function writeHtmlReport(report: Report, file: string, opts: HtmlReportOptions = {}): Promise<void> {
  const catalog = opts.catalog ?? loadCatalog();
  const runs: HtmlRun[] = [];
  const select: Selection = { kind: 'auto', marginUs: Math.round((opts.marginMs ?? DEFAULT_MARGIN_MS) * 1000) };
  for (const run of report.runs) {
    let data: TimelineData;
    // In a batch each run keeps the events of its windows (findings, end of postcopy) and its
    // lifecycle events one by one, the rest as counts: every event of every run made the report of
    // traces/ 54 MB (10 MB so); a run's own report keeps them all.
    const brief = report.runs.length > 1;
    const limits = brief ? { ...HTML_LIMITS, maxContextEvents: 0 } : HTML_LIMITS;
    try {
      data = await collectTimeline(run, catalog, { select, ...limits });
      if (brief) data.notes.push('in a report of several runs, events outside the selected windows are shown as counts: this run alone (check RUN --html) keeps them one by one');
    } catch (e) {
      // One run that cannot be read again (standard input, a file gone since) keeps its findings in the report.
      if (!(e instanceof UsageError || e instanceof InputError)) throw e;
      data = new TimelineCollector(run, catalog, { select, ...limits }).finish();
      data.notes.push(`no timeline: ${e.message}`);
    }
    runs.push({ run, data });
  }
  await writeHtmlFile(file, renderHtmlReport(report, runs));
}

async function writeHtmlFile(file: string, html: string): Promise<void> {
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, html);
  } catch (e) {
    throw new UsageError(`--html ${file}: cannot write: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
