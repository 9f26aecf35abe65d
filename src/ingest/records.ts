// What every input format produces: batches of records (events and QEMU messages) in input
// order, and exact accounting — every line (or binary record) is one of event, message,
// unparsed or blank, and the counts add up.
import { stat } from 'node:fs/promises';
import type { InputQuality, Side, TraceEvent, TraceMessage, UnparsedSample } from '../types.js';
import type { EncodedBatch, RecordEncoder } from './record-codec.js';

/**
 * An event may also carry what its format knows beyond TraceEvent: the process id (simple, ftrace
 * with TGID, LTTng vpid, syslog, CSV/JSONL) and the thread name (ftrace comm, LTTng procname, the
 * log `prog(TID:name):` prefix). `convert` writes them; the replay does not need them.
 * A message with `dropped` marks where the backend lost that many events (simple DROPPED record,
 * ftrace LOST line): in the merged stream it sits where the loss happened.
 * `argsAt`: where `args` starts in `raw` when it is a piece of it, else -1 or absent (lets the
 * worker-thread codec send one string per event).
 * `rowsMask`: which of the event's catalog rows apply, when a reader thread matched them
 * (record-codec.ts; catalog.ts rowsForMask).
 */
export type TraceRecord = ({ kind: 'event'; pid?: number; thread?: string; argsAt?: number; rowsMask?: number } & TraceEvent) | ({ kind: 'message'; dropped?: number } & TraceMessage);

export interface InputCounters extends InputQuality {
  /** What the reader wants said about this input (e.g. where argument names came from). */
  notes: string[];
  /** Raw bytes consumed so far (compressed bytes for .gz), for progress. */
  bytes: number;
  /** Raw size (0 when unknown: standard input). */
  totalBytes: number;
}

export interface InputReadOptions {
  /** How many unparsed lines to keep as samples (all are counted). */
  maxSamples: number;
  onUnparsed?: (s: UnparsedSample) => void;
  /**
   * Events of a plain file may come without their line's text (raw '', TraceEvent.at set): the
   * caller reads back the lines it reports (read-back.ts); and events a reader scans as bytes
   * (log, ftrace) come without the thread name and process id (the replay uses neither). The
   * replay asks it; tools that show every field (timeline, convert) do not.
   */
  textLater?: boolean;
  /** A QEMU trace-events file (trace-events-all of the build) for binary and typed formats. */
  traceEvents?: string;
  /** Stamp this thread id on every event that has none (per-thread log files, `-d tid -D f-%d`). */
  tid?: number;
  /**
   * Read only the head that detection buffered (at most STDIN_HEAD_BYTES): for side inference of
   * an input that can be read only once (standard input). Ignored for files.
   */
  headOnly?: boolean;
}

export function newCounters(path: string): InputCounters {
  return { path, lines: 0, blank: 0, events: 0, eventsWithoutTid: 0, eventsWithoutTs: 0, messages: 0, unparsed: 0, outOfOrder: 0, overlong: 0, dropped: 0, embedded: 0, notes: [], bytes: 0, totalBytes: 0 };
}

export class InputError extends Error {}

export async function fileSize(path: string): Promise<number> {
  if (path === '-') return 0; // standard input: size unknown
  try {
    const s = await stat(path);
    if (s.isDirectory()) throw new InputError(`${path}: is a directory, expected a trace file`);
    return s.size;
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** A trace format: how to recognise it from the head of an input, and how to stream it. */
export interface TraceFormat {
  name: string;
  /** One line for --help and errors: what it is and which QEMU option produces it. */
  describe: string;
  /** Whether its records can carry thread ids (§F). */
  threadIds: boolean;
  /** Confidence 0..1 that `head` (the first bytes of the input) is this format. */
  detect(head: Buffer): number;
  read(path: string, input: number, side: Side | null, counters: InputCounters, opts: InputReadOptions): AsyncGenerator<TraceRecord[]>;
  /** Line-based formats: the same read, into a reader thread's encoder (same records, same counts). */
  readEncoded?(path: string, input: number, side: Side | null, counters: InputCounters, opts: InputReadOptions, enc: RecordEncoder): AsyncGenerator<EncodedBatch>;
}

/** The first non-blank lines of an input's head, as format detectors look at them. */
export function headLines(head: Buffer, max = 200): string[] {
  const out: string[] = [];
  for (const l of head.toString('utf8').split('\n')) {
    if (out.length >= max) break;
    if (l.trim()) out.push(l.replace(/\r$/, ''));
  }
  return out;
}
