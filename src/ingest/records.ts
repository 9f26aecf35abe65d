// What every input format produces: batches of records (events and QEMU messages) in input
// order, and exact accounting — every line (or binary record) is one of event, message,
// unparsed or blank, and the counts add up.
import { stat } from 'node:fs/promises';
import type { Side, TraceEvent, TraceMessage, UnparsedSample } from '../types.js';

export type TraceRecord = ({ kind: 'event' } & TraceEvent) | ({ kind: 'message' } & TraceMessage);

export interface InputCounters {
  path: string;
  lines: number;
  blank: number;
  events: number;
  eventsWithoutTid: number;
  eventsWithoutTs: number;
  messages: number;
  unparsed: number;
  outOfOrder: number;
  overlong: number;
  /** Events found after other text on their line (CI prefixes, interleaved error messages). */
  embedded: number;
  bytes: number;
  totalBytes: number;
}

export interface InputReadOptions {
  /** How many unparsed lines to keep as samples (all are counted). */
  maxSamples: number;
  onUnparsed?: (s: UnparsedSample) => void;
}

export function newCounters(path: string): InputCounters {
  return { path, lines: 0, blank: 0, events: 0, eventsWithoutTid: 0, eventsWithoutTs: 0, messages: 0, unparsed: 0, outOfOrder: 0, overlong: 0, embedded: 0, bytes: 0, totalBytes: 0 };
}

export class InputError extends Error {}

export async function fileSize(path: string): Promise<number> {
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
}
