// What the assembly stage takes (a run as the user gave it: files, sides they named) and what it
// hands the replay (each input with its format and side, or its threads' sides).
import type { TraceFormat } from '../ingest/trace-input.js';
import type { RunInput, Side } from '../types.js';

export interface RunSpecInput {
  path: string;
  /** The side the user named (--src/--dst): no inference for it. */
  side?: Side;
  /** The format the user named (--input-format): no detection. */
  format?: string;
  /** The thread id from a per-thread file's name (`-d tid -D name-%d`). */
  tid?: number;
  /** The per-thread files this one came with (their `-D` pattern, e.g. `run/t-%d.log`). */
  group?: string;
}

export interface RunSpec {
  name: string;
  inputs: RunSpecInput[];
  /** What the caller wants said about how the inputs were chosen (files left out, and why). */
  notes?: string[];
  /** Per-thread files of a test suite's QEMUs: the suite's own log, with the TAP markers that name the tests. */
  qtestLog?: string;
  /** What each file beside `qtestLog` is: one thread (`-d tid -D t-%d.log`) or one process (`-D q-%d.log`, %d the PID). */
  qtestFiles?: 'thread' | 'process';
}

/** The inputs of one run, ready to replay; index for index the spec's inputs. */
export interface AssembledRun {
  inputs: RunInput[];
  formats: TraceFormat[];
  /** Per input holding threads of both sides (a CI log, or a per-thread file whose side is still open): each TID's side so far. */
  tidSides: Array<Map<number, Side> | undefined>;
  /** How the sides were told apart where that needs saying (names used, threads left unassigned). */
  notes: string[];
}
