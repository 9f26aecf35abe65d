// `migtrace check`: analyse runs and report. IO lives here; analysis in replay/, rendering in report/,
// baseline and suppression matching in baseline/. stdout carries only the report in --format;
// side artifacts (--sarif/--junit/--json) go to files, everything else to stderr.
import { appendFile, mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { applyBaseline, baselineEntries, BaselineError, parseBaseline, serializeBaseline } from '../../baseline/baseline.js';
import { applySuppressions, parseSuppressions, SuppressionError } from '../../baseline/suppressions.js';
import { loadCatalog } from '../../model/catalog.js';
import { resolveRuns } from '../../assembly/folders.js';
import type { RunSpec } from '../../assembly/types.js';
import { analyzeSpec } from '../../replay/tests.js';
import type { EpisodeStream } from '../../replay/run.js';
import { fingerprint } from '../../report/fingerprint.js';
import { FORMATS, PIECES, renderMarkdownSummary, REPORTERS, type Format } from '../../report/index.js';
import { renderSummary } from '../../report/text.js';
import { RULES } from '../../rules/index.js';
import { keptRules, RuleSelectionError, selectEpisode, selectRules } from '../select.js';
import type { Report, RunResult, UnusableRun } from '../../types.js';
import { UsageError } from '../errors.js';
import { EXIT_HELP, exitCodeFor, isActionable, type FailOn } from '../exit-codes.js';
import { makeProgress } from '../progress.js';
import { analyzeBatch, defaultJobs } from '../batch.js';
import { writeHtmlReport } from '../html-report.js';
import { TimelineCollector } from '../../timeline/collect.js';
import { htmlCollector, testHtmlCollector } from '../../timeline/limits.js';
import { TestTimelines, type TestSection } from '../../timeline/tests.js';
import type { TimelineData } from '../../timeline/types.js';
import { FORMAT_NAMES, InputError } from '../../ingest/trace-input.js';
import { VERSION } from '../version.js';
import { batches, setAsciiOutput, writeErr, writeOutPieces } from '../output.js';
import { cliIo, setExitCode } from '../io.js';

export interface CheckArgs {
  paths: string[];
  src?: string | string[];
  dst?: string | string[];
  format: Format;
  summary: boolean;
  select: string[];
  ignore: string[];
  ascii?: boolean;
  catalog: string[];
  'stuck-after': number;
  'fail-on': FailOn;
  'max-unparsed': number;
  verbose: boolean;
  quiet: boolean;
  sarif?: string;
  junit?: string;
  json?: string;
  baseline?: string;
  'write-baseline'?: string;
  suppressions?: string;
  html?: string;
  'input-format'?: string;
  'trace-events'?: string;
  jobs: number;
}

const FILE_OPTIONS = ['sarif', 'junit', 'json', 'baseline', 'write-baseline', 'suppressions', 'html', 'trace-events'] as const;

export const checkCommand: CommandModule<object, CheckArgs> = {
  command: 'check [paths..]',
  describe: 'Replay migration traces against the ownership and shutdown model and report regressions',
  builder: (y: Argv) =>
    y
      .positional('paths', {
        type: 'string',
        array: true,
        default: [],
        describe: 'A run folder (src.log + dst.log), a folder of run folders, or trace files of one run',
      })
      .option('src', { type: 'string', requiresArg: true, describe: 'A source trace file (repeatable; - for standard input): skips side inference for it' })
      .option('dst', { type: 'string', requiresArg: true, describe: 'A destination trace file (repeatable: a source migrated to a fresh destination after a failed attempt)' })
      .option('format', { alias: 'f', choices: FORMATS, default: 'text' as Format, describe: 'Output format on stdout (github: Actions annotations, plus a summary appended to $GITHUB_STEP_SUMMARY when set)' })
      .option('summary', { type: 'boolean', default: false, describe: 'Text format: one line per run (verdict, run, findings by name), then the totals' })
      .option('select', { type: 'string', array: true, requiresArg: true, default: [], describe: 'Check only these rules (ids or globs, comma-separated or repeated)' })
      .option('ignore', { type: 'string', array: true, requiresArg: true, default: [], describe: 'Leave these rules out (ids or globs, comma-separated or repeated); each run says which were left out' })
      .option('sarif', { type: 'string', requiresArg: true, describe: 'Also write a SARIF 2.1.0 report to this file' })
      .option('junit', { type: 'string', requiresArg: true, describe: 'Also write a JUnit XML report to this file' })
      .option('json', { type: 'string', requiresArg: true, describe: 'Also write the JSON report to this file' })
      .option('baseline', { type: 'string', requiresArg: true, describe: 'Accept the findings recorded in this baseline: only new ones fail; lists entries no longer seen' })
      .option('write-baseline', { type: 'string', requiresArg: true, describe: 'Record the current findings (minus suppressed ones) as the baseline in this file' })
      .option('suppressions', { type: 'string', requiresArg: true, describe: 'Accept findings matching these entries (rule, key glob, reason, until=YYYY-MM-DD); see docs/ci.md' })
      .option('html', { type: 'string', requiresArg: true, describe: 'Also write a self-contained HTML report with an interactive timeline of each run' })
      .option('input-format', { choices: FORMAT_NAMES, describe: 'Read the inputs as this format instead of detecting it (docs/formats.md)' })
      .option('trace-events', { type: 'string', requiresArg: true, describe: "The QEMU build's trace-events-all, for simple and LTTng traces (default: trace-events-all beside the input)" })
      .option('catalog', { type: 'string', array: true, default: [], describe: 'Extra event catalog CSV: adds events, or replaces all rows of an event it names' })
      .option('stuck-after', { type: 'number', default: 1000, describe: 'ms after the destination cleanup starts by which the preempt thread must have exited' })
      .option('fail-on', { choices: ['error', 'warning', 'info', 'never'] as const, default: 'warning' as FailOn, describe: 'Lowest severity that makes the exit code 1' })
      .option('max-unparsed', { type: 'number', default: 20, describe: 'Unparsed lines to show per input (all are counted)' })
      .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'Show inference evidence, threads and roles' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress on stderr' })
      .option('jobs', { alias: 'j', type: 'number', default: defaultJobs(), describe: 'Runs analysed at once when checking many (worker threads; default: the cores)' })
      .epilogue(EXIT_HELP)
      .example('$0 check traces/10.0.13/c-postcopy-preempt-pre72-2', 'Check one run (a folder with src.log and dst.log)')
      .example('$0 check --src a/src.log --dst b/dst.log', 'Check two files whose sides you name')
      .example('zcat job.log.gz | $0 check -', 'Check a CI job log with both processes in it, from standard input')
      .example('$0 check --src src.log --dst dst-a.log --dst dst-b.log', 'A source migrated twice, to two destinations')
      .example('$0 check runs/ --summary', 'One line per run')
      .example('$0 check traces --format json > report.json', 'Check every run under traces/, machine-readable')
      .example('$0 check traces -f github --sarif migtrace.sarif --junit migtrace.xml', 'In GitHub Actions: annotations on stdout, reports for upload')
      .example('$0 check traces --baseline .migtrace-baseline.json', 'Fail only on findings that are not in the baseline')
      .check((a) => {
        if ((a.paths as string[]).length === 0 && !a.src && !a.dst) throw new UsageError('give a run folder, trace files, - for standard input, or --src/--dst FILE');
        if (!Number.isInteger(a.jobs) || (a.jobs as number) < 1) throw new UsageError(`--jobs takes a whole number >= 1 (got ${a.jobs})`);
        if (!Number.isFinite(a['stuck-after']) || (a['stuck-after'] as number) < 0) throw new UsageError(`--stuck-after takes a number of milliseconds >= 0 (got ${a['stuck-after']})`);
        if (!Number.isInteger(a['max-unparsed']) || (a['max-unparsed'] as number) < 0) throw new UsageError(`--max-unparsed takes a whole number >= 0 (got ${a['max-unparsed']})`);
        if (a.summary && a.format !== 'text') throw new UsageError(`--summary is a form of the text report; it does not go with --format ${a.format}`);
        for (const o of FILE_OPTIONS) if (a[o] !== undefined && (typeof a[o] !== 'string' || a[o] === '')) throw new UsageError(`--${o} takes one file name`);
        for (const o of ['src', 'dst'] as const) for (const f of list(a[o])) if (f === '') throw new UsageError(`--${o} takes a file name`);
        return true;
      }) as unknown as Argv<CheckArgs>,
  handler: async (args) => {
    setExitCode(await runCheck(args));
  },
};

/** An option given once or repeated. */
function list(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)];
}

/** --select/--ignore values: repeated and comma-separated alike. */
function ruleList(v: string[]): string[] {
  return v.flatMap((x) => String(x).split(',')).map((x) => x.trim()).filter(Boolean);
}

export async function runCheck(args: CheckArgs): Promise<number> {
  if (args.ascii) setAsciiOutput(args.format === 'json' || args.format === 'sarif' ? 'json' : args.format === 'junit' ? 'xml' : 'text');
  let kept: Set<string>;
  try {
    kept = keptRules(ruleList(args.select), ruleList(args.ignore));
  } catch (e) {
    if (e instanceof RuleSelectionError) throw new UsageError(e.message);
    throw e;
  }
  if (kept.size === 0) throw new UsageError('--select/--ignore leave no rule to check');
  const catalog = loadCatalog(args.catalog);
  const specs = await resolveRuns(args.paths, { src: list(args.src), dst: list(args.dst) }, args['input-format']);
  // A run's migrations written out as judged and read back as the report is written, so memory
  // does not grow with their number: one run (a batch's results come whole from its workers) and
  // no --html (its page holds every run's data).
  const streamed = new Map<RunResult, EpisodeStream>();
  try {
    return await checkRuns(args, specs, kept, catalog, streamed);
  } finally {
    for (const s of streamed.values()) s.close();
  }
}

async function checkRuns(args: CheckArgs, specs: RunSpec[], kept: Set<string>, catalog: ReturnType<typeof loadCatalog>, streamed: Map<RunResult, EpisodeStream>): Promise<number> {
  const progress = makeProgress(!args.quiet);
  const runs: RunResult[] = [];
  // --html: each run's timeline, collected by watching its one replay (index for index with runs).
  const timelines: TimelineData[] = [];
  const testSections: TestSection[][] = [];
  // In a batch, a run whose input cannot be read is reported beside the others, not fatal to them.
  const unusable: UnusableRun[] = [];
  const keep = (spec: RunSpec, r: RunResult | InputError, timeline?: TimelineCollector | TimelineData, tests?: TestSection[], episodes?: EpisodeStream | null) => {
    if (r instanceof InputError) {
      unusable.push({ run: spec.name, inputs: spec.inputs.map((i) => i.path), error: r.message });
      diag(r.message);
      return;
    }
    const run = selectRules(r, kept);
    runs.push(run);
    if (episodes) streamed.set(run, run === r ? episodes : episodes.map((e) => selectEpisode(e, kept)));
    if (timeline) timelines.push(timeline instanceof TimelineCollector ? timeline.finish(run) : timeline);
    // A suite's log: a timeline per test (its section replaces the run's in the HTML report).
    if (tests?.length) testSections[runs.length - 1] = tests;
  };
  const common = {
    stuckAfterMs: args['stuck-after'],
    maxUnparsedSamples: Math.max(0, args['max-unparsed']),
    ...(args['trace-events'] ? { traceEvents: args['trace-events'] } : {}),
  };
  // Many runs, and standard input not among them: analyse them in parallel on all cores.
  const parallel = specs.length > 1 && args.jobs > 1 && !specs.some((s) => s.inputs.some((i) => i.path === '-'));
  if (parallel) {
    const batchTimelines: TimelineData[] = [];
    const batchTests: TestSection[][] = [];
    const html = args.html ? { rules: [...kept], onTimeline: (i: number, data: TimelineData) => (batchTimelines[i] = data), onTests: (i: number, tests: TestSection[]) => (batchTests[i] = tests) } : {};
    const results = await analyzeBatch(specs, { ...common, ...html, catalog: args.catalog, jobs: args.jobs, onDone: (done, total) => progress.count('checked', done, total) });
    progress.done();
    results.forEach((r, i) => keep(specs[i]!, r, batchTimelines[i], batchTests[i]));
  } else {
    for (const spec of specs) {
      try {
        const collector = args.html ? htmlCollector(specs.length > 1) : undefined;
        const tests = args.html ? new TestTimelines(testHtmlCollector, (x) => selectRules(x, kept)) : undefined;
        const opts = { rules: RULES, ...common, catalog, ...(collector && tests ? { observers: [collector], perTest: tests.watch } : {}), onProgress: (done: number, total: number) => progress.update(spec.name, done, total) };
        let episodes: EpisodeStream | null = null;
        const r = await analyzeSpec(spec, opts, specs.length === 1 && !collector ? (e) => (episodes = e) : undefined);
        keep(spec, r, collector, tests?.sections, episodes);
      } catch (e) {
        // One run alone: its input error is the outcome (exit 2, no report).
        if (!(e instanceof InputError) || specs.length === 1) throw e;
        keep(spec, e);
      } finally {
        progress.done();
      }
    }
  }
  const report: Report = { tool: { name: 'migtrace', version: VERSION }, runs, ...(unusable.length ? { unusable } : {}) };
  for (const r of runs) for (const f of r.findings) f.fingerprint = fingerprint(f);
  if (args.suppressions) applySuppressionsFile(report, args.suppressions, await readText(args.suppressions, '--suppressions'));
  if (args.baseline) applyBaselineFile(report, args.baseline, await readText(args.baseline, '--baseline'));
  if (args['write-baseline']) {
    const entries = baselineEntries(report);
    await writeArtifact(args['write-baseline'], serializeBaseline(entries), '--write-baseline');
    // What was just recorded is, by definition, known: the run that writes a baseline passes.
    for (const r of runs) for (const f of r.findings) if (!f.suppressed) f.baseline = 'known';
    diag(`wrote baseline ${args['write-baseline']}: ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}`);
  }

  const opts = { verbose: args.verbose, cwd: process.cwd(), episodesOf: (r: RunResult) => streamed.get(r) };
  await writeOutPieces(args.summary ? [renderSummary(report)] : PIECES[args.format](report, opts));
  if (args.sarif) await writeArtifact(args.sarif, PIECES.sarif(report, opts), '--sarif');
  if (args.junit) await writeArtifact(args.junit, REPORTERS.junit(report, opts), '--junit');
  if (args.json) await writeArtifact(args.json, PIECES.json(report, opts), '--json');
  if (args.html) await writeHtmlReport(report, timelines, args.html, testSections);
  const summary = cliIo().env.GITHUB_STEP_SUMMARY;
  if (args.format === 'github' && summary) {
    try {
      await appendFile(summary, renderMarkdownSummary(report));
    } catch (e) {
      diag(`warning: could not append the step summary to ${summary}: ${(e as Error).message}`);
    }
  }
  return exitCodeFor(runs, args['fail-on'], unusable.length);
}

function diag(message: string): void {
  writeErr(`migtrace: ${message}\n`);
}

async function readText(path: string, option: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new UsageError(`${option} ${path}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** A side report; in pieces, it is written as it is made. */
async function writeArtifact(path: string, text: string | Iterable<string>, option: string): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true });
    if (typeof text === 'string') await writeFile(path, text);
    else {
      const file = await open(path, 'w');
      try {
        for (const b of batches(text)) await file.writeFile(b); // each from where the last ended
      } finally {
        await file.close();
      }
    }
  } catch (e) {
    throw new UsageError(`${option} ${path}: cannot write: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

function applySuppressionsFile(report: Report, path: string, text: string): void {
  let list;
  try {
    list = parseSuppressions(text, path, RULE_IDS);
  } catch (e) {
    if (e instanceof SuppressionError) throw new UsageError(e.message);
    throw e;
  }
  const { expired, suppressedCount } = applySuppressions(report, list, today());
  for (const { suppression: s, matched } of expired) {
    diag(
      `warning: ${s.source}: suppression of ${s.rule} ${s.key} expired on ${s.until}; it no longer applies` +
        (matched ? ` (${matched} finding${matched > 1 ? 's' : ''} it matched now count${matched > 1 ? '' : 's'})` : ''),
    );
  }
  if (suppressedCount) diag(`${suppressedCount} finding${suppressedCount > 1 ? 's' : ''} suppressed by ${path}`);
}

function applyBaselineFile(report: Report, path: string, text: string): void {
  let entries;
  try {
    entries = parseBaseline(text, path);
  } catch (e) {
    if (e instanceof BaselineError) throw new UsageError(e.message);
    throw e;
  }
  const gone = applyBaseline(report, entries);
  report.baselineGone = gone;
  const all = report.runs.flatMap((r) => r.findings);
  const fresh = all.filter((f) => f.baseline === 'new' && isActionable(f)).length;
  const known = all.filter((f) => f.baseline === 'known').length;
  diag(`baseline ${path}: ${fresh} new finding${fresh === 1 ? '' : 's'}, ${known} known`);
  if (gone.length) {
    diag(`baseline ${path}: ${gone.length} entr${gone.length === 1 ? 'y' : 'ies'} no longer seen (fixed, or the run was not checked; prune with --write-baseline):`);
    for (const g of gone) writeErr(`  ${g.key}${g.summary ? `\n    ${g.summary}` : ''}\n`);
  }
}

export const RULE_IDS = RULES.map((r) => r.id);
