// The timeline's data model: what the timeline keeps of a run's replay (TimelineData) and what the
// layout derives from it (spans, windows, rows). Times are microseconds since the epoch, as the
// ingest stage gives them, unless a field says otherwise. No IO and no rendering here.
import type { Role, Side } from '../types.js';

/** One swimlane: a thread with a migration role, or the catch-all lanes of a side. */
export interface Lane {
  id: number;
  side: Side | null;
  /** 'other' = threads without a migration role; 'all' = a trace without thread ids. */
  role: Role | 'other' | 'all';
  tid: number | null;
  /** "rp 22585", "rp#2 22714", "other threads", "all threads (no TIDs)". */
  label: string;
  /** Up to 4 characters, for the terminal legend ("mig", "rp2"). */
  short: string;
  /** First and last event seen on the lane (µs), null when none. */
  first: number | null;
  last: number | null;
  /** Thread exit event seen (so the lane ends there, not just where the trace ends). */
  exited: boolean;
  events: number;
}

/** A trace event the timeline kept. */
export interface TlEvent {
  /** µs since the epoch (or the line number when the input has no timestamps). */
  t: number;
  lane: number;
  name: string;
  input: number;
  line: number;
  /** The trace line, trimmed and cut at 240 characters. */
  text: string;
  /** Catalog signal when it is one the layout uses (state, thread-exit, eos-window-begin, ...). */
  signal: string | null;
  /** The thread role the catalog gives that signal's event (e.g. preempt for postcopy_preempt_thread_exit), when it names one. */
  role: Role | null;
  /** The migration state a state change sets (the catalog's `state` field), else null. */
  state: string | null;
  /** Kept whatever the caps: a state change, a lifecycle point, a window boundary, a finding's event. */
  key: boolean;
  /** Inside a selected time window. */
  focus: boolean;
  /** Indexes into the run's findings whose locations name this event (input path + line). */
  findings: number[];
}

/** A selected time range: around findings and the end of postcopy, or what --from/--to asked. */
export interface TimeWindow {
  from: number;
  to: number;
  /** Why the window is there ("finding 1", "migration_completion_postcopy_end", "--from/--to"). */
  reasons: string[];
  /** Events inside the window that were aggregated because the event cap was reached. */
  aggregated: number;
}

/** Events not kept individually, counted per lane, event name and time bucket. */
export interface Histogram {
  /** Bucket width in µs (a power of two). */
  width: number;
  /** Start of bucket 0 (µs). */
  origin: number;
  names: string[];
  /** [bucket, lane, name index, count]. */
  cells: Array<[number, number, number, number]>;
}

export interface TimelineData {
  run: string;
  inputs: string[];
  /** 'trace': timestamps; 'order': no input had any, so t is the line number. */
  timeBase: 'trace' | 'order';
  /** First and last event time (µs); t0 is the origin of relative times (+1.2). */
  t0: number;
  tEnd: number;
  lanes: Lane[];
  /** Kept events, in time order. */
  events: TlEvent[];
  windows: TimeWindow[];
  /** Every event outside the windows is in `events` (else those are only in the histogram). */
  contextComplete: boolean;
  histogram: Histogram;
  /** Total events read, and how many of them were kept individually. */
  totalEvents: number;
  keptEvents: number;
  notes: string[];
}

/** A migration state, from one migrate_set_state to the next (or the end of the trace). */
export interface StateBand {
  side: Side;
  state: string;
  from: number;
  to: number;
  /** The band runs to the end of the trace (no later state change). */
  open: boolean;
  event: TlEvent;
}

/** A thread owning a QEMUFile (the model of §B/§G.2). */
export interface OwnerSpan {
  file: string;
  lane: number;
  from: number;
  to: number;
  open: boolean;
  why: string;
}

/** A bracketed access window: a thread acting on a QEMUFile it may not own, or a cleanup in progress. */
export interface AccessWindow {
  kind: 'eos' | 'cleanup' | 'rp-join';
  file: string | null;
  lane: number;
  from: number;
  to: number;
  /** Never closed within the trace. */
  open: boolean;
  label: string;
  /** A finding names one of its boundary events. */
  conflict: boolean;
  /** The events that open and close it (null: still open at the end of the trace). */
  begin: TlEvent;
  end: TlEvent | null;
}

export interface Spans {
  states: StateBand[];
  owners: OwnerSpan[];
  windows: AccessWindow[];
}
