// `migtrace check`: analyse runs and report. IO lives here; analysis in replay/, rendering in report/.
import type { Argv, CommandModule } from 'yargs';
import { loadCatalog } from '../../model/catalog.js';
import { analyzeRun } from '../../replay/run.js';
import { FORMATS, REPORTERS, type Format } from '../../report/index.js';
import { RULES } from '../../rules/index.js';
import type { Report, RunResult } from '../../types.js';
import { EXIT_HELP, exitCodeFor, type FailOn } from '../exit-codes.js';
import { makeProgress } from '../progress.js';
import { resolveRuns } from '../runs.js';
import { VERSION } from '../version.js';
import { writeOut } from '../output.js';

export interface CheckArgs {
  paths: string[];
  src?: string;
  dst?: string;
  format: Format;
  catalog: string[];
  'stuck-after': number;
  'fail-on': FailOn;
  'max-unparsed': number;
  verbose: boolean;
  quiet: boolean;
}

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
      .option('src', { type: 'string', describe: 'Source trace file (skips side inference for it)' })
      .option('dst', { type: 'string', describe: 'Destination trace file (skips side inference for it)' })
      .option('format', { alias: 'f', choices: FORMATS, default: 'text' as Format, describe: 'Output format on stdout' })
      .option('catalog', { type: 'string', array: true, default: [], describe: 'Extra event catalog CSV: adds events, or replaces all rows of an event it names' })
      .option('stuck-after', { type: 'number', default: 1000, describe: 'ms after the destination cleanup starts by which the preempt thread must have exited' })
      .option('fail-on', { choices: ['error', 'warning', 'info', 'never'] as const, default: 'warning' as FailOn, describe: 'Lowest severity that makes the exit code 1' })
      .option('max-unparsed', { type: 'number', default: 20, describe: 'Unparsed lines to show per input (all are counted)' })
      .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'Show inference evidence, threads and roles' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress on stderr' })
      .epilogue(EXIT_HELP)
      .example('$0 check traces/10.0.13/c-postcopy-preempt-pre72-2', 'Check one run (a folder with src.log and dst.log)')
      .example('$0 check --src a/src.log --dst b/dst.log', 'Check two files whose sides you name')
      .example('$0 check traces --format json > report.json', 'Check every run under traces/, machine-readable')
      .check((a) => {
        if ((a.paths as string[]).length === 0 && !a.src && !a.dst) throw new Error('give a run folder, trace files, or --src/--dst');
        if (!Number.isFinite(a['stuck-after']) || (a['stuck-after'] as number) < 0) throw new Error('--stuck-after takes a number of milliseconds >= 0');
        return true;
      }) as unknown as Argv<CheckArgs>,
  handler: async (args) => {
    process.exitCode = await runCheck(args);
  },
};

export async function runCheck(args: CheckArgs): Promise<number> {
  const catalog = loadCatalog(args.catalog);
  const specs = await resolveRuns(args.paths, args.src, args.dst);
  const progress = makeProgress(!args.quiet);
  const runs: RunResult[] = [];
  for (const spec of specs) {
    runs.push(
      await analyzeRun(spec, {
        catalog,
        stuckAfterMs: args['stuck-after'],
        maxUnparsedSamples: Math.max(0, args['max-unparsed']),
        onProgress: (done, total) => progress.update(spec.name, done, total),
      }),
    );
    progress.done();
  }
  const report: Report = { tool: { name: 'migtrace', version: VERSION }, runs };
  await writeOut(REPORTERS[args.format](report, { verbose: args.verbose }));
  return exitCodeFor(runs, args['fail-on']);
}

export const RULE_IDS = RULES.map((r) => r.id);
