// The per-run data block the page reads (<script type="application/json" class="run-data">), as
// htmlPayload in src/report/html.ts writes it. Times are µs relative to the run's first event.

export type Side = 'src' | 'dst';

export interface Lane {
  label: string;
  side: Side | null;
  role: string;
  tid: number | null;
  first: number | null;
  last: number | null;
  exited: boolean;
  events: number;
}

/** The kept events, column by column. `x` is the trace line, or with c=1 only what follows the
 *  event name of a `TID@sec.usec:name` line (the page rebuilds the rest); k=1 for a key event;
 *  f: the first finding naming the event, or -1. */
export interface Events {
  t: number[];
  l: number[];
  n: number[];
  i: number[];
  ln: number[];
  x: string[];
  c: number[];
  k: number[];
  f: number[];
}

export type Track =
  | { kind: 'side'; side: Side | null; label: string }
  | { kind: 'state'; side: Side }
  | { kind: 'file'; side: Side; file: string }
  | { kind: 'lane'; lane: number };

export interface Window {
  from: number;
  to: number;
  reasons: string[];
  aggregated: number;
}

export interface StateSpan {
  side: Side;
  state: string;
  from: number;
  to: number;
  open: boolean;
}

export interface OwnerSpan {
  file: string;
  lane: number;
  from: number;
  to: number;
  open: boolean;
  why: string;
}

export interface AccessWindow {
  kind: string;
  file: string | null;
  lane: number;
  from: number;
  to: number;
  open: boolean;
  label: string;
  conflict: boolean;
}

export interface Marker {
  f: number;
  loc: number;
  ev: number;
  t: number;
  lane: number;
}

export interface FindingLocation {
  file: string;
  line: number;
  event: string;
  note: string | null;
  text: string | null;
  t: number | null;
  lane: number;
  ev: number;
  role: string;
  tid: number | null;
  side: Side | null;
}

export interface Finding {
  rule: string;
  severity: string;
  evidence: string;
  object: string | null;
  message: string;
  locations: FindingLocation[];
}

export interface RunData {
  name: string;
  t0: number;
  tEnd: number;
  timeBase: 'trace' | 'order';
  inputs: string[];
  lanes: Lane[];
  names: string[];
  ev: Events;
  /** Events not kept one by one: per time bucket of width w from o, `cells` holds
   *  [bucket, lane, name, count] flattened. */
  hist: { w: number; o: number; names: string[]; cells: number[] };
  contextComplete: boolean;
  windows: Window[];
  initial: number[];
  tracks: Track[];
  states: StateSpan[];
  owners: OwnerSpan[];
  access: AccessWindow[];
  markers: Marker[];
  findings: Finding[];
}
