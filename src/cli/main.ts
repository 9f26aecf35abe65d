#!/usr/bin/env node
// migtrace entry point: parse arguments (yargs), run a command, map every outcome to an exit code
// (cli/exit-codes.ts) and every error to one message on stderr (cli/errors.ts).
import chalk from 'chalk';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { captureCommand } from './commands/capture.js';
import { checkCommand } from './commands/check.js';
import { convertCommand } from './commands/convert.js';
import { explainCommand } from './commands/explain.js';
import { timelineCommand } from './commands/timeline.js';
import { describeError } from './errors.js';
import { EXIT, EXIT_HELP } from './exit-codes.js';
import { limitHeapGrowth } from './heap.js';
import { setAsciiOutput, watchStdout, writeErr } from './output.js';
import { VERSION } from './version.js';

limitHeapGrowth();
watchStdout();

/**
 * yargs drops a lone `-` (standard input), as a positional and as an option's value: it is passed
 * through as this stand-in and put back before the commands see their arguments.
 */
const STDIN_ARG = '\u0001stdin';
const argv = hideBin(process.argv).map((a) => (a === '-' ? STDIN_ARG : a));
const debug = argv.includes('--debug');
// Colour only when stdout is a terminal (chalk checks that), unless asked otherwise.
if (argv.includes('--no-color')) chalk.level = 0;
else if (argv.includes('--color') && chalk.level === 0) chalk.level = 1;
if (argv.includes('--ascii')) setAsciiOutput('text');

function fail(message: string): never {
  writeErr(`${message}\n`);
  process.exit(EXIT.error);
}

function restoreStdin(v: unknown): unknown {
  if (v === STDIN_ARG) return '-';
  return Array.isArray(v) ? v.map(restoreStdin) : v;
}

const COMMANDS = ['check', 'explain', 'timeline', 'convert', 'capture'];
const command = argv.find((a) => COMMANDS.includes(a));

try {
  await yargs(argv)
    .scriptName('migtrace')
    .usage(
      '$0 <command> [options]\n\n' +
        'Replays QEMU live-migration traces (any trace backend; the log backend with -msg timestamp=on gives thread ids) ' +
        'against a model of which thread owns each QEMUFile and how the postcopy-preempt thread is shut down, ' +
        'and reports regressions of QEMU 6621883f93 and the fixes around it. Start with: migtrace check RUN_DIR',
    )
    .command(checkCommand)
    .command(explainCommand)
    .command(timelineCommand)
    .command(convertCommand)
    .command(captureCommand)
    .demandCommand(1, 'name a command: check, explain, timeline, convert or capture')
    .option('color', { type: 'boolean', describe: 'Force colour on (or off with --no-color); default: only on a TTY' })
    .option('ascii', { type: 'boolean', describe: 'ASCII-only output, for CI logs that mangle Unicode (JSON and XML stay exact, escaped)' })
    .option('debug', { type: 'boolean', hidden: true })
    .middleware((a) => {
      for (const k of Object.keys(a)) a[k] = restoreStdin(a[k]);
    }, true)
    .strict()
    .recommendCommands()
    .version(VERSION)
    .help()
    .alias('h', 'help')
    .epilogue(`${EXIT_HELP}\n\nMore: migtrace explain, and README.md.`)
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      // A check that threw (UsageError) is printed by the catch below, as every error is.
      if (err) throw err;
      fail(`migtrace: usage: ${msg} (see: migtrace ${command ?? ''}${command ? ' ' : ''}--help)`);
    })
    .parseAsync();
} catch (e) {
  fail(describeError(e, debug));
}
