// What the one replay hands its observers: each record of the merged stream once, after the model
// placed it (side, thread), with what the model made of it. The model and its rules are the
// first consumer (model.ts); the timeline, the HTML report's payload and convert watch the same
// stream instead of reading the inputs again.
import type { TraceRecord } from '../ingest/trace-input.js';
import type { CatalogRow } from '../model/catalog.js';
import type { Role } from '../types.js';

/** What the model made of one record. One object, reused for every record: do not keep it. */
export interface Seen {
  /** The catalog rows of the event (none for a message or an event the catalog does not name). */
  rows: readonly CatalogRow[];
  /** The role of the thread that logged it, as known at this point of the replay. */
  role: Role;
}

export interface ReplayObserver {
  /** Every record, in the replay's order. `rec` is the model's own (do not change it). */
  onEvent(rec: TraceRecord, seen: Seen): void;
  /** A new migration attempt (episode) begins with the record that follows. */
  onEpisode?(index: number): void;
  /** After each merged batch: an observer that writes out may wait here (backpressure). */
  onBatch?(): void | Promise<void>;
  /**
   * Whether the observer shows trace lines (the timeline does): the inputs are then read with a
   * string per line, on this thread, instead of leaving plain lines in their file for read-back.
   */
  readonly needsText?: boolean;
}
