// `migtrace convert IN... --to csv|jsonl|log`: any supported trace → migtrace's normalized event
// stream (merged in time order, filtered), so traces can be cut, filtered and shared. Output on
// stdout or -o FILE (.gz compressed); a one-line summary on stderr unless --quiet.
import type { Argv, CommandModule } from 'yargs';
import { convert } from '../../convert/convert.js';
import { OUTPUT_FORMATS, type OutputFormat } from '../../convert/writers.js';
import { FORMAT_NAMES } from '../../ingest/trace-input.js';
import { loadCatalog } from '../../model/catalog.js';
import type { Side } from '../../types.js';
import { UsageError } from '../errors.js';
import { cliArgv, cliIo } from '../io.js';

export interface ConvertArgs {
  inputs: string[];
  to: OutputFormat;
  events?: string[];
  from?: string;
  'to-time'?: string;
  tid?: number[];
  pid?: number[];
  side?: Side;
  'input-format'?: string;
  'trace-events'?: string;
  src?: string;
  dst?: string;
  output?: string;
  catalog: string[];
  quiet: boolean;
}

/**
 * yargs drops a lone `-` given as a positional (it re-parses positionals as `--name value` and
 * takes `-` for a flag), so standard input is put back from the raw arguments, in its place.
 */
export function restoreDash(positionals: string[], raw: readonly string[] = cliArgv()): string[] {
  if (positionals.includes('-') || !raw.includes('-')) return positionals;
  const rest = [...positionals];
  const out: string[] = [];
  for (const t of raw) {
    if (t === '-') out.push('-');
    else if (rest[0] === t) out.push(rest.shift()!);
  }
  return [...out, ...rest];
}

/** "a,b" and repeated options alike. */
function list(v: unknown): string[] {
  const arr = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return arr.flatMap((x) => String(x).split(',')).map((x) => x.trim()).filter(Boolean);
}

function ints(v: unknown, option: string): number[] | undefined {
  const l = list(v);
  if (l.length === 0) return undefined;
  return l.map((x) => {
    if (!/^\d+$/.test(x)) throw new UsageError(`${option} takes thread/process ids (integers), got '${x}'`);
    return Number(x);
  });
}

export const convertCommand: CommandModule<object, ConvertArgs> = {
  command: 'convert [inputs..]',
  describe: 'Write any supported trace as one normalized event stream (csv, jsonl or QEMU log), merged in time order and filtered',
  builder: (y: Argv) =>
    y
      .positional('inputs', { type: 'string', array: true, default: [], describe: 'Trace files (any supported format, .gz too; - for standard input)' })
      .option('to', { choices: OUTPUT_FORMATS, demandOption: true, describe: 'Output format: csv (time,tid,pid,event,args,side,process,thread), jsonl (one JSON object per event) or log (TID@sec.usec:event args)' })
      .option('output', { alias: 'o', type: 'string', requiresArg: true, describe: 'Write to this file instead of stdout (a name ending in .gz is compressed)' })
      .option('events', { type: 'string', array: true, describe: 'Keep only these events (comma-separated or repeated; * and ? globs, e.g. postcopy_*)' })
      .option('from', { type: 'string', requiresArg: true, describe: "Keep records at or after this time: seconds in the trace's clock, or +S after the first record" })
      .option('to-time', { type: 'string', requiresArg: true, describe: "Keep records at or before this time: seconds in the trace's clock, or +S after the first record" })
      .option('tid', { type: 'string', array: true, describe: 'Keep only events of these thread ids (comma-separated or repeated)' })
      .option('pid', { type: 'string', array: true, describe: 'Keep only events of these process ids (simple, ftrace with TGID, LTTng vpid, syslog, csv/jsonl): splits a trace holding both QEMU processes' })
      .option('side', { choices: ['src', 'dst'] as const, describe: 'Keep only the source or the destination process' })
      .option('src', { type: 'string', requiresArg: true, describe: 'An input that is the source process (skips side inference for it)' })
      .option('dst', { type: 'string', requiresArg: true, describe: 'An input that is the destination process (skips side inference for it)' })
      .option('input-format', { choices: FORMAT_NAMES, describe: 'Read every input as this format instead of detecting it' })
      .option('trace-events', { type: 'string', requiresArg: true, describe: "The QEMU build's trace-events-all, for simple and LTTng traces (default: trace-events-all beside the input)" })
      .option('catalog', { type: 'string', array: true, default: [], describe: 'Extra event catalog CSV (used to infer each input’s side)' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No summary on stderr' })
      .example('$0 convert run/src.simple run/dst.simple --to jsonl -o run.jsonl', 'Decode binary simple traces (with run/trace-events-all) into one JSON Lines stream')
      .example("$0 convert src.log dst.log --to csv --events 'postcopy_*,migrate_set_state' --from +2 --to-time +3", 'One second of postcopy events of both processes, as CSV')
      .example('$0 convert trace.txt --pid 40001 --to log -o src.log', 'Cut one process out of an ftrace capture of both')
      .check((a) => {
        if (restoreDash(a.inputs as string[]).length === 0 && !a.src && !a.dst) throw new UsageError('give at least one input file (or - for standard input)');
        return true;
      }) as unknown as Argv<ConvertArgs>,
  handler: async (args) => {
    const inputs: string[] = restoreDash(args.inputs);
    const sides: Array<Side | undefined> = inputs.map(() => undefined);
    for (const [path, side] of [[args.src, 'src'], [args.dst, 'dst']] as const) {
      if (path === undefined) continue;
      inputs.push(path);
      sides.push(side);
    }
    const summary = await convert(
      {
        inputs,
        sides,
        to: args.to,
        catalog: loadCatalog(args.catalog),
        ...(args.events ? { events: list(args.events) } : {}),
        ...(args.from !== undefined ? { from: args.from } : {}),
        ...(args['to-time'] !== undefined ? { toTime: args['to-time'] } : {}),
        ...(ints(args.tid, '--tid') ? { tids: ints(args.tid, '--tid')! } : {}),
        ...(ints(args.pid, '--pid') ? { pids: ints(args.pid, '--pid')! } : {}),
        ...(args.side ? { side: args.side } : {}),
        ...(args['input-format'] ? { inputFormat: args['input-format'] } : {}),
        ...(args['trace-events'] ? { traceEvents: args['trace-events'] } : {}),
      },
      args.output,
      cliIo().stdout,
    );
    if (!args.quiet) {
      const { stderr } = cliIo();
      for (const i of summary.inputs) {
        const c = i.counters;
        const extra = [c.unparsed ? `${c.unparsed} unparsed` : '', c.dropped ? `${c.dropped} dropped by the backend` : ''].filter(Boolean).join(', ');
        stderr.write(`migtrace: ${i.path}: ${i.format}, ${i.side ?? 'side unknown'}, ${c.events} events, ${c.messages} messages${extra ? `, ${extra}` : ''}\n`);
        for (const n of c.notes) stderr.write(`migtrace:   ${n}\n`);
      }
      for (const s of summary.samples.slice(0, 20)) stderr.write(`migtrace:   unparsed ${s.file}:${s.line}: ${s.reason}\n`);
      stderr.write(`migtrace: wrote ${summary.written} records${args.output && args.output !== '-' ? ` to ${args.output}` : ''}\n`);
    }
  },
};
