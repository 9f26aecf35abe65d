// One run (a migration's source and/or destination traces) end to end: take each input's format
// and side from the assembly stage, stream and merge the inputs in time order, drive the model and
// the rules, and assemble the result. Pure with respect to output: nothing here prints.
import { fileSize, newCounters, readTraceRecords, STDIN, type InputCounters, type TraceFormat, type TraceRecord } from '../ingest/trace-input.js';
import { chooseWorkerInputs, readInWorker, spareCores } from '../ingest/worker-read.js';
import { traceBytesEstimate } from '../ingest/bytes.js';
import { patternsOf, rowsFor, rowsForMask, type Catalog } from '../model/catalog.js';
import { ThreadTable, type EventRef } from '../model/threads.js';
import { VersionTracker } from '../model/version.js';
import { ProcessMode } from '../model/mode.js';
import { NameAttribution, shownTid, type ThreadsBy } from '../model/attribution.js';
import { RULES } from '../rules/index.js';
import type { RunFacts } from '../rules/rule.js';
import type { Finding, Inconclusive, Location, NotApplicable, Role, RunResult, Side, UnparsedSample, Verdict } from '../types.js';
import { mergeByTime } from './merge.js';
import { readLinesAt } from '../ingest/read-back.js';
import { cutReason } from '../ingest/input-end.js';
import { newScratch, parseInto } from '../ingest/log-format.js';
import { Episode, maskOf, VERSION, STATE, type EpisodeOutcome } from './episode.js';
import { assembleRun } from '../assembly/assemble.js';
import type { RunSpec } from '../assembly/types.js';

export type { RunSpec } from '../assembly/types.js';

/**
 * Migrations of one trace whose model is kept open at a time. An older one is judged when this many
 * later ones have begun: by then nothing of it is still happening, and a trace of thousands of
 * migrations runs in memory that does not grow with each one's model (1083 migrations: the same
 * result to the byte as judging all at the end, bar the note that says so).
 */
export const KEEP_OPEN = 64;

/** An episode's outcome as the run keeps it (its facts only for the first, which the report describes). */
type Judged = Omit<EpisodeOutcome, 'facts'>;

export interface AnalyzeOptions {
  catalog: Catalog;
  stuckAfterMs: number;
  maxUnparsedSamples: number;
  /** A QEMU trace-events file for formats that need one (simple, LTTng); default: beside the input. */
  traceEvents?: string;
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /**
   * Where inputs are parsed: `auto` (default) gives the largest inputs of 96 MiB or more (gzip:
   * four times its size) a worker thread each, one per spare core; `inline` never (batch workers:
   * the cores are taken); `worker` every input but standard input (tests).
   */
  readers?: 'auto' | 'inline' | 'worker';
  /** Migrations kept open at a time (default KEEP_OPEN; tests use fewer). */
  keepOpen?: number;
}

export async function analyzeRun(spec: RunSpec, opts: AnalyzeOptions): Promise<RunResult> {
  const { inputs, formats, tidSides, notes: assemblyNotes } = await assembleRun(spec, opts.catalog, opts.traceEvents);
  const fileOf = (i: number) => inputs[i]?.path ?? '?';
  const counters = inputs.map((i) => newCounters(i.path));
  const samples: UnparsedSample[] = [];
  // Locations whose line was left in its file (TraceEvent.at): their text is read back at the end.
  // (The location names the event and thread to check the line against; the record is not kept.)
  const leftInFile: Array<{ loc: Location; input: number; at: number }> = [];

  // Run-wide: the processes' threads and versions. Per episode (one migration attempt): mode,
  // states, the preempt lifecycle and the rules (see episode.ts).
  const threads = new ThreadTable();
  const versions = new VersionTracker(fileOf);
  const names = new NameAttribution();
  // Open episodes; one is judged (finished) once KEEP_OPEN later ones have begun, so a trace of
  // thousands of migrations does not keep every migration's model until its end.
  const processMode = new ProcessMode();
  const episodes: Array<Episode | null> = [new Episode(1, fileOf, processMode)];
  const judged: Array<Judged | null> = [];
  let oldestOpen = 0;
  let mainFacts: RunFacts | null = null;
  const keepOpen = opts.keepOpen ?? KEEP_OPEN;
  let cur = episodes[0]!;
  // NaN, not null, for "none yet": a field that holds only numbers takes each store in place,
  // one that also held null boxes every number stored (an allocation per event here).
  const lastTs: Record<Side, number> = { src: NaN, dst: NaN };
  const sideStats = { src: { events: 0, noTid: 0, noTs: 0 }, dst: { events: 0, noTid: 0, noTs: 0 }, none: { events: 0, noTid: 0, noTs: 0 } };

  // Large files are parsed on threads of their own while this one replays (same records, same counts).
  const sizes = await Promise.all(inputs.map(async (inp) => (inp.path === STDIN ? 0 : traceBytesEstimate(inp.path, await fileSize(inp.path)))));
  const inWorker = chooseWorkerInputs(sizes, opts.readers ?? 'auto', spareCores());
  const patterns = inWorker.size > 0 ? patternsOf(opts.catalog) : [];
  const sources = inputs.map((inp, i) => {
    // textLater: lines of a plain file stay there until a report names them (read back below).
    const readOpts = { maxSamples: opts.maxUnparsedSamples, onUnparsed: (s: UnparsedSample) => samples.push(s), textLater: true };
    if (inWorker.has(i) && inp.path !== STDIN) {
      const tid = spec.inputs[i]?.tid;
      const ws = { path: inp.path, input: i, side: inp.side, format: formats[i]!.name, patterns, ...(opts.traceEvents ? { traceEvents: opts.traceEvents } : {}), ...(tid !== undefined ? { tid } : {}) };
      return readInWorker(ws, counters[i] as InputCounters, readOpts);
    }
    return readTraceRecords(inp.path, i, inp.side, counters[i] as InputCounters, readOpts, formats[i]);
  });
  const totalBytes = () => counters.reduce((a, c) => a + c.totalBytes, 0);
  const bytesRead = () => counters.reduce((a, c) => a + c.bytes, 0);

  // Set once the inputs are read; a migration judged early (long before the end) is not near a cut.
  let cutOf = (_side: Side): string | null => null;
  /** Events of a both-process stream without thread ids whose side cannot be told from their name. */
  let unplaced = 0;
  for await (const batch of mergeByTime(sources)) {
    for (const rec of batch) drive(rec);
    opts.onProgress?.(bytesRead(), totalBytes());
  }
  // Inputs that end early: what comes after their cut is unknown, not absent.
  const cuts = await Promise.all(inputs.map((inp, i) => cutReason(inp.path, formats[i]!.name, counters[i]!, samples.some((s) => s.file === inp.path && s.reason.startsWith('truncated record')))));
  cutOf = (side: Side): string | null => {
    const i = inputs.findIndex((inp, k) => cuts[k] !== null && (inp.side === side || (inp.mixed === true && inp.side === null)));
    return i < 0 ? null : `${inputs[i]!.path}: ${cuts[i]}`;
  };

  function drive(rec: TraceRecord): void {
    if (rec.kind === 'message') {
      cur.message(rec);
      return;
    }
    const ref: EventRef = rec;
    // A reader thread has matched the catalog rows' patterns already (rowsMask >= 0).
    const mask = rec.rowsMask;
    const rows = mask !== undefined && mask >= 0 ? rowsForMask(opts.catalog, ref.name, mask) : rowsFor(opts.catalog, ref.name, ref.args);
    const mixed = tidSides[ref.input];
    if (mixed && ref.tid !== null && ref.side === null) {
      // One stream with both processes: the side is the thread's (§A.2), learnt from the head
      // and, for threads that appear later, from their first event only one side logs.
      let side = mixed.get(ref.tid);
      if (side === undefined && rows.length > 0 && rows[0]!.side !== 'both' && rows.every((r) => r.side === rows[0]!.side)) {
        side = rows[0]!.side as Side;
        mixed.set(ref.tid, side);
        threads.assignSide(ref.tid, side);
      }
      ref.side = side ?? null;
    } else if (mixed && ref.tid === null && ref.side === null) {
      // Both processes and no thread ids: the event's own side, when only one side logs it.
      const only = rows.length > 0 && rows[0]!.side !== 'both' && rows.every((r) => r.side === rows[0]!.side) ? (rows[0]!.side as Side) : null;
      if (only) ref.side = only;
      else unplaced++;
    }
    const st = ref.side === 'src' ? sideStats.src : ref.side === 'dst' ? sideStats.dst : sideStats.none;
    st.events++;
    if (ref.tid === null) st.noTid++;
    if (ref.ts === null) st.noTs++;
    else if (ref.side === 'src') lastTs.src = ref.ts; // named stores: a keyed one boxed the number
    else if (ref.side === 'dst') lastTs.dst = ref.ts;
    if (rows.length === 0) {
      threads.observe(ref, rows);
      return; // not in the catalog: counted, kept out of the model
    }
    const m = maskOf(rows);
    if (m & VERSION) versions.observe(ref, rows);
    let standIn: Role | undefined;
    if (ref.tid === null && ref.side !== null) {
      // No thread id: the event goes to its role's stand-in thread (model/attribution.ts).
      const a = names.tidFor(ref.side, rows, versions.range(ref.side));
      ref.tid = a.tid;
      standIn = a.role;
    }
    const t = threads.observe(ref, rows, standIn);
    if (m & STATE && ref.side && cur.startsNewEpisode(ref.side, rows, ref.args, ref.ts !== null)) {
      cur = new Episode(episodes.length + 1, fileOf, processMode);
      episodes.push(cur);
      if (episodes.length - oldestOpen > keepOpen) judge(oldestOpen++, versions.writerModel(threads), true);
    }
    if (t !== undefined && t.episode !== cur.index && t.side !== null) {
      // Once per thread and episode, not a set insert per event; a thread of a mixed stream whose
      // side is not known yet is added at its first event after it is.
      t.episode = cur.index;
      cur.tids[t.side].add(t.tid);
    }
    cur.observe(ref, rows, m);
  }

  const judgedEarly = oldestOpen;
  const ambiguities = names.resolve((side, tid, role) => threads.setRole(side, tid, role), (side) => versions.range(side));
  const writer = versions.writerModel(threads);
  for (let i = oldestOpen; i < episodes.length; i++) judge(i, writer, false);
  const results = judged.filter((r, i): r is Judged => r !== null && (i === 0 || r.events > 0));

  /**
   * Finishes episode i with what the run has shown so far (at the end: all of it) and keeps only
   * its outcome; when early, the threads that logged last in it keep only what the summary names.
   */
  function judge(i: number, writerNow: ReturnType<VersionTracker['writerModel']>, early: boolean): void {
    const e = episodes[i] as Episode;
    const { facts: episodeFacts, ...outcome } = e.finish({
      catalog: opts.catalog,
      threads,
      versions,
      writer: writerNow,
      sides: {
        src: { ...sideInfo('src'), present: sideStats.src.events > 0 && e.sideEvents.src > 0 },
        dst: { ...sideInfo('dst'), present: sideStats.dst.events > 0 && e.sideEvents.dst > 0 },
      },
      stuckAfterMs: opts.stuckAfterMs,
      locate: (ref, note) => locate(ref, note),
    });
    if (i === 0) mainFacts = episodeFacts;
    judged[i] = outcome;
    episodes[i] = null;
    if (early) for (const side of ['src', 'dst'] as const) for (const tid of e.tids[side]) threads.retire(side, tid, e.index);
  }
  function sideInfo(side: Side) {
    const st = sideStats[side];
    return { present: st.events > 0, threadsBy: threadsBy(side), timestamps: st.events > st.noTs, lastTs: Number.isNaN(lastTs[side]) ? null : lastTs[side], cut: cutOf(side) };
  }
  function threadsBy(side: Side): ThreadsBy | null {
    const st = sideStats[side];
    if (st.events === 0) return null;
    if (st.events === st.noTid) return 'event names (no thread ids)';
    return inputs.some((inp, i) => inp.side === side && spec.inputs[i]?.tid !== undefined) ? 'per-thread files' : 'thread ids';
  }
  await readBackTexts();
  const main = results[0]!;
  const facts = mainFacts as unknown as RunFacts; // the first episode is always judged (above)

  function locate(ref: EventRef, note?: string): Location {
    const loc: Location = {
      file: fileOf(ref.input),
      line: ref.line,
      tid: shownTid(ref.tid),
      role: threads.roleOf(ref.side, ref.tid),
      side: ref.side,
      event: ref.name,
      ts: ref.ts === null ? null : ref.ts / 1e6,
      text: '',
    };
    if (ref.at !== undefined && ref.at >= 0) leftInFile.push({ loc, input: ref.input, at: ref.at }); // raw is ''
    else loc.text = locationText(ref.raw);
    if (note) loc.note = note;
    return loc;
  }

  /** Reads back the lines of leftInFile, checking each is still the event it was. */
  async function readBackTexts(): Promise<void> {
    const byInput = new Map<number, typeof leftInFile>();
    for (const p of leftInFile) {
      const list = byInput.get(p.input);
      if (list) list.push(p);
      else byInput.set(p.input, [p]);
    }
    const s = newScratch();
    for (const [input, items] of byInput) {
      const lines = await readLinesAt(fileOf(input), items.map((p) => p.at));
      for (const { loc, at } of items) {
        const text = lines.get(at);
        if (text instanceof Error || text === undefined) loc.text = `(line not read back: ${text?.message ?? 'not read'})`;
        // A per-thread file's line has no TID of its own (it is in the file name): only a TID the line carries must match.
        else if (parseInto(text, s) !== 'event' || s.name !== loc.event || (s.tid !== null && s.tid !== loc.tid)) loc.text = '(line not read back: the file changed after it was analysed)';
        else loc.text = locationText(text);
      }
    }
  }

  // Events the backend itself lost (simple: DROPPED_EVENT): a rule that found nothing may have
  // missed its evidence in the gap, so "clean" becomes inconclusive (findings stand).
  const dropped = counters.filter((c) => c.dropped > 0);
  if (dropped.length) {
    const why = `the trace backend dropped ${dropped.map((c) => `${c.dropped} events in ${c.path}`).join(' and ')}: a clean result cannot be trusted`;
    for (const r of results) {
      const decided = new Set([...r.findings.map((f) => f.rule), ...r.inconclusive.map((i) => i.rule), ...r.notApplicable.map((n) => n.rule)]);
      for (const rule of RULES) if (!decided.has(rule.id)) r.inconclusive.push({ rule: rule.id, reason: why });
    }
  }
  const several = results.length > 1;
  // A clean rule the dropped-events step made inconclusive is no longer clean.
  const r0Undecided = (rule: string) => main.inconclusive.some((i) => i.rule === rule);
  const keyed = threads.summaryByKey(fileOf);
  const threadSummary = keyed.map((k) => k.summary);
  // Each episode's share of the summary, in its order, from a lookup (not a walk of it per episode).
  const summaryAt = new Map(keyed.map((k, i) => [k.key, i]));
  const episodeThreads = (tids: { src: Set<number>; dst: Set<number> }) =>
    (['src', 'dst'] as const)
      .flatMap((side) => [...tids[side]].map((tid) => summaryAt.get(`${side}:${tid}`)))
      .filter((i): i is number => i !== undefined)
      .sort((a, b) => a - b)
      .map((i) => threadSummary[i]!);
  const findings: Finding[] = results.flatMap((r) => (several ? r.findings.map((f) => ({ ...f, episode: r.index })) : r.findings));
  const inconclusive: Inconclusive[] = results.flatMap((r) => r.inconclusive.map((i) => (several ? { ...i, reason: `migration ${r.index}: ${i.reason}` } : i)));
  const notApplicable: NotApplicable[] = several ? [] : main.notApplicable;
  const { verdict, reasons } = decideVerdict(findings, inconclusive, sideStats.src.events + sideStats.dst.events > 0);
  const notes = dataNotes(counters, formats, cuts, { ...facts, threads, sides: { src: sideInfo('src'), dst: sideInfo('dst') } }, versions.contradictions(), results.reduce((a, r) => a + r.statesDropped, 0));
  notes.unshift(...(spec.notes ?? []), ...assemblyNotes);
  if (unplaced > 0) notes.push(`${unplaced} events of a stream of both processes without thread ids could not be placed on either side (both sides log them: migrate_set_state, qemu_file_fclose, ...): rules that need them are inconclusive`);
  if (judgedEarly > 0) notes.unshift(`to keep memory bounded, each of the first ${judgedEarly} migrations was judged once ${keepOpen} later ones had begun, with what the trace had shown by then`);
  if (several) notes.unshift(`the trace holds ${results.length} migrations; each is analysed on its own (episodes)`);
  const modeResult = main.mode;
  const preempt = facts.preempt;
  return {
    name: spec.name,
    inputs,
    qemu: {
      src: { ...versions.guess('src'), writerModel: writer.model, evidence: [...versions.guess('src').evidence, ...writer.evidence.slice(0, 2)] },
      dst: { ...versions.guess('dst'), cleanupThread: preempt.cleanupEntry ? threads.roleOf('dst', preempt.cleanupEntry.tid) : 'unknown' },
    },
    mode: { postcopy: modeResult.postcopy, preempt: modeResult.preempt, compatPre72: modeResult.compatPre72, evidence: modeResult.evidence },
    verdict,
    verdictReasons: reasons,
    findings,
    inconclusive,
    notApplicable,
    ...(several ? {} : { clean: main.clean.filter((c) => !r0Undecided(c.rule)) }),
    rulesChecked: RULES.map((r) => r.id),
    threads: threadSummary,
    ...(several
      ? {
          episodes: results.map((r) => {
            const v = decideVerdict(r.findings, r.inconclusive, r.events > 0);
            return {
              index: r.index,
              from: r.from,
              to: r.to,
              states: r.states,
              verdict: v.verdict,
              verdictReasons: v.reasons,
              findings: r.findings,
              inconclusive: r.inconclusive,
              notApplicable: r.notApplicable,
              threads: episodeThreads(r.tids),
              mode: r.mode,
            };
          }),
        }
      : {}),
    stats: {
      lines: counters.reduce((a, c) => a + c.lines, 0),
      events: counters.reduce((a, c) => a + c.events, 0),
      messages: counters.reduce((a, c) => a + c.messages, 0),
      unparsed: counters.reduce((a, c) => a + c.unparsed, 0),
    },
    dataQuality: {
      perInput: counters.map(({ bytes: _b, totalBytes: _t, notes: _n, ...c }) => c),
      // Inputs are read concurrently: order the samples so the report is the same every time.
      unparsedSamples: samples.sort((a, b) => inputs.findIndex((i) => i.path === a.file) - inputs.findIndex((i) => i.path === b.file) || a.line - b.line),
      unassignedTids: threads
        .all()
        .filter((t) => t.role === 'unknown')
        .sort((a, b) => b.events - a.events)
        .slice(0, 20)
        .map((t) => ({ side: t.side, tid: t.tid, events: t.events })),
      notes,
    },
  };
}


/** A run is `findings` if any warning or error was found, else `inconclusive` if any rule could not decide, else `clean`. */
export function decideVerdict(findings: Finding[], inconclusive: Inconclusive[], anyEvents: boolean): { verdict: Verdict; reasons: string[] } {
  if (findings.some((f) => f.severity !== 'info')) return { verdict: 'findings', reasons: [] };
  const reasons = inconclusive.map((i) => `${i.rule}: ${i.reason}`);
  if (!anyEvents) reasons.push('no trace events in any input');
  return reasons.length ? { verdict: 'inconclusive', reasons } : { verdict: 'clean', reasons: [] };
}

function dataNotes(counters: InputCounters[], formats: TraceFormat[], cuts: Array<string | null>, facts: RunFacts, contradictions: string[], statesDropped: number): string[] {
  const notes: string[] = [];
  for (const [i, c] of counters.entries()) {
    const format = formats[i];
    notes.push(...c.notes.map((n) => `${c.path}: ${n}`));
    if (cuts[i] && !c.notes.includes(cuts[i]!)) notes.push(`${c.path}: ends early: ${cuts[i]}`);
    if (c.dropped > 0) notes.push(`${c.path}: the trace backend dropped ${c.dropped} events`);
    if (c.events > 0 && c.eventsWithoutTid === c.events) {
      notes.push(
        format && !format.threadIds
          ? `${c.path}: the ${format.name} format records the process id only, no thread ids: threads are told apart by event names (thread ids, where wanted: the log backend with -d tid -D side-%d.log, ftrace, or LTTng with the vtid context)`
          : `${c.path}: no thread ids (written by QEMU >= 10.1, or without -msg timestamp=on): threads are told apart by event names`,
      );
    }
    else if (c.eventsWithoutTid > 0) notes.push(`${c.path}: ${c.eventsWithoutTid} events without a thread id`);
    if (c.events > 0 && c.eventsWithoutTs === c.events) notes.push(`${c.path}: no timestamps: replayed in file order, not interleaved with the other process by time`);
    if (c.embedded > 0) notes.push(`${c.path}: ${c.embedded} trace events were found after other text on their line (CI prefixes, or another process's message written around them)`);
    if (c.outOfOrder > 0) notes.push(`${c.path}: ${c.outOfOrder} events whose timestamp goes back within their own thread`);
    if (c.unparsed > 0) notes.push(`${c.path}: ${c.unparsed} lines are neither trace events nor QEMU messages (samples below)`);
    if (c.lines === 0) notes.push(`${c.path}: empty file`);
  }
  if (!facts.sides.src.present) notes.push('no source trace events: source-side rules do not apply');
  if (!facts.sides.dst.present) notes.push('no destination trace events: destination-side rules do not apply');
  for (const t of facts.threads.all()) for (const c of t.conflicts) notes.push(`TID ${t.tid}: ${c} (TID reused?)`);
  notes.push(...contradictions.map((c) => `version evidence contradicts itself: ${c}`));
  if (statesDropped) notes.push(`${statesDropped} state changes beyond the first 10000 were not kept`);
  return notes;
}

/** A trace line as a location shows it: at most 300 characters. */
function locationText(raw: string): string {
  return raw.length > 300 ? `${raw.slice(0, 300)}…` : raw.trimEnd();
}
