// The CLI as a function: parse arguments (yargs), run a command, map every outcome to an exit code
// (cli/exit-codes.ts) and every error to one message on stderr (cli/errors.ts). Writes only to the
// io it is given, so tests run it in their own process; main.ts runs it for the bin.
import chalk from 'chalk';
import yargs, { type Argv, type CommandModule } from 'yargs';
import { describeError } from './errors.js';
import { EXIT, EXIT_HELP } from './exit-codes.js';
import { invoke, setExitCode, type CliIo } from './io.js';
import { setAsciiOutput, watchStdout, writeErr } from './output.js';
import { VERSION } from './version.js';

/** Loads a command's module; the function it gives registers the command on a parser. */
type Loader = () => Promise<(y: Argv) => Argv>;

// A command's module (and all it imports) is loaded only when that command runs; every one of
// them when no known command is named (help, a typo), so the listing and suggestions are whole.
// Listed in the order --help shows them.
const COMMANDS: Record<string, Loader> = {
  check: async () => {
    const { checkCommand } = await import('./commands/check.js');
    return (y) => y.command(deferred(checkCommand));
  },
  explain: async () => {
    const { explainCommand } = await import('./commands/explain.js');
    return (y) => y.command(deferred(explainCommand));
  },
  timeline: async () => {
    const { timelineCommand } = await import('./commands/timeline.js');
    return (y) => y.command(deferred(timelineCommand));
  },
  convert: async () => {
    const { convertCommand } = await import('./commands/convert.js');
    return (y) => y.command(deferred(convertCommand));
  },
  events: async () => {
    const { eventsCommand } = await import('./commands/events.js');
    return (y) => y.command(eventsCommand);
  },
  capture: async () => {
    const { captureCommand } = await import('./commands/capture.js');
    return (y) => y.command(deferred(captureCommand));
  },
};

/** What chalk detected for this process's stdout, before any --color/--no-color. */
const DETECTED_COLOR = chalk.level;

/** A usage failure reported by yargs: its message is the whole output (exit 2). */
class UsageFailure extends Error {}

function commandsFor(argv: readonly string[]): Promise<Array<(y: Argv) => Argv>> {
  // The global options are all flags, so the first word that is not an option names the command.
  const named = argv.find((a) => !a.startsWith('-'));
  const names = named !== undefined && Object.hasOwn(COMMANDS, named) ? [named] : Object.keys(COMMANDS);
  return Promise.all(names.map((n) => COMMANDS[n]!()));
}

/**
 * Runs the CLI with `argv` (the arguments after the script name); resolves with the exit code.
 * Invocations may overlap (each has its own io), but chalk's colour level is one for the process.
 */
export function main(argv: readonly string[], io: CliIo): Promise<number> {
  // Colour only when stdout is a terminal (chalk checks that), unless asked otherwise.
  const base = io.colorLevel ?? DETECTED_COLOR;
  chalk.level = argv.includes('--no-color') ? 0 : argv.includes('--color') && base === 0 ? 1 : base;
  return invoke(argv, io, async () => {
    watchStdout(io.stdout);
    if (argv.includes('--ascii')) setAsciiOutput('text');
    try {
      await parse(argv, io);
    } catch (e) {
      writeErr(`${e instanceof UsageFailure ? e.message : describeError(e, argv.includes('--debug'))}\n`);
      setExitCode(EXIT.error);
    }
  });
}

/**
 * yargs drops a lone `-` (standard input), as a positional and as an option's value: it is passed
 * through as this stand-in and put back before the commands see their arguments.
 */
const STDIN_ARG = '\u0001stdin';

function restoreStdin(v: unknown): unknown {
  if (v === STDIN_ARG) return '-';
  return Array.isArray(v) ? v.map(restoreStdin) : v;
}

/** Parses `argv` and runs the command it names; throws what the command or yargs reports. */
async function parse(argv: readonly string[], io: CliIo): Promise<void> {
  try {
    await parseArgs(argv, io);
  } catch (e) {
    if (e instanceof Parsed) return e.run();
    throw e;
  }
}

/** Parses `argv` (help, version and usage errors end here); a command comes back as Parsed. */
async function parseArgs(argv: readonly string[], io: CliIo): Promise<void> {
  const args = argv.map((a) => (a === '-' ? STDIN_ARG : a));
  const command = args.find((a) => Object.hasOwn(COMMANDS, a));
  let parser = yargs(args)
    .scriptName('migtrace')
    .usage(
      '$0 <command> [options]\n\n' +
        'Replays QEMU live-migration traces (any trace backend; the log backend with -msg timestamp=on gives thread ids) ' +
        'against a model of which thread owns each QEMUFile and how the postcopy-preempt thread is shut down, ' +
        'and reports regressions of QEMU 6621883f93 and the fixes around it. Start with: migtrace check RUN_DIR',
    );
  for (const register of await commandsFor(argv)) parser = register(parser);
  let output = '';
  await parser
    .demandCommand(1, 'name a command: check, explain, timeline, convert, events or capture')
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
    .wrap(Math.min(110, io.stdout.columns || 100))
    .fail((msg, err) => {
      // A check that threw (UsageError) is reported as every error is.
      if (err) throw err;
      throw new UsageFailure(`migtrace: usage: ${msg} (see: migtrace ${command ?? ''}${command ? ' ' : ''}--help)`);
    })
    // With a callback, yargs hands over what it would print (help, version) instead of printing
    // it to the process's stdout and exiting.
    .parseAsync(args, {}, (_err, _args, out) => {
      output = out ?? '';
    });
  if (output) await write(io.stdout, `${output}\n`);
}

/**
 * yargs renders a command's whole help text right after it calls the command's handler, in case
 * the handler shows it later (showHelp), which migtrace's never do: about 45 ms of every run (string
 * width of each cell), more than the analysis of a small trace, and yargs has no option against it.
 * So the handler yargs calls hands the parsed arguments back by throwing them synchronously, which
 * ends the parse before that step, and parse() runs the command. Validation, help, version and
 * usage errors are yargs' own, as before.
 */
class Parsed extends Error {
  constructor(readonly run: () => Promise<void>) {
    super('parsed (not an error: the command runs next)');
  }
}

function deferred<U>(m: CommandModule<object, U>): CommandModule<object, U> {
  return {
    ...m,
    handler: (args) => {
      throw new Parsed(async () => {
        await m.handler(args);
      });
    },
  };
}

function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => stream.write(text, (err) => (err ? reject(err) : resolve())));
}
