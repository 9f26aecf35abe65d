// `migtrace convert IN... --to csv|jsonl|log`: any supported trace → migtrace's normalized event
// stream (merged in time order, filtered), so traces can be cut, filtered and shared. Output on
// stdout or -o FILE (.gz compressed); a one-line summary on stderr unless --quiet.
// `--to chrome-trace` analyses the run instead and writes it for Perfetto (convert/chrome-trace.ts).
import { writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import type { Argv, CommandModule } from 'yargs';
import { resolveRuns } from '../../assembly/folders.js';
import type { RunSpecInput } from '../../assembly/types.js';
import { catalogRoleOf, chromeTrace } from '../../convert/chrome-trace.js';
import { convert } from '../../convert/convert.js';
import { OUTPUT_FORMATS, type OutputFormat } from '../../convert/writers.js';
import { FORMAT_NAMES } from '../../ingest/trace-input.js';
import { loadCatalog } from '../../model/catalog.js';
import type { Selection } from '../../timeline/collect.js';
import { computeSpans } from '../../timeline/spans.js';
import { parseTimeSpec, TimeSpecError } from '../../timeline/windows.js';
import type { Side } from '../../types.js';
import { UsageError } from '../errors.js';
import { cliArgv, cliIo, outputState } from '../io.js';
import { writeOut } from '../output.js';
import { VERSION } from '../version.js';
import { analyzeWithTimeline } from '../analyze-timeline.js';
import { RULES } from '../../rules/index.js';

type ConvertTo = OutputFormat | 'chrome-trace';
const CONVERT_TO: readonly ConvertTo[] = [...OUTPUT_FORMATS, 'chrome-trace'];
/** Trace events a chrome trace keeps as instants (the rest are counted in its otherData and on stderr). */
const CHROME_MAX_EVENTS = 200_000;

export interface ConvertArgs {
  inputs: string[];
  to: ConvertTo;
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
  describe: 'Write any supported trace as one normalized event stream (csv, jsonl or QEMU log), merged in time order and filtered; or the analysed run as Trace Event JSON for Perfetto (chrome-trace)',
  builder: (y: Argv) =>
    y
      .positional('inputs', { type: 'string', array: true, default: [], describe: 'Trace files (any supported format, .gz too; - for standard input), or one run folder' })
      .option('to', { choices: CONVERT_TO, demandOption: true, describe: 'Output format: csv (time,tid,pid,event,args,side,process,thread), jsonl (one JSON object per event), log (TID@sec.usec:event args), or chrome-trace (the analysed run as Trace Event JSON, for Perfetto and chrome://tracing)' })
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
      .example('$0 convert traces/10.0.13/c-postcopy-preempt-pre72-2 --to chrome-trace -o race.json', 'Open race.json in ui.perfetto.dev: a track per thread, the EOS window, the finding with a flow between the two accesses')
      .check((a) => {
        if (restoreDash(a.inputs as string[]).length === 0 && !a.src && !a.dst) throw new UsageError('give at least one input file (or - for standard input)');
        return true;
      }) as unknown as Argv<ConvertArgs>,
  handler: async (args) => {
    if (args.to === 'chrome-trace') return toChromeTrace(args);
    const given = await expandFolders(restoreDash(args.inputs));
    const inputs = given.map((g) => g.path);
    const sides: Array<Side | undefined> = inputs.map(() => undefined);
    const threadIds = given.map((g) => g.tid);
    for (const [path, side] of [[args.src, 'src'], [args.dst, 'dst']] as const) {
      if (path === undefined) continue;
      inputs.push(path);
      sides.push(side);
      threadIds.push(undefined);
    }
    const summary = await convert(
      {
        inputs,
        sides,
        threadIds,
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
      // Standard output as every command writes it (cli/output.ts): each write done once it is out
      // (the bin's exit drops what a pipe has not taken), and a reader that went away (EPIPE, seen
      // by app.ts) ends the output.
      { write: (text) => writeOut(text), closed: () => outputState().stdoutClosed },
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
      const cut = summary.outputClosed ? ' (its reader closed the output: reading stopped there)' : '';
      stderr.write(`migtrace: wrote ${summary.written} records${args.output && args.output !== '-' ? ` to ${args.output}` : ''}${cut}\n`);
    }
  },
};

/** The inputs as check reads them: files as given, or one run folder (a folder of runs is refused). */
async function expandFolders(paths: string[]): Promise<RunSpecInput[]> {
  if (paths.length === 0) return [];
  const specs = await resolveRuns(paths);
  if (specs.length !== 1) throw new UsageError(`${specs.length} runs in ${paths.join(' ')} (${specs.slice(0, 3).map((s) => s.name).join(', ')}${specs.length > 3 ? ', …' : ''}): convert takes one run, name one folder`);
  for (const n of specs[0]!.notes ?? []) cliIo().stderr.write(`migtrace: ${n}\n`);
  return specs[0]!.inputs;
}

function selection(args: ConvertArgs): Selection {
  try {
    const from = args.from !== undefined ? parseTimeSpec(args.from, '--from') : null;
    const to = args['to-time'] !== undefined ? parseTimeSpec(args['to-time'], '--to-time') : null;
    return { kind: 'range', from, to };
  } catch (e) {
    throw e instanceof TimeSpecError ? new UsageError(e.message) : e;
  }
}

/** `--to chrome-trace`: analyse the run with the timeline watching the replay (as timeline does), write the JSON. */
async function toChromeTrace(args: ConvertArgs): Promise<void> {
  const filters = (['events', 'tid', 'pid', 'side'] as const).filter((o) => args[o] !== undefined);
  if (filters.length) throw new UsageError(`--to chrome-trace shows the whole run (a track per thread): --${filters.join(', --')} do not apply; --from/--to-time do`);
  const catalog = loadCatalog(args.catalog);
  const paths = restoreDash(args.inputs);
  const specs = await resolveRuns(paths, { src: args.src ? [args.src] : [], dst: args.dst ? [args.dst] : [] }, args['input-format']);
  if (specs.length !== 1) throw new UsageError(`--to chrome-trace writes one run; ${specs.length} found (${specs.slice(0, 3).map((s) => s.name).join(', ')}${specs.length > 3 ? ', …' : ''}): name one run folder`);
  const traceEvents = args['trace-events'];
  const { run, data } = await analyzeWithTimeline(specs[0]!, { rules: RULES, catalog, stuckAfterMs: 1000, maxUnparsedSamples: 20, ...(traceEvents ? { traceEvents } : {}) }, { select: selection(args), maxFocusEvents: CHROME_MAX_EVENTS, maxContextEvents: 0 });
  const doc = chromeTrace(run, data, computeSpans(data, run), { tool: 'migtrace', version: VERSION, roleOf: catalogRoleOf(catalog, run) });
  const json = JSON.stringify(doc);
  if (args.output && args.output !== '-') {
    try {
      await writeFile(args.output, args.output.endsWith('.gz') ? gzipSync(json) : json);
    } catch (e) {
      throw new UsageError(`-o ${args.output}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  } else {
    await writeOut(`${json}\n`);
  }
  if (args.quiet) return;
  const { stderr } = cliIo();
  const left = data.totalEvents - data.keptEvents;
  stderr.write(`migtrace: ${run.name}: ${run.verdict}, ${run.findings.length} finding${run.findings.length === 1 ? '' : 's'}; ${data.keptEvents} of ${data.totalEvents} trace events as instants${left ? ` (${left} outside --from/--to-time or over ${CHROME_MAX_EVENTS}, counted only)` : ''}, ${doc.traceEvents.length} trace-format events${args.output && args.output !== '-' ? ` written to ${args.output}` : ''}\n`);
  for (const n of data.notes) stderr.write(`migtrace:   ${n}\n`);
}
