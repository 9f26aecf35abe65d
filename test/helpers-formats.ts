// Test helper for the input formats (issue 3): rewrites a real run (traces/<ver>/<run>/src.log,
// dst.log, meta.json) at test time into every other format that can carry the same information,
// so `check` over each rewrite can be compared with `check` over the original log files.
//
//   writeConversions(runDir, outDir) → { csv: [...], jsonl: [...], ftrace: [...], babeltrace: [...], syslog: [...] }
//
// * csv     — `convert --to csv`, one file per process (src.csv, dst.csv).
// * jsonl   — `convert --to jsonl` of both logs into ONE file (run.jsonl): a stream holding both
//             processes, which `check` must split by thread id.
// * ftrace  — the kernel's rendering of QEMU's trace_marker writes: src as tracefs `trace` with
//             the header, TGID column and 5-char flags; dst as `trace-cmd report` (print: ...
//             tracing_mark_write:, no flags). Comms are the real thread names from meta.json
//             (`mig/src/return`, `CPU 0/TCG`, `IO mon_iothread`); timestamps are shifted to a
//             kernel-uptime-like clock; a sched_switch line every 50 events is kernel context.
// * babeltrace — LTTng-UST `qemu:*` events as babeltrace prints them ([hh:mm:ss.ns] (+delta); src
//             with hostname, cpu_id and vpid/vtid/procname contexts; dst without hostname and
//             cpu_id), payload fields rebuilt from the log text with the self-built 10.0.13
//             trace-events-all. An event whose text does not fit that declaration (7.2 events,
//             changed formats) is declared `name(const char *msg) "%s"` in the trace-events-all
//             written beside the files, so the rewrite is exact and self-describing.
// * syslog  — syslog backend lines (PID only: must come out inconclusive): src BSD
//             `Mon dd hh:mm:ss.us`, dst RFC 3339.
// The binary `simple` format is not synthesised: the self-built run has the real files.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { convert } from '../src/convert/convert.js';
import { formatPrintf, type ArgValue, type Conv, type Piece } from '../src/ingest/formats/printf.js';
import { loadTraceEvents, type TraceEventDef } from '../src/ingest/trace-events.js';
import { detectFormat, newCounters, type TraceRecord } from '../src/ingest/trace-input.js';
import { loadCatalog } from '../src/model/catalog.js';
import { ROOT } from './helpers.js';

export const SELFBUILT = 'traces/10.0.13-selfbuilt/c-postcopy-preempt-1';
export const TRACE_EVENTS_ALL = join(ROOT, SELFBUILT, 'trace-events-all');
export const CONVERTED_FORMATS = ['csv', 'jsonl', 'ftrace', 'babeltrace', 'syslog'] as const;
export type ConvertedFormat = (typeof CONVERTED_FORMATS)[number];

/** Every real run named in traces/expected.json (relative to the repository root). */
export function realRuns(): string[] {
  const exp = JSON.parse(readFileSync(join(ROOT, 'traces/expected.json'), 'utf8')) as Record<string, unknown>;
  // Runs with a process log each (a per-thread-file run has threads/ instead: nothing to rewrite).
  return Object.keys(exp)
    .filter((k) => !k.startsWith('/') && existsSync(join(ROOT, 'traces', k, 'src.log')))
    .map((k) => `traces/${k}`);
}

interface Meta {
  pids: { src: number; dst: number };
  threads: Record<string, { side: string; names: string[] }>;
}

/** All records of one input, read the way `check` reads it. */
export async function readAll(path: string): Promise<TraceRecord[]> {
  const f = await detectFormat(path);
  const out: TraceRecord[] = [];
  for await (const b of f.read(path, 0, null, newCounters(path), { maxSamples: 0 })) out.push(...b);
  return out;
}


async function convertTo(inputs: string[], sides: Array<'src' | 'dst'>, to: 'csv' | 'jsonl', out: string): Promise<void> {
  await convert({ inputs, sides, to, catalog: loadCatalog([]) }, out);
}

function secs(us: number): string {
  const whole = Math.floor(us / 1e6);
  return `${whole}.${String(Math.round(us - whole * 1e6)).padStart(6, '0')}`;
}

function comm(meta: Meta, tid: number | null): string {
  return (meta.threads[String(tid)]?.names[0] ?? 'qemu-system-x86').slice(0, 15);
}

// ---- ftrace --------------------------------------------------------------------------------------

const FTRACE_HEADER = `# tracer: nop
#
# entries-in-buffer/entries-written: 0/0   #P:2
#
#                                _-----=> irqs-off/BH-disabled
#                               / _----=> need-resched
#                              | / _---=> hardirq/softirq
#                              || / _--=> preempt-depth
#                              ||| / _-=> migrate-disable
#                              |||| /     delay
#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
#              | |         |   |||||     |         |
`;

function ftraceText(recs: TraceRecord[], meta: Meta, pid: number, clock0: number, style: 'tracefs' | 'trace-cmd'): string {
  const lines: string[] = [style === 'tracefs' ? FTRACE_HEADER.trimEnd() : 'cpus=2'];
  let n = 0;
  for (const r of recs) {
    const tid = r.kind === 'event' ? (r.tid ?? pid) : pid;
    const ts = secs((r.ts ?? clock0) - clock0 + 8123e6);
    const task = `${comm(meta, tid)}-${tid}`;
    const cpu = `[${String(tid % 2).padStart(3, '0')}]`;
    const payload = r.kind === 'event' ? `${r.name} ${r.args}` : `${r.program ?? 'qemu-system-x86_64'}: ${r.text}`;
    if (style === 'tracefs') lines.push(`${task.padStart(22)} (${String(pid).padStart(7)}) ${cpu} ..... ${ts}: tracing_mark_write: ${payload}`);
    else lines.push(`${task.padStart(22)} ${cpu} ${ts}: print:                tracing_mark_write: ${payload}`);
    if (++n % 50 === 0) {
      const sw = `${task.padStart(22)} ${style === 'tracefs' ? `(${String(pid).padStart(7)}) ` : ''}${cpu} ${style === 'tracefs' ? 'd..2. ' : ''}${ts}: sched_switch: prev_comm=${comm(meta, tid)} prev_pid=${tid} prev_prio=120 prev_state=S ==> next_comm=swapper/1 next_pid=0 next_prio=120`;
      lines.push(sw);
    }
  }
  return `${lines.join('\n')}\n`;
}

// ---- babeltrace ----------------------------------------------------------------------------------

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function convRe(c: Conv): string {
  switch (c.conv) {
    case 'd':
    case 'i':
      return ' *([-+ ]?\\d+) *';
    case 'u':
      return ' *(\\d+) *';
    case 'x':
      return ' *((?:0x)?[0-9a-f]+) *';
    case 'X':
      return ' *((?:0X)?[0-9A-F]+) *';
    case 'o':
      return ' *([0-7]+) *';
    case 'p':
      return ' *(0x[0-9a-f]+|\\(nil\\)) *';
    case 'c':
      return '([\\s\\S])';
    case 's':
      return '([\\s\\S]*?)';
    default:
      return ' *([-+]?[\\d.]+(?:e[-+]?\\d+)?|nan|inf) *';
  }
}

const scanners = new WeakMap<TraceEventDef, { re: RegExp; convs: Conv[] } | null>();

function scanner(def: TraceEventDef): { re: RegExp; convs: Conv[] } | null {
  let s = scanners.get(def);
  if (s === undefined) {
    const convs = def.pieces.filter((p): p is Conv => typeof p !== 'string');
    if (convs.length !== def.args.length || convs.some((c) => c.width === '*' || c.prec === '*')) s = null;
    else {
      const pieces: Piece[] = [...def.pieces];
      const last = pieces[pieces.length - 1];
      if (typeof last === 'string') pieces[pieces.length - 1] = last.replace(/\s+$/, '');
      s = { re: new RegExp(`^${pieces.map((p) => (typeof p === 'string' ? escapeRe(p) : convRe(p))).join('')}\\s*$`), convs };
    }
    scanners.set(def, s);
  }
  return s;
}

/** The arguments that print as `text` with this declaration (a scanf), or null. */
export function scanArgs(def: TraceEventDef, text: string): ArgValue[] | null {
  const sc = scanner(def);
  if (!sc) return null;
  const convs = sc.convs;
  const m = sc.re.exec(text);
  if (!m) return null;
  const vals: ArgValue[] = convs.map((c, i) => {
    const t = m[i + 1]!.trim();
    switch (c.conv) {
      case 's':
        return m[i + 1]!;
      case 'c':
        return t.charCodeAt(0);
      case 'p':
        return t === '(nil)' ? 0 : BigInt(t);
      case 'x':
      case 'X':
        return BigInt(/^0x/i.test(t) ? t : `0x${t}`);
      case 'o':
        return BigInt(`0o${t}`);
      case 'd':
      case 'i':
      case 'u':
        return BigInt(t.replace(/^\+/, '').replace(/^ /, ''));
      default:
        return Number(t);
    }
  });
  return formatPrintf(def.pieces, vals).trimEnd() === text ? vals : null;
}

function btValue(v: ArgValue, c: Conv, isString: boolean): string {
  if (isString) return JSON.stringify(String(v));
  if (typeof v === 'number' && !Number.isInteger(v)) return String(v);
  const b = typeof v === 'bigint' ? v : BigInt(Math.trunc(Number(v)));
  if (c.conv === 'x' || c.conv === 'X' || c.conv === 'p') return `0x${BigInt.asUintN(64, b).toString(16).toUpperCase()}`;
  return b.toString();
}

function clockOfDay(us: number): string {
  const d = new Date(Math.floor(us / 1000));
  const ns = String(Math.round((us % 1e6) * 1000)).padStart(9, '0');
  return `${d.toISOString().slice(11, 19)}.${ns}`;
}

interface BtEvent {
  rec: Extract<TraceRecord, { kind: 'event' }>;
  side: 'src' | 'dst';
}

function babeltraceText(evs: BtEvent[], meta: Meta, defs: Map<string, TraceEventDef | 'fallback'>, style: 'host' | 'bare'): string {
  const lines: string[] = [];
  let prev: number | null = null;
  for (const { rec, side } of evs) {
    const ts = rec.ts ?? 0;
    const clock = clockOfDay(ts);
    const delta = prev === null ? '(+?.?????????)' : `(+${((ts - prev) / 1e6).toFixed(9)})`;
    prev = ts;
    const tid = rec.tid ?? meta.pids[side];
    const ctx = `{ vpid = ${meta.pids[side]}, vtid = ${tid}, procname = ${JSON.stringify(comm(meta, tid))} }`;
    const d = defs.get(rec.name)!;
    let payload: string;
    if (d === 'fallback') payload = `{ msg = ${JSON.stringify(rec.args)} }`;
    else {
      const vals = scanArgs(d, rec.args)!;
      const convs = d.pieces.filter((p): p is Conv => typeof p !== 'string');
      payload = d.args.length === 0 ? '{ }' : `{ ${d.args.map((a, i) => `${a.name} = ${btValue(vals[i]!, convs[i]!, a.isString)}`).join(', ')} }`;
    }
    if (style === 'host') lines.push(`[${clock}] ${delta} migtrace-host qemu:${rec.name}: { cpu_id = ${tid % 2} }, ${ctx}, ${payload}`);
    else lines.push(`[${clock}] ${delta} qemu:${rec.name}: ${ctx}, ${payload}`);
  }
  return `${lines.join('\n')}\n`;
}

// ---- syslog --------------------------------------------------------------------------------------

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function syslogText(recs: TraceRecord[], pid: number, style: 'bsd' | 'rfc3339'): string {
  const lines: string[] = [];
  for (const r of recs) {
    if (r.kind !== 'event') continue; // error_report goes to stderr, not to syslog
    const us = r.ts ?? 0;
    const d = new Date(Math.floor(us / 1000));
    const frac = String(Math.round(us % 1e6)).padStart(6, '0');
    const stamp =
      style === 'bsd'
        ? `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${d.toISOString().slice(11, 19)}.${frac}`
        : `${d.toISOString().slice(0, 19)}.${frac}+00:00`;
    lines.push(`${stamp} migtrace-host qemu-system-x86_64[${pid}]: ${r.name} ${r.args}`);
  }
  return `${lines.join('\n')}\n`;
}

// ---- all of them ---------------------------------------------------------------------------------

export interface ConversionLayout {
  /**
   * 'by-format' (default): outDir/<format>/src.<format>, dst.<format> (jsonl: run.jsonl).
   * 'run-folders': outDir/<format>/<key>/src.log, dst.log (jsonl: src.log, both processes) — run
   * folders `check outDir/<format>` walks, so one check covers every run (formats are detected by
   * content, never by name).
   */
  layout?: 'by-format' | 'run-folders';
  key?: string;
}

/** Writes every rewrite of the run; returns the files of each format. */
export async function writeConversions(runDir: string, outDir: string, opts: ConversionLayout = {}): Promise<Record<ConvertedFormat, string[]>> {
  const folders = opts.layout === 'run-folders';
  const names = folders
    ? { src: () => 'src.log', dst: () => 'dst.log', both: () => 'src.log' }
    : { src: (ext: string) => `src.${ext}`, dst: (ext: string) => `dst.${ext}`, both: (ext: string) => `run.${ext}` };
  const abs = join(ROOT, runDir);
  const meta = JSON.parse(readFileSync(join(abs, 'meta.json'), 'utf8')) as Meta;
  const src = join(abs, 'src.log');
  const dst = join(abs, 'dst.log');
  const recs = { src: await readAll(src), dst: await readAll(dst) };
  const dirs = Object.fromEntries(CONVERTED_FORMATS.map((f) => [f, folders ? join(outDir, f, opts.key ?? 'run') : join(outDir, f)])) as Record<ConvertedFormat, string>;
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });

  await convertTo([src], ['src'], 'csv', join(dirs.csv, names.src('csv')));
  await convertTo([dst], ['dst'], 'csv', join(dirs.csv, names.dst('csv')));
  await convertTo([src, dst], ['src', 'dst'], 'jsonl', join(dirs.jsonl, names.both('jsonl')));

  const clock0 = Math.floor(Math.min(recs.src[0]?.ts ?? 0, recs.dst[0]?.ts ?? 0) / 1e6) * 1e6;
  writeFileSync(join(dirs.ftrace, names.src('ftrace')), ftraceText(recs.src, meta, meta.pids.src, clock0, 'tracefs'));
  writeFileSync(join(dirs.ftrace, names.dst('ftrace')), ftraceText(recs.dst, meta, meta.pids.dst, clock0, 'trace-cmd'));

  const te = await loadTraceEvents(TRACE_EVENTS_ALL);
  const defs = new Map<string, TraceEventDef | 'fallback'>();
  const events = (side: 'src' | 'dst'): BtEvent[] => recs[side].filter((r): r is BtEvent['rec'] => r.kind === 'event').map((rec) => ({ rec, side }));
  const all = [...events('src'), ...events('dst')];
  for (const { rec } of all) {
    const cur = defs.get(rec.name);
    if (cur === 'fallback') continue;
    const def = cur ?? te.events.get(rec.name);
    defs.set(rec.name, def && scanArgs(def, rec.args) ? def : 'fallback');
  }
  const fallback = [...defs].filter(([, d]) => d === 'fallback').map(([n]) => n);
  const fallbackSet = new Set(fallback);
  const teText = readFileSync(TRACE_EVENTS_ALL, 'utf8')
    .split('\n')
    .filter((l) => !fallbackSet.has(/^(\w+)\(/.exec(l)?.[1] ?? ''))
    .concat(['# migtrace test rewrite: events whose text does not fit the 10.0.13 declaration', ...fallback.map((n) => `${n}(const char *msg) "%s"`)])
    .join('\n');
  writeFileSync(join(dirs.babeltrace, 'trace-events-all'), `${teText}\n`);
  writeFileSync(join(dirs.babeltrace, names.src('babeltrace')), babeltraceText(events('src'), meta, defs, 'host'));
  writeFileSync(join(dirs.babeltrace, names.dst('babeltrace')), babeltraceText(events('dst'), meta, defs, 'bare'));

  writeFileSync(join(dirs.syslog, names.src('syslog')), syslogText(recs.src, meta.pids.src, 'bsd'));
  writeFileSync(join(dirs.syslog, names.dst('syslog')), syslogText(recs.dst, meta.pids.dst, 'rfc3339'));

  return {
    csv: [join(dirs.csv, names.src('csv')), join(dirs.csv, names.dst('csv'))],
    jsonl: [join(dirs.jsonl, names.both('jsonl'))],
    ftrace: [join(dirs.ftrace, names.src('ftrace')), join(dirs.ftrace, names.dst('ftrace'))],
    babeltrace: [join(dirs.babeltrace, names.src('babeltrace')), join(dirs.babeltrace, names.dst('babeltrace'))],
    syslog: [join(dirs.syslog, names.src('syslog')), join(dirs.syslog, names.dst('syslog'))],
  };
}

/**
 * ftrace lines of every shape the format has (tracefs header, comm with spaces, slashes and dashes,
 * TGID, flags of 4, 5 or none, trace-cmd's print form, a kernel event, a LOST line, a bad line):
 * test/formats.test.ts says what each reads as; test/ftrace-bytes.test.ts holds the byte path to it.
 */
export const FTRACE_SHAPES: readonly string[] = [
  '# tracer: nop',
  '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION',
  '  mig/src/return-40123   [005] .....  8123.456789: tracing_mark_write: postcopy_preempt_send_host_page ramblock pc.ram offset 0x3a7',
  '    mig/src/main-40120   (  40001) [002] d..1.  8123.457001: tracing_mark_write: migration_completion_postcopy_end ',
  ' qemu-system-x86-40001   (-------) [000] ....  8123.460000: tracing_mark_write: migration_cleanup ',
  '       CPU 0/KVM-40130   [001] .....  8123.460100: kvm_exit: reason EPT_VIOLATION rip 0xffffffff',
  '  qemu-system-x86-40001 [000]  8123.470000: print:                tracing_mark_write: migrate_set_state new state completed',
  'CPU:1 [LOST 17 EVENTS]',
  '  this is not an ftrace line',
  '    worker-1-2-777   [000] ..s.  8123.480000: tracing_mark_write: qemu_file_fclose ',
];
