// The replay's result step: from the judged episodes, the model's run-wide tables and the readers'
// counters to the RunResult the reports read (verdicts, episodes, threads, data quality, notes).
// Pure: everything it reads was gathered by the replay.
import type { InputCounters, TraceFormat } from '../ingest/trace-input.js';
import type { Rule, RunFacts } from '../rules/rule.js';
import type { EpisodeResult, Finding, Inconclusive, NotApplicable, RunResult, UnparsedSample, Verdict } from '../types.js';
import type { AssembledRun, RunSpec } from '../assembly/types.js';
import type { Judged, RunModel } from './model.js';
import type { ThreadTable } from '../model/threads.js';
import { Spill } from './spill.js';
import { UNPLACED_REMEDY } from './requirements.js';
import { EVIDENCE_KEPT } from '../model/version.js';

export interface ResultInputs {
  spec: RunSpec;
  assembled: AssembledRun;
  model: RunModel;
  judged: ReturnType<RunModel['judgeRest']>;
  counters: InputCounters[];
  samples: UnparsedSample[];
  /** Per input, why it ends early (null: it does not). */
  cuts: Array<string | null>;
  keepOpen: number;
  /** The episodes after the first, when they were written out as judged (a streamed report). */
  sink?: EpisodeSink;
}

/** A run's migrations read back one at a time, each as its report entry (a streamed report). */
export interface EpisodeStream extends Iterable<EpisodeResult> {
  /** The same entries, each changed by `fn` as it is read (--select/--ignore). */
  map(fn: (e: EpisodeResult) => EpisodeResult): EpisodeStream;
  /** Removes what was written out; the stream cannot be read after. */
  close(): void;
}

type SpilledJudged = Omit<Judged, 'tids'> & { tids: { src: number[]; dst: number[] } };

/**
 * Takes each judged episode after the first (RunModel's onJudged) and writes it out. Findings stay
 * in memory: the run lists them too, their lines are read back at the end, and a run has few.
 */
export class EpisodeSink {
  private readonly spill = new Spill<SpilledJudged>();
  private readonly findings = new Map<number, Finding[]>();

  readonly take = (j: Judged): void => {
    if (j.findings.length) this.findings.set(j.index, j.findings);
    this.spill.push({ ...j, findings: [], tids: { src: [...j.tids.src], dst: [...j.tids.dst] } });
  };

  get count(): number {
    return this.spill.count;
  }

  *read(): Generator<Judged> {
    for (const j of this.spill.read()) yield { ...j, findings: this.findings.get(j.index) ?? [], tids: { src: new Set(j.tids.src), dst: new Set(j.tids.dst) } };
  }

  close(): void {
    this.spill.close();
  }
}

export function buildResult(x: ResultInputs): { result: RunResult; episodes: EpisodeStream | null } {
  const { spec, model, counters, sink } = x;
  const { inputs, formats } = x.assembled;
  const { threads, versions, sideStats } = model;
  const { results, facts, writer } = x.judged;
  const rules = model.ruleSet.rules;
  const dropped = droppedWhy(counters);
  for (const r of results) markDropped(r, dropped, rules);
  // Every episode in order: those kept, then those written out (each marked as it is read back).
  const all = function* (): Generator<Judged> {
    yield* results;
    if (sink) for (const r of sink.read()) yield markDropped(r, dropped, rules);
  };
  const main = results[0]!;
  const count = results.length + (sink?.count ?? 0);
  const several = count > 1;
  // A clean rule the dropped-events step made inconclusive is no longer clean.
  const r0Undecided = (rule: string) => main.inconclusive.some((i) => i.rule === rule);
  const threadSummary = threads.summaryIndexed(model.fileOf);
  const findings: Finding[] = [];
  const inconclusive: Inconclusive[] = [];
  let statesDropped = 0;
  for (const r of all()) {
    for (const f of r.findings) findings.push(several ? { ...f, episode: r.index } : f);
    for (const i of r.inconclusive) inconclusive.push(several ? { ...i, reason: `migration ${r.index}: ${i.reason}` } : i);
    statesDropped += r.statesDropped;
  }
  const notApplicable: NotApplicable[] = several ? [] : main.notApplicable;
  const { verdict, reasons } = decideVerdict(findings, inconclusive, sideStats.src.events + sideStats.dst.events > 0);
  const preempt = facts.preempt;
  const entry = episodeEntry(threadSummary);
  const streamed = sink && several ? episodeStream(() => mapped(all(), entry), () => sink.close()) : null;
  if (sink && !streamed) sink.close();
  const result: RunResult = {
    name: spec.name,
    inputs,
    qemu: {
      src: { ...versions.guess('src'), writerModel: writer.model, evidence: [...versions.guess('src').evidence, ...writer.evidence.slice(0, EVIDENCE_KEPT)] },
      dst: { ...versions.guess('dst'), cleanupThread: preempt.cleanupEntry ? threads.roleOf('dst', preempt.cleanupEntry.tid) : 'unknown' },
    },
    mode: { postcopy: main.mode.postcopy, preempt: main.mode.preempt, compatPre72: main.mode.compatPre72, evidence: main.mode.evidence },
    verdict,
    verdictReasons: reasons,
    findings,
    inconclusive,
    notApplicable,
    ...(several ? {} : { clean: main.clean.filter((c) => !r0Undecided(c.rule)) }),
    rulesChecked: rules.map((r) => r.id),
    threads: threadSummary.summaries,
    ...(several && !streamed ? { episodes: results.map(entry) } : {}),
    stats: {
      lines: counters.reduce((a, c) => a + c.lines, 0),
      events: counters.reduce((a, c) => a + c.events, 0),
      messages: counters.reduce((a, c) => a + c.messages, 0),
      unparsed: counters.reduce((a, c) => a + c.unparsed, 0),
    },
    dataQuality: {
      perInput: counters.map(({ bytes: _b, totalBytes: _t, notes: _n, ...c }) => c),
      // Inputs are read concurrently: order the samples so the report is the same every time.
      unparsedSamples: x.samples.sort((a, b) => inputs.findIndex((i) => i.path === a.file) - inputs.findIndex((i) => i.path === b.file) || a.line - b.line),
      unassignedTids: threads
        .all()
        .filter((t) => t.role === 'unknown')
        .sort((a, b) => b.events - a.events)
        .slice(0, 20)
        .map((t) => ({ side: t.side, tid: t.tid, events: t.events })),
      notes: runNotes(x, formats, facts, count, statesDropped),
    },
  };
  return { result, episodes: streamed };
}

function* mapped<A, B>(xs: Iterable<A>, fn: (a: A) => B): Generator<B> {
  for (const a of xs) yield fn(a);
}

function episodeStream(source: () => Iterable<EpisodeResult>, close: () => void): EpisodeStream {
  return {
    [Symbol.iterator]: () => source()[Symbol.iterator](),
    map: (fn) => episodeStream(() => mapped(source(), fn), close),
    close,
  };
}

/**
 * Events the backend itself lost (simple: DROPPED_EVENT): a rule that found nothing may have
 * missed its evidence in the gap, so "clean" becomes inconclusive (findings stand).
 */
function droppedWhy(counters: InputCounters[]): string | null {
  const dropped = counters.filter((c) => c.dropped > 0);
  if (!dropped.length) return null;
  return `the trace backend dropped ${dropped.map((c) => `${c.dropped} events in ${c.path}`).join(' and ')}: a clean result cannot be trusted`;
}

function markDropped(r: Judged, why: string | null, rules: readonly Rule[]): Judged {
  if (why === null) return r;
  const decided = new Set([...r.findings.map((f) => f.rule), ...r.inconclusive.map((i) => i.rule), ...r.notApplicable.map((n) => n.rule)]);
  for (const rule of rules) if (!decided.has(rule.id)) r.inconclusive.push({ rule: rule.id, reason: why });
  return r;
}

/** Each episode on its own, with its share of the thread summary in the summary's order. */
function episodeEntry(summary: ReturnType<ThreadTable['summaryIndexed']>): (r: Judged) => EpisodeResult {
  // A lookup, not a walk of the summary per episode.
  const episodeThreads = (tids: { src: Set<number>; dst: Set<number> }) =>
    (['src', 'dst'] as const)
      .flatMap((side) => [...tids[side]].map((tid) => summary.indexOf(side, tid)))
      .filter((i): i is number => i !== undefined)
      .sort((a, b) => a - b)
      .map((i) => summary.summaries[i]!);
  return (r) => {
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
  };
}

function runNotes(x: ResultInputs, formats: TraceFormat[], facts: RunFacts, count: number, statesDropped: number): string[] {
  const { model } = x;
  const notes = dataNotes(x.counters, formats, x.cuts, { ...facts, threads: model.threads, sides: { src: model.sideInfo('src'), dst: model.sideInfo('dst') } }, model.versions.contradictions(), statesDropped);
  notes.unshift(...(x.spec.notes ?? []), ...x.assembled.notes);
  if (model.unplaced > 0) notes.push(unplacedNote(model.unplaced, model.unplacedNames));
  if (model.judgedEarly > 0) notes.unshift(`to keep memory bounded, each of the first ${model.judgedEarly} migrations was judged once ${x.keepOpen} later ones had begun, with what the trace had shown by then`);
  if (count > 1) notes.unshift(`the trace holds ${count} migrations; each is analysed on its own (episodes)`);
  return notes;
}

/** The events of a both-process stream without thread ids that could not be put on a side, most first, and what to do. */
function unplacedNote(total: number, byName: ReadonlyMap<string, number>): string {
  const names = [...byName].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const shown = names.slice(0, 6).map(([n, c]) => `${n} (${c})`).join(', ') + (names.length > 6 ? `, and ${names.length - 6} more` : '');
  return `${total} events of a stream of both processes without thread ids could not be placed on either side (both sides log them: ${shown}): rules that need them are inconclusive; to decide them, ${UNPLACED_REMEDY}`;
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

