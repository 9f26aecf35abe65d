// One input file → batches of parsed records (events and QEMU messages), with exact line
// accounting: every line is one of event, message, unparsed or blank, and the counts add up.
import { stat } from 'node:fs/promises';
import type { Side, TraceEvent, TraceMessage, UnparsedSample } from '../types.js';
import { readLineBatches } from './lines.js';
import { newScratch, parseInto } from './log-format.js';

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
  bytes: number;
  totalBytes: number;
}

export interface InputReadOptions {
  /** How many unparsed lines to keep as samples (all are counted). */
  maxSamples: number;
  onUnparsed?: (s: UnparsedSample) => void;
}

export function newCounters(path: string): InputCounters {
  return { path, lines: 0, blank: 0, events: 0, eventsWithoutTid: 0, eventsWithoutTs: 0, messages: 0, unparsed: 0, outOfOrder: 0, overlong: 0, bytes: 0, totalBytes: 0 };
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

/**
 * Reads one log-backend trace file. Records come in file order; timestamps that go backwards
 * within one thread are counted (cross-thread reordering by a few µs is normal: QEMU takes the
 * time before it takes the log lock).
 */
export async function* readTraceRecords(
  path: string,
  input: number,
  side: Side | null,
  counters: InputCounters,
  opts: InputReadOptions,
): AsyncGenerator<TraceRecord[]> {
  counters.totalBytes = await fileSize(path);
  const lastTsByTid = new Map<number, number>();
  const p = newScratch();
  let samples = 0;
  try {
    for await (const batch of readLineBatches(path)) {
      const out: TraceRecord[] = [];
      let lineNo = batch.firstLine;
      let overlongIdx = 0;
      for (const raw of batch.lines) {
        counters.lines++;
        const isOverlong = batch.overlong[overlongIdx] === lineNo;
        if (isOverlong) {
          overlongIdx++;
          counters.overlong++;
          counters.unparsed++;
          if (samples++ < opts.maxSamples) opts.onUnparsed?.({ file: path, line: lineNo, text: raw.slice(0, 200), reason: 'line longer than 1 MiB (cut)' });
          lineNo++;
          continue;
        }
        switch (parseInto(raw, p)) {
          case 'blank':
            counters.blank++;
            break;
          case 'unparsed':
            counters.unparsed++;
            if (samples++ < opts.maxSamples) opts.onUnparsed?.({ file: path, line: lineNo, text: raw.slice(0, 200), reason: p.reason });
            break;
          case 'message':
            counters.messages++;
            out.push({ kind: 'message', text: p.text, program: p.program, ts: p.ts, input, line: lineNo });
            break;
          case 'event': {
            counters.events++;
            if (p.tid === null) counters.eventsWithoutTid++;
            if (p.ts === null) counters.eventsWithoutTs++;
            else if (p.tid !== null) {
              const last = lastTsByTid.get(p.tid);
              if (last !== undefined && p.ts < last) counters.outOfOrder++;
              lastTsByTid.set(p.tid, p.ts);
            }
            out.push({ kind: 'event', name: p.name, side, args: p.args, tid: p.tid, ts: p.ts, input, line: lineNo, raw });
            break;
          }
        }
        lineNo++;
      }
      counters.bytes = batch.bytesRead;
      yield out;
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${path}:${counters.lines + 1}: read failed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
