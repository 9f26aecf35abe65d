// Trace events as CSV (what `migtrace convert --to csv` writes), read with csv-parse's streaming
// parser. The first record is a header naming the columns, in any order:
//   time,tid,pid,event,args[,side,process,thread]
//   1795636379.825007,8619,8619,qio_channel_socket_new,Socket new ioc=0x562e1ac49660,src,qemu-system-x86_64,qemu-system-x86
// time: seconds (any clock; empty = unknown); tid/pid: integers or empty; event: the trace event
// name (a row with an empty event and text in args is a QEMU message); side: src|dst or empty.
// Only `event` is required (`ts` is accepted for `time`). Blank lines and lines starting with '#'
// (outside a quoted field) are ignored. RFC 4180 quoting; a quoted field may span lines, but one
// still open after 64 KiB (or at the end of the input) is an unterminated quote: that line is
// reported unparsed and reading restarts on the next line, so one bad quote costs one row.
import { parse, type Parser } from 'csv-parse';
import { openBytes } from '../bytes.js';
import { splitLines } from '../lines.js';
import { fileSize, InputError, type InputCounters, type InputReadOptions, type TraceFormat, type TraceRecord } from '../records.js';
import type { Side } from '../../types.js';
import { secondsTextToMicros } from './text-reader.js';

export const CSV_COLUMNS = ['time', 'tid', 'pid', 'event', 'args', 'side', 'process', 'thread'] as const;
const MAX_OPEN_QUOTE_BYTES = 64 << 10;
const NAME = /^[A-Za-z_]\w*$/;
const INT = /^\d+$/;

interface Columns {
  time: number;
  tid: number;
  pid: number;
  event: number;
  args: number;
  side: number;
  process: number;
  thread: number;
}

function columnsOf(header: string[]): Columns | null {
  const idx = (...names: string[]) => {
    for (const n of names) {
      const i = header.findIndex((h) => h.trim().toLowerCase() === n);
      if (i >= 0) return i;
    }
    return -1;
  };
  const c: Columns = { time: idx('time', 'ts'), tid: idx('tid'), pid: idx('pid'), event: idx('event', 'name'), args: idx('args'), side: idx('side'), process: idx('process'), thread: idx('thread') };
  return c.event < 0 ? null : c;
}

/**
 * Whether a line ends inside a quoted field, starting `inQuote` or not. Mirrors csv-parse with
 * relax_quotes: a quote opens a field only at its start; inside, "" is a quote and a quote not
 * followed by ',' or the end of the line turns the rest of the field into plain text.
 */
export function endsInQuote(line: string, inQuote: boolean): boolean {
  let q = inQuote;
  let fieldStart = !inQuote;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (q) {
      if (c === 34) {
        if (line.charCodeAt(i + 1) === 34) i++;
        else q = false;
      }
      continue;
    }
    if (c === 44) fieldStart = true;
    else {
      if (c === 34 && fieldStart) q = true;
      fieldStart = false;
    }
  }
  return q;
}

interface Group {
  start: number;
  /** Fed-line number (in the current parser) of the group's last line. */
  fedEnd: number;
  text: string;
}

async function* readCsvRecords(path: string, input: number, side: Side | null, counters: InputCounters, opts: InputReadOptions): AsyncGenerator<TraceRecord[]> {
  counters.totalBytes = await fileSize(path);
  const src = openBytes(path, { headOnly: opts.headOnly === true, reuseChunks: true });
  let samples = 0;
  const unparsed = (line: number, text: string, reason: string) => {
    counters.unparsed++;
    if (samples++ < opts.maxSamples) opts.onUnparsed?.({ file: path, line, text: text.slice(0, 200), reason });
  };
  const stampTid = opts.tid ?? null;
  const lastTsByTid = new Map<number, number>();
  let cols: Columns | null = null;
  let out: TraceRecord[] = [];

  // csv-parse hands each record to on_record synchronously as it is parsed (returning null keeps
  // it off the stream, so there is no second buffer); record boundaries are known to us already.
  let parser!: Parser;
  let fedLines = 0;
  const groups: Group[] = [];
  const skipped = new Map<number, string>();
  let failure = null as Error | null; // set by the parser's callbacks
  const newParser = () => {
    fedLines = 0;
    parser = parse({
      relax_column_count: true,
      relax_quotes: true,
      skip_records_with_error: true,
      record_delimiter: '\n',
      max_record_size: MAX_OPEN_QUOTE_BYTES * 2,
      on_skip: (err) => {
        if (err) skipped.set((err as { lines?: number }).lines ?? 0, err.message);
      },
      on_record: (record: string[], ctx: { lines: number }) => {
        onRecord(record, ctx.lines);
        return null;
      },
    });
    parser.on('error', (e) => (failure = e));
  };

  const onRecord = (record: string[], endLine: number) => {
    if (failure) return;
    // Groups the parser passed over without a record were rejected by it.
    while (groups.length && groups[0]!.fedEnd < endLine) {
      const g = groups.shift()!;
      unparsed(g.start, g.text, `CSV: ${skipped.get(g.fedEnd) ?? 'record rejected by the CSV parser'}`);
    }
    const g = groups.shift() ?? { start: 0, fedEnd: endLine, text: record.join(',') };
    if (cols === null) {
      cols = columnsOf(record);
      counters.blank++;
      if (!cols) failure = new InputError(`${path}:${g.start}: the CSV header must name its columns, at least 'event' (${CSV_COLUMNS.join(',')}); found: ${g.text.slice(0, 120)}`);
      return;
    }
    const c = cols;
    const field = (i: number) => (i >= 0 ? (record[i] ?? '').trim() : '');
    const event = field(c.event);
    const timeText = field(c.time);
    const ts = timeText === '' ? null : secondsTextToMicros(timeText);
    if (ts === null && timeText !== '') return unparsed(g.start, g.text, `time '${timeText.slice(0, 40)}' is not seconds (e.g. 1795636379.825007)`);
    const args = c.args >= 0 ? (record[c.args] ?? '') : '';
    if (event === '') {
      if (args.trim() === '') return unparsed(g.start, g.text, 'neither an event name nor message text');
      counters.messages++;
      out.push({ kind: 'message', text: args, program: field(c.process) || null, ts, input, line: g.start });
      return;
    }
    if (!NAME.test(event)) return unparsed(g.start, g.text, `'${event.slice(0, 40)}' is not an event name`);
    const tidText = field(c.tid);
    const pidText = field(c.pid);
    if (tidText !== '' && !INT.test(tidText)) return unparsed(g.start, g.text, `tid '${tidText.slice(0, 20)}' is not a thread id`);
    if (pidText !== '' && !INT.test(pidText)) return unparsed(g.start, g.text, `pid '${pidText.slice(0, 20)}' is not a process id`);
    const sideText = field(c.side);
    if (sideText !== '' && sideText !== 'src' && sideText !== 'dst') return unparsed(g.start, g.text, `side '${sideText.slice(0, 20)}' is not src or dst`);
    const tid = tidText === '' ? stampTid : Number(tidText);
    counters.events++;
    if (tid === null) counters.eventsWithoutTid++;
    if (ts === null) counters.eventsWithoutTs++;
    else if (tid !== null) {
      const last = lastTsByTid.get(tid);
      if (last !== undefined && ts < last) counters.outOfOrder++;
      lastTsByTid.set(tid, ts);
    }
    const rec: TraceRecord = { kind: 'event', name: event, side: side ?? ((sideText || null) as Side | null), args: args.replace(/\s+$/, ''), tid, ts, input, line: g.start, raw: g.text };
    if (pidText !== '') rec.pid = Number(pidText);
    const thread = field(c.thread);
    if (thread) rec.thread = thread;
    out.push(rec);
  };

  // Lines are grouped into whole records before csv-parse sees them, so an unterminated quote can
  // be reported and skipped instead of swallowing the rest of the input.
  let open: { start: number; lines: string[]; bytes: number } | null = null;
  let feed: string[] = [];
  const emit = (start: number, lines: string[]) => {
    fedLines += lines.length;
    groups.push({ start, fedEnd: fedLines, text: lines.join('\n') });
    feed.push(...lines);
    counters.blank += lines.length - 1; // continuation lines of a multi-line record
  };
  const flushFeed = () => {
    if (feed.length === 0) return;
    parser.write(`${feed.join('\n')}\n`);
    feed = [];
    if (failure) throw failure;
  };
  const take = (lineNo: number, line: string) => {
    if (open === null) {
      const t = line.trimStart();
      if (t === '' || t.startsWith('#')) {
        counters.blank++;
        return;
      }
      if (endsInQuote(line, false)) open = { start: lineNo, lines: [line], bytes: line.length };
      else emit(lineNo, [line]);
      return;
    }
    open.lines.push(line);
    open.bytes += line.length + 1;
    if (!endsInQuote(line, true)) {
      emit(open.start, open.lines);
      open = null;
    } else if (open.bytes > MAX_OPEN_QUOTE_BYTES) abandon();
  };
  /** The open quote never closes: its first line is unparsed; the lines after it are read afresh. */
  const abandon = () => {
    const o = open!;
    open = null;
    unparsed(o.start, o.lines[0]!, `unterminated quote: the quoted field opened on line ${o.start} is not closed ${o.bytes > MAX_OPEN_QUOTE_BYTES ? 'within 64 KiB' : 'before the end of the input'}`);
    o.lines.slice(1).forEach((l, k) => take(o.start + 1 + k, l));
  };

  newParser();
  try {
    for await (const batch of splitLines(src.chunks)) {
      let lineNo = batch.firstLine;
      let overlongIdx = 0;
      for (const raw of batch.lines) {
        counters.lines++;
        if (batch.overlong[overlongIdx] === lineNo) {
          overlongIdx++;
          counters.overlong++;
          unparsed(lineNo, raw, 'line longer than 1 MiB (cut)');
        } else take(lineNo, raw);
        lineNo++;
      }
      flushFeed();
      counters.bytes = src.rawBytes();
      const ready = out;
      out = [];
      if (ready.length) yield ready;
    }
    while (open !== null) abandon();
    flushFeed();
    parser.end();
    await new Promise<void>((resolve) => {
      parser.once('finish', resolve);
      parser.once('error', () => resolve());
      parser.once('close', resolve);
    });
    if (failure) throw failure;
    for (const g of groups.splice(0)) unparsed(g.start, g.text, `CSV: ${skipped.get(g.fedEnd) ?? 'record rejected by the CSV parser'}`);
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${path}:${counters.lines}: CSV read failed (${(e as Error).message})`);
  } finally {
    parser.destroy();
  }
  counters.bytes = src.rawBytes();
  counters.notes.push(...src.warnings);
  if (cols === null && counters.lines > counters.blank) throw new InputError(`${path}: no CSV header`);
  if (out.length) yield out;
}

export const CSV_FORMAT: TraceFormat = {
  name: 'csv',
  describe: 'CSV with a header (migtrace convert --to csv): time,tid,pid,event,args[,side,process,thread]',
  threadIds: true,
  detect(head) {
    const lines = head.toString('utf8').split('\n');
    const first = lines.find((l) => l.trim() && !l.trimStart().startsWith('#'));
    if (!first) return 0;
    const names = first
      .split(',')
      .map((h) => h.trim().replace(/^"|"$/g, '').toLowerCase());
    if (!names.includes('event') && !names.includes('name')) return 0;
    const known = names.filter((n) => (CSV_COLUMNS as readonly string[]).includes(n) || n === 'ts' || n === 'name').length;
    return known >= 3 ? 1 : known / 4;
  },
  read: readCsvRecords,
};
