// `convert --to chrome-trace`: one analysed run as the Trace Event Format's JSON object (what
// Perfetto's UI and chrome://tracing open). A process per side (pid), a track per thread (tid, its
// real TID where the trace has one), named by metadata ('M') events. Thread lifetimes, the access
// windows the rules reason about, QEMUFile ownership and migration states are complete ('X')
// slices; trace events are thread instants ('i'); each finding is an instant on the offending
// thread with a flow ('s' → 'f') from the earlier to the later of its two conflicting accesses.
// Built from the analysis (RunResult) and the timeline's data (the kept events, spans). Pure.
import type { Catalog } from '../model/catalog.js';
import { isWithin, parseRange } from '../model/versions.js';
import type { Lane, Spans, TimelineData, TlEvent } from '../timeline/types.js';
import type { Role, RunResult, Side } from '../types.js';

/** One Trace Event Format event. ts and dur are microseconds. */
export interface ChromeEvent {
  name: string;
  cat?: string;
  ph: 'X' | 'i' | 'M' | 's' | 'f';
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  /** Instant scope: thread. */
  s?: 't';
  /** Flow id ('s'/'f'). */
  id?: number;
  /** Flow end binds to the enclosing slice. */
  bp?: 'e';
  args?: Record<string, unknown>;
}

export interface ChromeTrace {
  traceEvents: ChromeEvent[];
  displayTimeUnit: 'ms';
  otherData: Record<string, unknown>;
}

const PIDS: Record<Side | 'none', number> = { src: 1, dst: 2, none: 3 };
const PROCESS_NAMES: Record<Side | 'none', string> = { src: 'source QEMU', dst: 'destination QEMU', none: 'side unknown' };
/** Tracks without a real TID (no thread ids, ownership, states, overlapping windows): above any Linux TID. */
const SYNTHETIC_TID = 2_000_000_000;
/** Width of the slice that stands for one access (a trace line): 1 µs, the traces' resolution. */
const ACCESS_US = 1;

interface Track {
  pid: number;
  tid: number;
  name: string;
  sort: number;
}

/** A slice before it is placed on a track that keeps slices nested (the format's rule for 'X'). */
interface Slice {
  track: Track;
  name: string;
  cat: string;
  ts: number;
  dur: number;
  args: Record<string, unknown>;
}

export interface ChromeTraceMeta {
  tool: string;
  version: string;
  /**
   * Without thread ids the timeline has one lane per side: the role each event's name says
   * (catalog role column, the version's where it depends on one), for a track per role.
   */
  roleOf?: (e: TlEvent, side: Side | null) => Role | null;
}

/** The role the catalog gives an event's name on this side's version, when its rows agree on one. */
export function catalogRoleOf(catalog: Catalog, run: RunResult): (e: TlEvent, side: Side | null) => Role | null {
  return (e, side) => {
    const rows = catalog.byEvent.get(e.name);
    if (!rows) return null;
    const range = side ? parseRange(run.qemu[side].range) : null;
    const roles = new Set(
      rows.map((r) => {
        if (!r.roleByVersion) return r.role === '*' ? null : r.role;
        return (range && r.roleByVersion.find((x) => isWithin(range, x.versions))?.role) ?? null;
      }),
    );
    return roles.size === 1 ? [...roles][0]! : null;
  };
}

export function chromeTrace(run: RunResult, data: TimelineData, spans: Spans, meta: ChromeTraceMeta): ChromeTrace {
  const tracks = new Tracks(data, meta.roleOf);
  const where = (e: TlEvent) => `${data.inputs[e.input] ?? '?'}:${e.line}`;
  const slices = [...lifetimes(data, tracks), ...spanSlices(data, spans, tracks, where)];
  const findings = findingEvents(run, data, tracks, where);
  slices.push(...findings.accesses);
  const instants: ChromeEvent[] = [];
  for (const e of data.events) {
    const t = tracks.ofEvent(e);
    if (t) instants.push({ name: e.name, cat: e.signal ? `trace,${e.signal}` : 'trace', ph: 'i', s: 't', ts: e.t, pid: t.pid, tid: t.tid, args: { at: where(e), line: e.text } });
  }
  const placed = nest(slices, () => tracks.synthetic());
  // Inside each access slice, on the track it was placed on, so each end binds to it (enclosing slice).
  const mid = ACCESS_US / 2;
  const flowEvents: ChromeEvent[] = findings.flows.flatMap((fl) => {
    const [ta, tb] = [placed.at.get(fl.a)!, placed.at.get(fl.b)!];
    return [
      { name: fl.name, cat: 'finding', ph: 's', id: fl.id, bp: 'e', ts: fl.a.ts + mid, pid: ta.pid, tid: ta.tid },
      { name: fl.name, cat: 'finding', ph: 'f', id: fl.id, bp: 'e', ts: fl.b.ts + mid, pid: tb.pid, tid: tb.tid },
    ];
  });
  return {
    traceEvents: [...metadata([...tracks.all(), ...placed.tracks], run), ...placed.events, ...findings.instants, ...instants, ...flowEvents],
    displayTimeUnit: 'ms',
    otherData: {
      tool: `${meta.tool} ${meta.version}`,
      run: run.name,
      verdict: run.verdict,
      findings: `${run.findings.length}, ${findings.instants.length} drawn (a finding whose events are not in the file is not)`,
      timeBase: data.timeBase === 'trace' ? 'microseconds since the epoch, as in the trace' : 'line numbers: the trace has no timestamps',
      events: `${data.keptEvents} of ${data.totalEvents} trace events as instants`,
      notes: data.notes,
    },
  };
}

/** The tracks: one per thread lane (its TID, or a synthetic one), per role where a side has no TIDs, and per-process extras. */
class Tracks {
  private next = SYNTHETIC_TID;
  private readonly lanes = new Map<number, Track>();
  readonly roles = new Map<string, Track & { first: number; last: number; events: number }>();
  private readonly extras = new Map<string, Track>();
  private readonly byEvent = new Map<TlEvent, Track>();

  constructor(
    private readonly data: TimelineData,
    private readonly roleOf: ChromeTraceMeta['roleOf'],
  ) {
    for (const l of data.lanes) if (l.first !== null) this.lanes.set(l.id, { pid: pidOf(l.side), tid: l.tid ?? this.synthetic(), name: l.label, sort: l.id * 2 });
    for (const e of data.events) if (this.lanes.has(e.lane)) this.byEvent.set(e, this.place(e));
  }

  synthetic(): number {
    return this.next++;
  }

  ofLane(lane: number): Track | undefined {
    return this.lanes.get(lane);
  }

  ofEvent(e: TlEvent): Track | undefined {
    return this.byEvent.get(e);
  }

  /** Ownership and states are per process, not per thread: a track each. */
  extra(side: Side | null, name: string): Track {
    const k = `${side}:${name}`;
    if (!this.extras.has(k)) this.extras.set(k, { pid: pidOf(side), tid: this.synthetic(), name, sort: 1000 + this.extras.size });
    return this.extras.get(k)!;
  }

  all(): Track[] {
    return [...this.lanes.values(), ...this.roles.values(), ...this.extras.values()];
  }

  /** A side's lane without thread ids is split by role; the events no role is read from stay on it. */
  private place(e: TlEvent): Track {
    const lane = this.data.lanes[e.lane] as Lane;
    const role = lane.role === 'all' ? this.roleOf?.(e, lane.side) ?? null : null;
    if (role === null) return this.lanes.get(e.lane)!;
    const k = `${lane.side}:${role}`;
    let t = this.roles.get(k);
    if (!t) this.roles.set(k, (t = { pid: pidOf(lane.side), tid: this.synthetic(), name: `${role} (no TID: by event names)`, sort: lane.id * 2 + 1, first: e.t, last: e.t, events: 0 }));
    t.first = Math.min(t.first, e.t);
    t.last = Math.max(t.last, e.t);
    t.events++;
    return t;
  }
}

function pidOf(side: Side | null): number {
  return PIDS[side ?? 'none'];
}

/** Thread lifetimes: first to last event; one access width more, so an access at the end nests. */
function lifetimes(data: TimelineData, tracks: Tracks): Slice[] {
  const out: Slice[] = [];
  for (const l of data.lanes) {
    // A catch-all lane ('other threads', a side without thread ids) is no one thread: no lifetime.
    if (l.first === null || l.last === null || l.role === 'other' || l.role === 'all') continue;
    out.push({ track: tracks.ofLane(l.id)!, name: `${l.label} (thread)`, cat: 'thread', ts: l.first, dur: l.last - l.first + ACCESS_US, args: { role: l.role, tid: l.tid, events: l.events, exitSeen: l.exited } });
  }
  for (const t of tracks.roles.values()) {
    out.push({ track: t, name: `${t.name} (thread)`, cat: 'thread', ts: t.first, dur: t.last - t.first + ACCESS_US, args: { events: t.events, note: 'first to last event of this role (no thread ids): a stand-in, not one thread' } });
  }
  return out;
}

/** The access windows on their threads; QEMUFile owners and migration states on their process's tracks. */
function spanSlices(data: TimelineData, spans: Spans, tracks: Tracks, where: (e: TlEvent) => string): Slice[] {
  const out: Slice[] = [];
  for (const w of spans.windows) {
    out.push({ track: tracks.ofEvent(w.begin) ?? tracks.ofLane(w.lane)!, name: w.label, cat: 'window', ts: w.from, dur: w.to - w.from, args: { kind: w.kind, qemufile: w.file, begin: where(w.begin), end: w.end ? where(w.end) : null, open: w.open, conflict: w.conflict } });
  }
  for (const s of spans.states) out.push({ track: tracks.extra(s.side, 'migration state'), name: s.state, cat: 'state', ts: s.from, dur: s.to - s.from, args: { at: where(s.event), open: s.open } });
  for (const o of spans.owners) {
    const lane = data.lanes[o.lane] as Lane;
    out.push({ track: tracks.extra(lane.side, `owner of ${o.file}`), name: lane.label, cat: 'owner', ts: o.from, dur: o.to - o.from, args: { qemufile: o.file, why: o.why, open: o.open } });
  }
  return out;
}

interface Flow {
  id: number;
  name: string;
  a: Slice;
  b: Slice;
}

/** Each finding: an instant on its offending access's thread; its two accesses as short slices, a flow from the earlier to the later. */
function findingEvents(run: RunResult, data: TimelineData, tracks: Tracks, where: (e: TlEvent) => string): { instants: ChromeEvent[]; accesses: Slice[]; flows: Flow[] } {
  const instants: ChromeEvent[] = [];
  const flows: Flow[] = [];
  const accessAt = new Map<TlEvent, Slice>();
  const access = (e: TlEvent): Slice => {
    if (!accessAt.has(e)) accessAt.set(e, { track: tracks.ofEvent(e)!, name: e.name, cat: 'access', ts: e.t, dur: ACCESS_US, args: { at: where(e), line: e.text } });
    return accessAt.get(e)!;
  };
  run.findings.forEach((f, i) => {
    const [first, second] = f.locations.slice(0, 2).map((loc) => data.events.find((e) => e.findings.includes(i) && data.inputs[e.input] === loc.file && e.line === loc.line));
    const t = first && tracks.ofEvent(first);
    if (!first || !t) return;
    const locations = f.locations.map((l) => `${l.file}:${l.line} ${l.side ?? '?'}:${l.role} ${l.event}${l.note ? ` (${l.note})` : ''}`);
    instants.push({ name: `${f.severity} ${f.rule}`, cat: 'finding', ph: 'i', s: 't', ts: first.t, pid: t.pid, tid: t.tid, args: { message: f.message, evidence: f.evidence, qemufile: f.object ?? null, episode: f.episode ?? null, locations } });
    if (!second || !tracks.ofEvent(second) || second === first) return;
    const [a, b] = [access(first), access(second)].sort((x, y) => x.ts - y.ts);
    flows.push({ id: i + 1, name: f.rule, a: a!, b: b! });
  });
  return { instants, accesses: [...accessAt.values()], flows };
}

/** process_name / thread_name (and their sort order) for every track. */
function metadata(tracks: Track[], run: RunResult): ChromeEvent[] {
  const out: ChromeEvent[] = [];
  for (const pid of [...new Set(tracks.map((t) => t.pid))].sort((a, b) => a - b)) {
    const side = (Object.keys(PIDS) as Array<Side | 'none'>).find((k) => PIDS[k] === pid)!;
    // Every process of a side shares its pid (a retried destination: dst-a.log and dst-b.log): say which files.
    const files = run.inputs.filter((i) => (i.side ?? 'none') === side || (i.mixed && side !== 'none')).map((i) => i.path.split('/').pop());
    const from = files.length === 0 ? '' : files.length <= 3 ? ` (${files.join(', ')})` : ` (${files.length} files)`;
    out.push({ name: 'process_name', ph: 'M', ts: 0, pid, tid: 0, args: { name: `${PROCESS_NAMES[side]}${from}` } });
    out.push({ name: 'process_sort_index', ph: 'M', ts: 0, pid, tid: 0, args: { sort_index: pid } });
  }
  for (const t of tracks) {
    out.push({ name: 'thread_name', ph: 'M', ts: 0, pid: t.pid, tid: t.tid, args: { name: t.name } });
    out.push({ name: 'thread_sort_index', ph: 'M', ts: 0, pid: t.pid, tid: t.tid, args: { sort_index: t.sort } });
  }
  return out;
}

/**
 * Complete events on one thread must nest (Perfetto drops a slice that overlaps its parent only
 * in part): a slice that would is moved to a track of its own beside the thread's, named so.
 */
function nest(slices: Slice[], synthetic: () => number): { events: ChromeEvent[]; tracks: Track[]; at: Map<Slice, Track> } {
  const sorted = [...slices].sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  const stacks = new Map<Track, Slice[][]>();
  const overflow = new Map<Track, Track[]>();
  const tracks: Track[] = [];
  const events: ChromeEvent[] = [];
  const at = new Map<Slice, Track>();
  for (const s of sorted) {
    const levels = stacks.get(s.track) ?? [[]];
    stacks.set(s.track, levels);
    let k = 0;
    for (; k < levels.length; k++) {
      const stack = levels[k]!;
      while (stack.length && stack[stack.length - 1]!.ts + stack[stack.length - 1]!.dur <= s.ts) stack.pop();
      const top = stack[stack.length - 1];
      if (!top || s.ts + s.dur <= top.ts + top.dur) break;
    }
    if (k === levels.length) levels.push([]);
    levels[k]!.push(s);
    let track = s.track;
    if (k > 0) {
      const more = overflow.get(s.track) ?? [];
      overflow.set(s.track, more);
      while (more.length < k) {
        const t: Track = { pid: s.track.pid, tid: synthetic(), name: `${s.track.name} (overlapping ${more.length + 1})`, sort: s.track.sort };
        more.push(t);
        tracks.push(t);
      }
      track = more[k - 1]!;
    }
    at.set(s, track);
    events.push({ name: s.name, cat: s.cat, ph: 'X', ts: s.ts, dur: s.dur, pid: track.pid, tid: track.tid, args: s.args });
  }
  return { events, tracks, at };
}
