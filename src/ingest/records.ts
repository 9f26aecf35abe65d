// What every input format produces: batches of records (events and QEMU messages) in input
// order, and exact accounting — every line (or binary record) is one of event, message,
// unparsed or blank, and the counts add up.
import { stat } from 'node:fs/promises';
import type { InputQuality, Side, TraceEvent, TraceMessage, UnparsedSample } from '../types.js';
import type { LineBatch } from './lines.js';
import type { ByteEvent } from './log-format.js';
import type { ArgsUse, BytesMatcher } from '../model/catalog.js';

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
  /**
   * Which events' arguments the caller reads (catalog.ts argsUse): a reader thread's plain-file
   * events outside it come with args ''. Absent: every event's arguments.
   */
  argsUse?: ArgsUse;
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
  /**
   * The event one of its lines holds (name, thread id), or null: how a line a reader left in its
   * file is checked when a report reads it back (replay/read-back.ts). A format without it keeps
   * every line's text.
   */
  lineEvent?(line: string): { name: string; tid: number | null } | null;
  /** The young generation of its reader thread, MiB (worker-read.ts; default READER_YOUNG_MB). */
  readerYoungMb?: number;
  /** Line-based formats: the same read, into a reader thread's encoder (record-codec.ts RecordEncoder; same records, same counts). */
  readEncoded?(path: string, input: number, side: Side | null, counters: InputCounters, opts: InputReadOptions, enc: LineSink<EncodedBatch> & RenderedSink<EncodedBatch>): AsyncGenerator<EncodedBatch>;
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

/**
 * Where a text reader puts what it parsed: a list of records for this thread (text-reader.ts
 * RecordListSink), or
 * an encoded batch for a reader thread to post (record-codec.ts RecordEncoder).
 */
export interface LineSink<B> {
  /** The sink takes the lines as bytes, and events scanned from them through `byteEvent`. */
  readonly bytesOnly: boolean;
  /** `rereadable`: the lines are a plain file's, readable again at their offsets (bytes.ts). */
  begin(lines: LineBatch, rereadable: boolean): void;
  add(rec: TraceRecord): void;
  /** An event read from the line's bytes b[start, end) by scanEventBytes (bytesOnly sinks); `at`: its offset in the input. */
  byteEvent?(e: ByteEvent, b: Uint8Array, start: number, end: number, at: number, side: Side | null, line: number): void;
  end(): B;
}

/** A batch of records encoded to cross from a reader thread (record-codec.ts). */
export interface EncodedBatch {
  meta: Float64Array;
  /** The records' strings in order (raw line, then args when not a piece of it, then thread name). */
  strs: string[];
  /** Event names first used in this batch; their ids follow the previous batches' names. */
  names: string[];
  count: number;
  lineBytes?: { bytes: Uint8Array; starts: Uint32Array; ends: Uint32Array; firstLine: number; offsets?: Float64Array };
}

/** What a sink keeps per event name (made once per mapping record). */
export interface SinkName {
  name: string;
  /** The sink's id for the name (record-codec.ts), or -1. */
  id: number;
  /** The name's catalog rows compiled to match against the arguments (reader threads), or undefined. */
  rows: BytesMatcher | undefined;
}

/** The rendered events of one batch: record `line` is bytes[starts[line - firstLine], ends[...]). */
export interface RenderedText {
  bytes: Buffer;
  starts: Uint32Array;
  ends: Uint32Array;
  firstLine: number;
}

/** Where the simple reader puts a batch's records. */
export interface RenderedSink<B> {
  nameRef(name: string): SinkName;
  /** `maxRecords`: at most this many records (events and messages) will be given. */
  beginRendered(maxRecords: number): void;
  /** An event rendered as ASCII `name args` into text[start, end), its arguments from argsAt. */
  renderedEvent(n: SinkName, text: Buffer, start: number, argsAt: number, end: number, ts: number, pid: number, side: Side | null, line: number): void;
  /** A message, or an event whose text is not ASCII (its strings made here). */
  add(rec: TraceRecord): void;
  /** The batch; null when there is nothing in it to send. */
  endRendered(text: RenderedText): B | null;
}

/** Options that belong to one input rather than to one read (see InputReadOptions). */
export interface FormatOptions {
  traceEvents?: string;
  tid?: number;
}

/**
 * The format with per-input options bound in, so every read of the input (side inference, the
 * replay, convert) sees them without its caller knowing about them.
 */
export function withFormatOptions(format: TraceFormat, o: FormatOptions): TraceFormat {
  if (o.traceEvents === undefined && o.tid === undefined) return format;
  return {
    ...format,
    read: (path, input, side, counters, opts) => format.read(path, input, side, counters, bound(opts)),
    ...(format.readEncoded ? { readEncoded: (path, input, side, counters, opts, enc) => format.readEncoded!(path, input, side, counters, bound(opts), enc) } : {}),
  };
  function bound(opts: InputReadOptions): InputReadOptions {
    return { ...opts, traceEvents: opts.traceEvents ?? o.traceEvents, tid: opts.tid ?? o.tid };
  }
}
