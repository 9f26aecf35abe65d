// The replay's first observer: places each record (the side of a both-process stream, the stand-in
// thread of an event without a thread id), drives the run-wide model (threads, versions) and the
// open episodes (mode, states, preempt lifecycle, rules: episode.ts), and judges each episode.
// What it judged, and the locations whose line is still in its file, are read by result.ts.
import type { TraceRecord } from '../ingest/trace-input.js';
import { rowsAt, rowsFor, rowsForMask, type Catalog, type CatalogRow } from '../model/catalog.js';
import { ThreadTable, type EventRef, type ThreadInfo } from '../model/threads.js';
import { VersionTracker } from '../model/version.js';
import { ProcessMode } from '../model/mode.js';
import { NameAttribution, shownTid, type ThreadsBy } from '../model/attribution.js';
import type { Rule, RunFacts } from '../rules/rule.js';
import type { Location, Role, RunInput, Side } from '../types.js';
import type { AssembledRun, RunSpec } from '../assembly/types.js';
import { Episode, maskOf, ruleSetOf, VERSION, STATE, type EpisodeOutcome, type RuleSet } from './episode.js';
import type { ReplayObserver, Seen } from './observer.js';

/** An episode's outcome as the run keeps it (its facts only for the first, which the report describes). */
export type Judged = Omit<EpisodeOutcome, 'facts'>;

/** A location whose line was left in its file (TraceEvent.at): its text is read back at the end. */
export interface LeftInFile {
  loc: Location;
  input: number;
  at: number;
}

export interface ModelOptions {
  catalog: Catalog;
  /** The rules each episode runs (given to analyzeRun). */
  rules: readonly Rule[];
  stuckAfterMs: number;
  /** Migrations kept open at a time (see KEEP_OPEN in run.ts). */
  keepOpen: number;
  /** Told when a new episode begins (the other observers' onEpisode). */
  onEpisode?: (index: number) => void;
  /**
   * Takes every judged episode after the first that logged events, which the model then does not
   * keep (a streamed report: replay/spill.ts); without it, judgeRest returns them all.
   */
  onJudged?: (outcome: Judged) => void;
}

type SideStats = { events: number; noTid: number; noTs: number };

export class RunModel implements ReplayObserver {
  // Run-wide: the processes' threads and versions. Per episode (one migration attempt): mode,
  // states, the preempt lifecycle and the rules (see episode.ts).
  readonly threads = new ThreadTable();
  readonly versions: VersionTracker;
  readonly names = new NameAttribution();
  readonly sideStats: Record<Side | 'none', SideStats> = { src: { events: 0, noTid: 0, noTs: 0 }, dst: { events: 0, noTid: 0, noTs: 0 }, none: { events: 0, noTid: 0, noTs: 0 } };
  readonly leftInFile: LeftInFile[] = [];
  /** Events of a both-process stream without thread ids whose side cannot be told from their name. */
  unplaced = 0;
  /** The same, counted by event name. */
  readonly unplacedNames = new Map<string, number>();
  /** Episodes judged before the end (KEEP_OPEN later ones had begun). */
  judgedEarly = 0;
  /** Set once the inputs are read; a migration judged early (long before the end) is not near a cut. */
  cutOf: (side: Side) => string | null = () => null;
  private readonly processMode = new ProcessMode();
  readonly ruleSet: RuleSet;
  // Open episodes; one is judged (finished) once keepOpen later ones have begun, so a trace of
  // thousands of migrations does not keep every migration's model until its end.
  private readonly episodes: Array<Episode | null>;
  private readonly judged: Array<Judged | null> = [];
  private cur: Episode;
  private mainFacts: RunFacts | null = null;
  // Each side's last timestamp (src, dst), NaN for "none yet": a typed array stores the number in
  // place; an object's field boxed it (an allocation per event here, measured).
  private readonly lastTs = new Float64Array([NaN, NaN]);
  private readonly inputs: RunInput[];
  private readonly tidSides: AssembledRun['tidSides'];
  readonly fileOf = (i: number): string => this.inputs[i]?.path ?? '?';

  constructor(
    private readonly spec: RunSpec,
    assembled: AssembledRun,
    private readonly opts: ModelOptions,
  ) {
    this.inputs = assembled.inputs;
    this.tidSides = assembled.tidSides;
    this.versions = new VersionTracker(this.fileOf);
    this.ruleSet = ruleSetOf(opts.rules);
    this.cur = new Episode(1, this.fileOf, this.processMode, this.ruleSet);
    this.episodes = [this.cur];
  }

  onEvent(rec: TraceRecord, seen: Seen): void {
    if (rec.kind === 'message') {
      this.cur.message(rec);
      seen.rows = [];
      seen.role = 'unknown';
      return;
    }
    const ref: EventRef = rec;
    const matched = this.rowsOf(rec);
    this.placeSide(ref, matched);
    // The catalog's versions column: a row does not apply to a process shown to be outside it.
    const rows = ref.side !== null ? rowsAt(matched, this.versions.range(ref.side)) : matched;
    this.count(ref);
    seen.rows = rows;
    seen.role = 'unknown';
    if (rows.length === 0) {
      const t = this.threads.observe(ref, rows);
      seen.role = t?.role ?? 'unknown';
      this.touch(t);
      return; // not in the catalog: counted, kept out of the model
    }
    const m = maskOf(rows, this.ruleSet);
    if (m & VERSION) this.versions.observe(ref, rows);
    let standIn: Role | undefined;
    if (ref.tid === null && ref.side !== null) {
      // No thread id: the event goes to its role's stand-in thread (model/attribution.ts).
      const a = this.names.tidFor(ref.side, rows, this.versions.range(ref.side));
      ref.tid = a.tid;
      standIn = a.role;
    }
    const t = this.threads.observe(ref, rows, standIn);
    if (t !== undefined) seen.role = t.role;
    if (m & STATE && ref.side && this.cur.startsNewEpisode(ref.side, rows, ref.args, ref.ts !== null)) this.beginEpisode();
    if (t !== undefined && t.episode !== this.cur.index && t.side !== null) {
      // Once per thread and episode, not a set insert per event; a thread of a mixed stream whose
      // side is not known yet is added at its first event after it is.
      t.episode = this.cur.index;
      this.cur.tids[t.side].add(t.tid);
    }
    this.touch(t);
    this.cur.observe(ref, rows, m);
  }

  /** The catalog rows of an event; a reader has matched their patterns already (rowsMask >= 0). */
  private rowsOf(rec: TraceRecord & { kind: 'event' }) {
    const mask = rec.rowsMask;
    if (mask === undefined || mask < 0) return rowsFor(this.opts.catalog, rec.name, rec.args);
    // Runs of one event with the same rows are most of a long trace: two compares, not two map lookups
    // (kept in fields: an object per change of event would be an allocation where src and dst alternate).
    if (rec.name !== this.lastName || mask !== this.lastMask) {
      this.lastName = rec.name;
      this.lastMask = mask;
      this.lastRows = rowsForMask(this.opts.catalog, rec.name, mask);
    }
    return this.lastRows;
  }
  private lastName = '';
  private lastMask = -1;
  private lastRows: CatalogRow[] = [];

  /** The side of an event of a stream holding both processes (§A.2). */
  private placeSide(ref: EventRef, rows: ReturnType<RunModel['rowsOf']>): void {
    const mixed = this.tidSides[ref.input];
    if (!mixed || ref.side !== null) return;
    if (ref.tid !== null) {
      // The side is the thread's, learnt from the head and, for threads that appear later, from
      // their first event only one side logs.
      let side = mixed.get(ref.tid);
      if (side === undefined && (side = onlySide(rows)) !== undefined) {
        mixed.set(ref.tid, side);
        this.threads.assignSide(ref.tid, side);
      }
      ref.side = side ?? null;
      return;
    }
    // No thread ids: the event's own side, when only one side logs it.
    const only = onlySide(rows);
    if (only) ref.side = only;
    else if (rows.length > 0) {
      // Only catalogued events count: the others are kept out of the model wherever they come from.
      this.unplaced++;
      this.unplacedNames.set(ref.name, (this.unplacedNames.get(ref.name) ?? 0) + 1);
    }
  }

  private count(ref: EventRef): void {
    const st = ref.side === 'src' ? this.sideStats.src : ref.side === 'dst' ? this.sideStats.dst : this.sideStats.none;
    st.events++;
    if (ref.tid === null) st.noTid++;
    if (ref.ts === null) st.noTs++;
    else if (ref.side === 'src') this.lastTs[0] = ref.ts;
    else if (ref.side === 'dst') this.lastTs[1] = ref.ts;
  }

  private beginEpisode(): void {
    this.cur = new Episode(this.episodes.length + 1, this.fileOf, this.processMode, this.ruleSet);
    this.episodes.push(this.cur);
    if (this.episodes.length - this.judgedEarly > this.opts.keepOpen) this.judge(this.judgedEarly++, this.versions.writerModel(this.threads), true);
    this.opts.onEpisode?.(this.cur.index);
  }

  /**
   * Judges the episodes still open with all the trace has shown (after the roles that only names
   * tell are resolved); returns every episode's outcome that counts and the first one's facts.
   */
  judgeRest(): { results: Judged[]; facts: RunFacts; writer: ReturnType<VersionTracker['writerModel']> } {
    this.names.resolve((side, tid, role) => this.threads.setRole(side, tid, role), (side) => this.versions.range(side));
    const writer = this.versions.writerModel(this.threads);
    for (let i = this.judgedEarly; i < this.episodes.length; i++) this.judge(i, writer, false);
    const results = this.judged.filter((r, i): r is Judged => r !== null && (i === 0 || r.events > 0));
    return { results, facts: this.mainFacts as RunFacts, writer }; // the first episode is always judged
  }

  /**
   * Finishes episode i with what the run has shown so far (at the end: all of it) and keeps only
   * its outcome; when early, the threads that logged last in it keep only what the summary names.
   */
  private judge(i: number, writerNow: ReturnType<VersionTracker['writerModel']>, early: boolean): void {
    const e = this.episodes[i] as Episode;
    const { facts, ...outcome } = e.finish({
      catalog: this.opts.catalog,
      threads: this.threads,
      versions: this.versions,
      writer: writerNow,
      sides: {
        src: { ...this.sideInfo('src'), present: this.sideStats.src.events > 0 && e.sideEvents.src > 0 },
        dst: { ...this.sideInfo('dst'), present: this.sideStats.dst.events > 0 && e.sideEvents.dst > 0 },
      },
      stuckAfterMs: this.opts.stuckAfterMs,
      locate: (ref, note) => this.locate(ref, note),
      unplaced: this.unplacedNames,
    });
    if (i === 0) this.mainFacts = facts;
    if (i === 0 || !this.opts.onJudged) this.judged[i] = outcome;
    else if (outcome.events > 0) this.opts.onJudged(outcome);
    this.episodes[i] = null;
    if (early) for (const side of ['src', 'dst'] as const) for (const tid of e.touched[side]) this.threads.retire(side, tid, e.index);
  }

  /**
   * The thread logged in the current episode: noted once per episode, so the episode's judging
   * retires it (threads that log only uncatalogued events included: a trace of 10,000 migrations
   * kept ~29,500 whole records for them; peak live heap 50 -> 44 MiB once they retire).
   */
  private touch(t: ThreadInfo | undefined): void {
    if (t === undefined || t.seen === this.cur.index || t.side === null) return;
    t.seen = this.cur.index;
    this.cur.touched[t.side].push(t.tid);
  }

  sideInfo(side: Side) {
    const st = this.sideStats[side];
    return { present: st.events > 0, threadsBy: this.threadsBy(side), timestamps: st.events > st.noTs, lastTs: Number.isNaN(this.lastTs[side === 'src' ? 0 : 1]!) ? null : this.lastTs[side === 'src' ? 0 : 1]!, cut: this.cutOf(side) };
  }

  private threadsBy(side: Side): ThreadsBy | null {
    const st = this.sideStats[side];
    if (st.events === 0) return null;
    if (st.events === st.noTid) return 'event names (no thread ids)';
    return this.inputs.some((inp, i) => inp.side === side && this.spec.inputs[i]?.tid !== undefined) ? 'per-thread files' : 'thread ids';
  }

  private locate(ref: EventRef, note?: string): Location {
    const loc: Location = {
      file: this.fileOf(ref.input),
      line: ref.line,
      tid: shownTid(ref.tid),
      role: this.threads.roleOf(ref.side, ref.tid),
      side: ref.side,
      event: ref.name,
      ts: ref.ts === null ? null : ref.ts / 1e6,
      text: '',
    };
    if (ref.at !== undefined && ref.at >= 0) this.leftInFile.push({ loc, input: ref.input, at: ref.at }); // raw is ''
    else loc.text = locationText(ref.raw);
    if (note) loc.note = note;
    return loc;
  }
}

/** The one side that logs an event, if only one does. */
function onlySide(rows: readonly { side: string }[]): Side | undefined {
  return rows.length > 0 && rows[0]!.side !== 'both' && rows.every((r) => r.side === rows[0]!.side) ? (rows[0]!.side as Side) : undefined;
}

/** A trace line as a location shows it: at most 300 characters. */
export function locationText(raw: string): string {
  return raw.length > 300 ? `${raw.slice(0, 300)}…` : raw.trimEnd();
}
