// Where a run is dispatched: a test suite's log (QEMU's qtest migration-test, a CI job with many
// QEMUs in one stream) is split into its tests by the assembly stage (assembly/qtest.ts), each
// test's source and target replayed as a migration of its own, and the results put back together
// as one run whose episodes are the tests; anything else is one run as before (run.ts).
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { openBytes } from '../ingest/bytes.js';
import { cutReason } from '../ingest/input-end.js';
import { looksLikeQtestStream, scanStream, type QtestTest, type StreamPlan } from '../assembly/qtest.js';
import { groupThreadFiles, type ThreadGrouping } from '../assembly/qtest-threads.js';
import type { AssembledRun, RunSpec } from '../assembly/types.js';
import { detectFormat, formatByName, newCounters, readTraceRecords, STDIN, type InputCounters, type TraceFormat, type TraceRecord } from '../ingest/trace-input.js';
import { sideOfRows } from '../model/side.js';
import { argsUse, rowsFor, rowsForMask, type Catalog } from '../model/catalog.js';
import type { EpisodeResult, Finding, Inconclusive, ModeInference, RunResult, Side, TestResult, UnparsedSample } from '../types.js';
import type { ReplayObserver } from './observer.js';
import { analyzeRun, analyzeRunStreamed, decideVerdict, type AnalyzeOptions, type EpisodeStream } from './run.js';

/**
 * Per test of a suite's log, what watches that test's replay (a timeline of its own: the tests'
 * replays are separate migrations, so one timeline across them would mix their threads), told
 * the test's result when it is done. The run's own observers see nothing of a suite's tests.
 */
export interface TestWatch {
  observers: ReplayObserver[];
  done(result: RunResult): void;
}

export interface SpecOptions extends AnalyzeOptions {
  perTest?: (test: string) => TestWatch;
}

/**
 * With `onEpisodes`, a plain run (not a suite's tests) is analysed for a streamed report
 * (analyzeRunStreamed): its migrations come to `onEpisodes`, not in the result.
 */
export async function analyzeSpec(spec: RunSpec, opts: SpecOptions, onEpisodes?: (episodes: EpisodeStream | null) => void): Promise<RunResult> {
  if (spec.qtestLog) return analyzeTestThreads(spec, spec.qtestLog, opts);
  const only = spec.inputs.length === 1 ? spec.inputs[0]! : undefined;
  if (only && only.path !== STDIN && only.side === undefined && only.tid === undefined && (await looksLikeQtestStream(only.path))) {
    const format = only.format ? formatByName(only.format) : await detectFormat(only.path);
    if (format.name === 'log') {
      const plan = await scanStream(only.path);
      if (plan && plan.tests.length > 0) return analyzeStream(spec, plan, format, opts);
    }
  }
  if (only && only.path === STDIN && only.side === undefined && only.format === undefined && (await looksLikeQtestStream(STDIN))) return fromSpool(spec, opts);
  if (!onEpisodes) return analyzeRun(spec, opts);
  const { result, episodes } = await analyzeRunStreamed(spec, opts);
  onEpisodes(episodes);
  return result;
}

/**
 * A suite's log on standard input (`zcat job.log.gz | migtrace check -`): the split reads the log
 * twice (markers, then records), and standard input can be read once, so it is kept in a temporary
 * file first; the report names standard input (`-`), as for any other input read from it.
 */
async function fromSpool(spec: RunSpec, opts: SpecOptions): Promise<RunResult> {
  const dir = await mkdtemp(join(tmpdir(), 'migtrace-stdin-'));
  const file = join(dir, 'stdin.log');
  try {
    await pipeline(Readable.from(openBytes(STDIN).chunks), createWriteStream(file));
    const r = await analyzeSpec({ ...spec, inputs: [{ path: file }] }, opts);
    return JSON.parse(JSON.stringify(r).split(JSON.stringify(file).slice(1, -1)).join(STDIN)) as RunResult;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One test's part of a stream, read already. */
interface TestPart {
  test: QtestTest;
  result: RunResult | null;
  from: number | null;
  to: number | null;
}

async function analyzeStream(spec: RunSpec, plan: StreamPlan, format: TraceFormat, opts: SpecOptions): Promise<RunResult> {
  const path = plan.path;
  const counters = newCounters(path);
  const samples: UnparsedSample[] = [];
  const byTest: TraceRecord[][] = plan.tests.map(() => []);
  // A QEMU message (error_report) belongs to the test whose pair was running when it was written.
  const pairFrom = plan.tests.map((t) => t.processes.find((p) => p.kind !== 'probe')?.line ?? Infinity);
  const messageOwner = (line: number) => plan.tests.findIndex((t, i) => pairFrom[i]! <= line && line <= t.to);
  const parts: TestPart[] = [];
  // Read once; each record goes to the test whose source or target wrote it (the plan's owner).
  // A test is analysed as soon as the read is past its last line: one test's records in memory at a time.
  // Unless a test's timeline shows every line (--html), lines are read as the replay reads a trace:
  // scanned as bytes, left in a plain file (read back if reported), arguments only where read (the
  // string parser on every line made a suite's log 8-10 times slower to check than a trace).
  const lean = opts.perTest ? {} : { textLater: true, argsUse: argsUse(opts.catalog, new Set(opts.rules.flatMap((r) => r.readsArgs ?? []))) };
  let next = 0;
  for await (const batch of readTraceRecords(path, 0, null, counters, { maxSamples: opts.maxUnparsedSamples, onUnparsed: (s) => samples.push(s), ...lean }, format)) {
    for (const rec of batch) {
      const k = rec.kind === 'event' ? plan.owner[rec.line]! : START_NOISE.test(rec.text) ? -1 : messageOwner(rec.line);
      if (k >= 0) byTest[k]!.push(rec);
    }
    const last = batch.length ? batch[batch.length - 1]!.line : 0;
    while (next < plan.tests.length - 1 && last > plan.tests[next]!.to) parts.push(await analyzeTest(plan.tests[next++]!));
    opts.onProgress?.(counters.bytes, counters.totalBytes);
  }
  while (next < plan.tests.length) parts.push(await analyzeTest(plan.tests[next++]!));

  async function analyzeTest(t: QtestTest): Promise<TestPart> {
    const recs = byTest[t.index]!;
    byTest[t.index] = [];
    if (!recs.some((r) => r.kind === 'event')) return { test: t, result: null, from: null, to: null };
    const c = newCounters(path);
    for (const r of recs) {
      if (r.kind === 'message') c.messages++;
      else {
        c.events++;
        if (r.tid === null) c.eventsWithoutTid++;
        if (r.ts === null) c.eventsWithoutTs++;
      }
    }
    c.lines = c.events + c.messages;
    // A cut log cuts its last test only.
    const lastTest = t === plan.tests[plan.tests.length - 1];
    if (lastTest) c.notes = [...counters.notes];
    const cuts = [lastTest ? await cutReason(path, format.name, counters, false) : null];
    const assembled: AssembledRun = {
      inputs: [{ path, side: null, sideEvidence: pairEvidence(t, plan), format: format.name, mixed: true }],
      formats: [format],
      tidSides: [plan.form === 'tid' ? sidesByTid(recs, t, opts.catalog) : new Map()],
      notes: [],
    };
    let from = Infinity;
    let to = -Infinity;
    for (const r of recs) if (r.ts !== null) [from, to] = [Math.min(from, r.ts), Math.max(to, r.ts)];
    const watch = opts.perTest?.(t.name);
    const result = await analyzeRun(
      { name: `${spec.name} ${t.name}`, inputs: [{ path }] },
      { ...opts, observers: watch?.observers, readers: 'inline', onProgress: undefined, prepared: { assembled, sources: [batches(recs)], counters: [c], cuts } },
    );
    watch?.done(result);
    return { test: t, result, from: from === Infinity ? null : from / 1e6, to: to === -Infinity ? null : to / 1e6 };
  }
  const notes = streamNotes(plan);
  // Tests run one after another: a test whose lines start before the previous one's end was split wrong, or the stream was.
  const timed = parts.filter((p) => p.from !== null && p.to !== null);
  for (let i = 1; i < timed.length; i++) {
    if (timed[i]!.from! < timed[i - 1]!.to!) notes.push(`${path}: tests ${timed[i - 1]!.test.name} and ${timed[i]!.test.name} overlap in time (${timed[i - 1]!.to!.toFixed(6)} > ${timed[i]!.from!.toFixed(6)}): their split may be wrong`);
  }
  return combine(spec, parts, { inputs: [{ path, side: null, sideEvidence: `a test suite's log: ${plan.tests.length} tests by ${plan.by === 'tap' ? 'their TAP markers' : 'the start markers of their QEMUs'}; each test's source and target told apart by ${plan.form === 'tid' ? 'thread ids' : 'event names (no thread ids)'}`, format: format.name, mixed: true }], perInput: [counters], samples, notes, lineOf: (t) => [t.from, t.to] });
}

/** The start-up warnings of every QEMU (markers, not evidence of a test's migration). */
const START_NOISE = /warning: trace event '[^']*' does not exist|warning: '-mon' is deprecated/;

async function* batches(recs: TraceRecord[]): AsyncGenerator<TraceRecord[]> {
  for (let i = 0; i < recs.length; i += 4096) yield recs.slice(i, i + 4096);
}

/** Each thread's side in one test: by the events only one side logs, else (a main thread) by the PID of its process's start. */
function sidesByTid(recs: TraceRecord[], t: QtestTest, catalog: Catalog): Map<number, Side> {
  const count = new Map<number, { src: number; dst: number }>();
  for (const r of recs) {
    if (r.kind !== 'event' || r.tid === null) continue;
    // Rows as the reader matched them where it did (the arguments are then not read: '').
    const side = sideOfRows(r.rowsMask !== undefined && r.rowsMask >= 0 ? rowsForMask(catalog, r.name, r.rowsMask) : rowsFor(catalog, r.name, r.args));
    if (!side) continue;
    const c = count.get(r.tid) ?? { src: 0, dst: 0 };
    c[side]++;
    count.set(r.tid, c);
  }
  const sides = new Map<number, Side>();
  for (const [tid, c] of count) {
    if (c.src > 0 && c.dst === 0) sides.set(tid, 'src');
    else if (c.dst > 0 && c.src === 0) sides.set(tid, 'dst');
  }
  // The PID (first new TID after a start) places a main thread that logs nothing side-specific;
  // the events a thread logs are stronger (another thread can log first on a busy machine).
  for (const p of t.processes) if (p.pid !== null && p.kind !== 'probe' && !sides.has(p.pid)) sides.set(p.pid, p.kind === 'source' ? 'src' : 'dst');
  return sides;
}

function pairEvidence(t: QtestTest, plan: StreamPlan): string {
  const pair = t.processes.filter((p) => p.kind !== 'probe');
  const named = pair.map((p) => `${p.kind}${p.pid !== null ? ` PID ${p.pid}` : ''} started at line ${p.line}`).join(', ');
  return `test ${t.name}: ${named || 'no start markers'}; ${plan.form === 'tid' ? 'other threads by the events only one side logs' : 'no thread ids: each event placed by the side its name implies'}`;
}

function lineList(lines: number[], path: string): string {
  return `${lines.length} (first at ${path}:${lines[0]}${lines.length > 1 ? `, last at ${path}:${lines[lines.length - 1]}` : ''})`;
}

function probeText(ps: QtestTest['processes']): string {
  const probes = ps.filter((p) => p.kind === 'probe');
  const pids = probes.map((p) => p.pid).filter((p) => p !== null);
  return `${probes.length} probe QEMU${probes.length === 1 ? '' : 's'} (no migration${pids.length ? `; PID ${pids.join(', ')}` : ''}; ${probes.reduce((a, p) => a + p.lines, 0)} trace lines)`;
}

function streamNotes(plan: StreamPlan): string[] {
  const notes: string[] = [];
  const probes = plan.tests.reduce((a, t) => a + t.processes.filter((p) => p.kind === 'probe').length, plan.before.length);
  notes.push(`${plan.path}: a test suite's log: ${plan.tests.length} tests (by ${plan.by === 'tap' ? 'TAP markers' : 'the QEMUs\' start markers; no TAP markers'}); each test's source and target are analysed as one migration; ${probes} probe QEMUs (no migration) are left out of them`);
  if (plan.before.length) notes.push(`${plan.path}: before the first test: ${probeText(plan.before)}`);
  if (plan.outside.length) notes.push(`${plan.path}: ${lineList(plan.outside, plan.path)} trace lines belong to no test and no probe QEMU: left out`);
  const { twoStamps, noStamp } = plan.torn;
  if (twoStamps.length + noStamp.length) {
    notes.push(
      `${plan.path}: ${twoStamps.length + noStamp.length} torn lines (two QEMUs wrote a line's timestamp and its body separately, at the same moment): ` +
        `${twoStamps.length ? `${lineList(twoStamps, plan.path)} start with two timestamps` : ''}${twoStamps.length && noStamp.length ? '; ' : ''}${noStamp.length ? `${lineList(noStamp, plan.path)} have none (kept without a timestamp, in their test by position)` : ''}`,
    );
  }
  if (plan.by === 'tap' && plan.plan === null) notes.push(`${plan.path}: no TAP plan line (1..N): the run did not finish (killed?)`);
  return notes;
}

interface StreamInfo {
  inputs: RunResult['inputs'];
  perInput: InputCounters[];
  samples: UnparsedSample[];
  notes: string[];
  lineOf: (t: QtestTest) => [number, number];
}

/** The tests as one run: one episode per traced test, findings tagged with their test, the worst verdict. */
function combine(spec: RunSpec, parts: TestPart[], info: StreamInfo): RunResult {
  const traced = parts.filter((p): p is TestPart & { result: RunResult } => p.result !== null);
  const episodes: EpisodeResult[] = traced.map((p, i) => {
    const r = p.result;
    const tag = (f: Finding): Finding => ({ ...f, episode: i + 1, test: p.test.name });
    return {
      index: i + 1,
      from: p.from,
      to: p.to,
      states: { src: r.episodes?.flatMap((e) => e.states.src) ?? [], dst: r.episodes?.flatMap((e) => e.states.dst) ?? [] },
      verdict: r.verdict,
      verdictReasons: r.verdictReasons,
      findings: r.findings.map(tag),
      inconclusive: r.inconclusive,
      notApplicable: r.notApplicable,
      threads: r.threads,
      mode: r.mode,
      test: p.test.name,
    };
  });
  const findings = episodes.flatMap((e) => e.findings);
  const inconclusive: Inconclusive[] = episodes.flatMap((e) => e.inconclusive.map((x) => ({ ...x, reason: `test ${e.test}: ${x.reason}` })));
  const decided = decideVerdict(findings, inconclusive, traced.length > 0);
  if (traced.length === 0) decided.reasons = [`no test's source and target wrote trace lines into this log (${parts.length} test${parts.length === 1 ? '' : 's'}, only markers and probe QEMUs): nothing to decide`];
  const tests: TestResult[] = parts.map((p) => {
    const e = episodes.find((x) => x.test === p.test.name && p.result !== null);
    const pair = p.test.processes.filter((x) => x.kind !== 'probe');
    const notes = [probeText(p.test.processes)];
    if (pair.length) notes.push(pair.map((x) => `${x.kind}${x.pid !== null ? ` PID ${x.pid}` : ''} from line ${x.line}`).join(', '));
    if (p.test.running !== null && p.test.result === null) notes.push('no TAP result: the test hung, or the run was killed inside it');
    if (!p.result) notes.push(`its source and target wrote no trace lines into the log${pair.length ? ' (their stderr was not in it: migration-test hides some tests\' QEMU output)' : ''}: not analysed, no verdict of its own`);
    return {
      name: p.test.name,
      tap: p.test.result?.text ?? null,
      lines: info.lineOf(p.test),
      traced: p.result !== null,
      verdict: e ? e.verdict : null,
      verdictReasons: e ? e.verdictReasons : [],
      episode: e ? e.index : null,
      probes: p.test.processes.filter((x) => x.kind === 'probe').length,
      notes,
    };
  });
  const first = traced.find((p) => p.result.findings.length > 0)?.result ?? traced[0]?.result;
  const testNotes = traced.flatMap((p) => p.result.dataQuality.notes.map((n) => `test ${p.test.name}: ${n}`));
  return {
    name: spec.name,
    inputs: info.inputs,
    qemu: first?.qemu ?? { src: { range: 'unknown', evidence: [] }, dst: { range: 'unknown', evidence: [] } },
    mode: mergeModes(traced.map((p) => p.result.mode)),
    verdict: decided.verdict,
    verdictReasons: decided.reasons,
    findings,
    inconclusive,
    notApplicable: [],
    rulesChecked: first?.rulesChecked ?? [],
    threads: traced.flatMap((p) => p.result.threads),
    stats: {
      lines: info.perInput.reduce((a, c) => a + c.lines, 0),
      events: info.perInput.reduce((a, c) => a + c.events, 0),
      messages: info.perInput.reduce((a, c) => a + c.messages, 0),
      unparsed: info.perInput.reduce((a, c) => a + c.unparsed, 0),
    },
    dataQuality: {
      perInput: info.perInput.map(({ bytes: _b, totalBytes: _t, notes: _n, ...c }) => c),
      unparsedSamples: info.samples,
      unassignedTids: traced.flatMap((p) => p.result.dataQuality.unassignedTids).slice(0, 20),
      notes: [...(spec.notes ?? []), ...info.notes, ...info.perInput.flatMap((c) => c.notes.map((n) => `${c.path}: ${n}`)), ...testNotes],
    },
    episodes,
    tests,
  };
}

function mergeModes(modes: ModeInference[]): ModeInference {
  const compat = modes.map((m) => m.compatPre72);
  return {
    postcopy: modes.some((m) => m.postcopy),
    preempt: modes.some((m) => m.preempt),
    compatPre72: compat.includes(true) ? true : compat.includes(false) ? false : null,
    evidence: modes.flatMap((m) => m.evidence).slice(0, 6),
  };
}

/** Per-thread (or per-process) files of a suite's QEMUs, named by the suite's own log: grouped into processes and tests, each test's pair analysed on its own. */
async function analyzeTestThreads(spec: RunSpec, qtestLog: string, opts: SpecOptions): Promise<RunResult> {
  const plan = await scanStream(qtestLog);
  const unit = spec.qtestFiles ?? 'thread';
  const grouping: ThreadGrouping = await groupThreadFiles(spec.inputs, plan?.tests ?? [], plan?.before.length ?? 0, unit);
  const parts: TestPart[] = [];
  for (const g of grouping.tests) {
    const watch = g.inputs.length ? opts.perTest?.(g.test.name) : undefined;
    const result = g.inputs.length ? await analyzeRun({ name: `${spec.name} ${g.test.name}`, inputs: g.inputs }, { ...opts, observers: watch?.observers, onProgress: undefined }) : null;
    if (result) watch?.done(result);
    parts.push({ test: g.test, result, from: g.from, to: g.to });
  }
  const perInput = parts.flatMap((p) => p.result?.dataQuality.perInput ?? []).map((c) => ({ ...c, notes: [], bytes: 0, totalBytes: 0 }));
  return combine(spec, parts, {
    inputs: [{ path: qtestLog, side: null, sideEvidence: `the test suite's log: ${grouping.tests.length} tests; their QEMUs' per-${unit} files grouped by ${grouping.by}${unit === 'process' ? ' (its QEMU command lines have -D …%d… without -d tid: %d is the PID)' : ''}`, format: 'log', mixed: true }],
    perInput,
    samples: [],
    notes: grouping.notes,
    lineOf: (t) => [t.from, t.to],
  });
}
