// `migtrace timeline`: analyse one run with the timeline watching the same replay (timeline/collect.ts
// decides which events are kept), and show them as swimlanes in the terminal, and/or as a
// self-contained HTML file (written by ../html-report.ts, which `check --html` shares).
import type { Argv, CommandModule } from 'yargs';
import { FORMAT_NAMES } from '../../ingest/trace-input.js';
import { loadCatalog } from '../../model/catalog.js';
import { RULES } from '../../rules/index.js';
import { renderHtmlReport } from '../../report/html.js';
import { renderTimelineText } from '../../report/timeline-text.js';
import { TimelineCollector, type Selection } from '../../timeline/collect.js';
import { TestTimelines } from '../../timeline/tests.js';
import type { TimelineData } from '../../timeline/types.js';
import { analyzeSpec } from '../../replay/tests.js';
import type { RunResult } from '../../types.js';
import { DEFAULT_MARGIN_MS, HTML_LIMITS, TEXT_LIMITS } from '../../timeline/limits.js';
import { computeSpans } from '../../timeline/spans.js';
import { parseTimeSpec, TimeSpecError } from '../../timeline/windows.js';
import { UsageError } from '../errors.js';
import { writeOut } from '../output.js';
import { cliIo, setExitCode } from '../io.js';
import { makeProgress } from '../progress.js';
import { resolveRuns } from '../../assembly/folders.js';
import { VERSION } from '../version.js';
import { writeHtmlFile } from '../html-report.js';

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
  'input-format'?: string;
  'trace-events'?: string;
  quiet: boolean;
}

export { HTML_LIMITS, TEXT_LIMITS } from '../../timeline/limits.js';

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
      .option('input-format', { choices: FORMAT_NAMES, describe: 'Read the inputs as this format instead of detecting it (as for check)' })
      .option('trace-events', { type: 'string', requiresArg: true, describe: "The QEMU build's trace-events-all, for simple and LTTng traces (default: trace-events-all beside the input)" })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress on stderr' })
      .example('$0 timeline traces/10.0.13/c-postcopy-preempt-pre72-2', 'Zoom on the findings and the end of postcopy')
      .example('$0 timeline RUN --from +3.24 --to +3.30', 'Show a chosen window (seconds after the first event)')
      .example('$0 timeline RUN --html run.html', 'Also write an interactive HTML timeline')
      .example('zcat job.log.gz | $0 timeline -', 'A CI job log from standard input')
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
  const select = selection(args);
  const catalog = loadCatalog(args.catalog);
  const specs = await resolveRuns(args.paths, { src: list(args.src), dst: list(args.dst) }, args['input-format']);
  if (specs.length !== 1) throw new UsageError(`timeline shows one run; ${specs.length} found (${specs.slice(0, 3).map((s) => s.name).join(', ')}${specs.length > 3 ? ', …' : ''}): name one run folder`);
  const spec = specs[0]!;
  const progress = makeProgress(!args.quiet);
  // One collector serves both views: the HTML caps are a superset of the terminal's.
  const limits = args.html ? { maxFocusEvents: Math.max(HTML_LIMITS.maxFocusEvents, args['max-events']), maxContextEvents: HTML_LIMITS.maxContextEvents } : { maxFocusEvents: args['max-events'], maxContextEvents: 0 };
  // A suite's log (many tests) gets a timeline per test: the collectors of `tests`, not `collector`.
  const collector = new TimelineCollector({ select, ...limits });
  const tests = new TestTimelines(() => new TimelineCollector({ select, ...limits }));
  const opts = { rules: RULES, catalog, stuckAfterMs: args['stuck-after'], maxUnparsedSamples: 20, ...(args['trace-events'] ? { traceEvents: args['trace-events'] } : {}) };
  const run = await analyzeSpec(spec, { ...opts, observers: [collector], perTest: tests.watch, onProgress: (done, total) => progress.update(spec.name, done, total) });
  progress.done();
  const views: Array<{ test?: string; run: RunResult; data: TimelineData }> = tests.sections.length ? tests.sections : [{ run, data: collector.finish(run) }];
  const { stdout } = cliIo();
  const width = args.width ?? (stdout.isTTY && stdout.columns ? stdout.columns : 80);
  const texts = views.map((v) => `${v.test ? `━━ test ${v.test}: ${v.run.verdict}\n` : ''}${renderTimelineText(v.data, computeSpans(v.data, v.run), v.run, { width })}`);
  await writeOut(texts.join('\n'));
  if (args.html) {
    await writeHtmlFile(args.html, renderHtmlReport({ tool: { name: 'migtrace', version: VERSION }, runs: views.map((v) => v.run) }, views));
    cliIo().stderr.write(`migtrace: wrote ${args.html}\n`);
  }
  return 0;
}
