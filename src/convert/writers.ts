// Writers for the normalized event stream: csv and jsonl (read back by formats/csv.ts and
// formats/jsonl.ts), and QEMU's log format (TID@sec.usec:name args; ISO prefix when there is a
// time but no thread id; bare when neither), so any migtrace input can be fed to tools that only
// read QEMU logs.
import type { TraceRecord } from '../ingest/trace-input.js';
import { CSV_COLUMNS } from '../ingest/formats/csv.js';
import type { Side } from '../types.js';
import { isoText, secondsText } from './time.js';

export type OutputFormat = 'csv' | 'jsonl' | 'log';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['csv', 'jsonl', 'log'];

export interface RecordWriter {
  header: string;
  line(rec: TraceRecord, side: Side | null): string;
}

function csvField(s: string): string {
  return /[",\n\r]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const csvWriter: RecordWriter = {
  header: `${CSV_COLUMNS.join(',')}\n`,
  line(rec, side) {
    const time = rec.ts === null ? '' : secondsText(rec.ts);
    if (rec.kind === 'message') return `${time},,,,${csvField(rec.text)},${side ?? ''},${csvField(rec.program ?? '')},\n`;
    return `${time},${rec.tid ?? ''},${rec.pid ?? ''},${rec.name},${csvField(rec.args)},${side ?? ''},,${csvField(rec.thread ?? '')}\n`;
  },
};

/** ts as a JSON number with the same digits secondsText prints (no float noise). */
function jsonTs(us: number | null): string {
  return us === null ? 'null' : String(Number(secondsText(us)));
}

const jsonlWriter: RecordWriter = {
  header: '',
  line(rec, side) {
    if (rec.kind === 'message') {
      return `{"ts":${jsonTs(rec.ts)},"message":${JSON.stringify(rec.text)}${rec.program ? `,"program":${JSON.stringify(rec.program)}` : ''}${side ? `,"side":"${side}"` : ''}}\n`;
    }
    let s = `{"ts":${jsonTs(rec.ts)},"tid":${rec.tid ?? 'null'}`;
    if (rec.pid !== undefined) s += `,"pid":${rec.pid}`;
    if (side) s += `,"side":"${side}"`;
    s += `,"event":${JSON.stringify(rec.name)},"args":${JSON.stringify(rec.args)}`;
    if (rec.thread !== undefined) s += `,"thread":${JSON.stringify(rec.thread)}`;
    return `${s}}\n`;
  },
};

function logTime(us: number): string {
  const whole = Math.floor(us / 1e6);
  return `${whole}.${String(Math.floor(us - whole * 1e6)).padStart(6, '0')}`;
}

const logWriter: RecordWriter = {
  header: '',
  line(rec) {
    if (rec.kind === 'message') return `${rec.ts === null ? '' : `${isoText(rec.ts)} `}${rec.program ?? 'qemu'}: ${rec.text}\n`;
    // The log backend prints a trailing space for an empty format; keep that shape.
    const body = `${rec.name} ${rec.args}`;
    if (rec.tid !== null && rec.ts !== null) return `${rec.tid}@${logTime(rec.ts)}:${body}\n`;
    if (rec.ts !== null) return `${isoText(rec.ts)} ${body}\n`;
    return `${body}\n`;
  },
};

export const WRITERS: Record<OutputFormat, RecordWriter> = { csv: csvWriter, jsonl: jsonlWriter, log: logWriter };
