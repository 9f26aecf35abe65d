// A stream that holds many QEMU processes and tests (QEMU's tests/qtest/migration-test, a CI job
// that sends every QEMU's stderr to one log) split into tests and processes, so that each test's
// source and target are analysed as one migration and nothing of another test, or of a probe QEMU,
// is mixed into it. What the stream offers, in order of strength:
//   - GLib TAP markers: `# Running /path` opens a test, `ok N /path` / `not ok N /path` closes it;
//     a test with no result hung (or the run was killed inside it);
//   - `# starting QEMU: exec … -name source|target …`: where the test's pair of QEMUs starts;
//     `-machine none` (and every QEMU started without such a line) is a probe: a short-lived QEMU
//     with no migration (7 lines: qio_channel_socket_*, then migration_cancel, its QMP quit);
//   - the warnings every QEMU prints at start (events it does not have, `-mon` deprecated): one set
//     per process, so a repeated warning is a new process;
//   - thread ids (`TID@sec.usec:`, QEMU <= 10.0): a process's first line after its start is its
//     main thread, whose TID is the PID; a thread never moves to another process;
//   - without thread ids (ISO form, QEMU >= 10.1): the position: a probe's lines lie between its
//     start and the next start, a test's pair's lines after its source's start.
// Without TAP markers each `-name source` start opens a test; without any marker the stream is not
// split (planStream returns null) and is read as one run, as before.
import { openBytes, readHead } from '../ingest/bytes.js';
import { splitLines } from '../ingest/lines.js';

export type QtestProcessKind = 'source' | 'target' | 'probe';

export interface QtestProcess {
  kind: QtestProcessKind;
  /** The line that started it: its `# starting QEMU` line, or its first start-up warning. */
  line: number;
  /** The TID of its first trace line (its main thread: the PID), in the thread-id form. */
  pid: number | null;
  /** Its trace lines. */
  lines: number;
  warnings: Set<string>;
}

export interface QtestResult {
  line: number;
  ok: boolean;
  number: number;
  /** The TAP line, e.g. `ok 6 /x86_64/migration/postcopy/preempt/plain`. */
  text: string;
}

export interface QtestTest {
  /** 0-based, in stream order. */
  index: number;
  /** The TAP test path, or `migration N` when the stream has no TAP markers. */
  name: string;
  /** The `# Running` line (null without TAP markers). */
  running: number | null;
  /** Its TAP result; null: a `# Running` with no result (hung, or killed) or no TAP at all. */
  result: QtestResult | null;
  from: number;
  to: number;
  /** Source and target (when started), then the probes, in start order. */
  processes: QtestProcess[];
  /** Trace lines of its source and target. */
  pairLines: number;
}

export interface StreamPlan {
  path: string;
  /** `tid`: `TID@sec.usec:` lines; `iso`: ISO timestamps, no thread ids. */
  form: 'tid' | 'iso';
  /** How the stream was split: TAP markers, or start markers only. */
  by: 'tap' | 'start markers';
  tests: QtestTest[];
  /** Processes started before the first test (a probe, in migration-test). */
  before: QtestProcess[];
  /** Per line (1-based): index of the test whose source/target wrote it, else -1 (a probe, a marker, outside every test). */
  owner: Int16Array;
  /** Trace lines outside every test and every probe (counted, never given to a test). */
  outside: number[];
  /** ISO form: lines whose timestamp and body came apart (two writers at once). */
  torn: { twoStamps: number[]; noStamp: number[] };
  /** The TAP plan line (`1..N`), absent when the run was killed. */
  plan: number | null;
}

const RUNNING = /^# Running (\S+)/;
const RESULT = /^(not )?ok (\d+) (\S+)/;
const STARTING = /^# starting QEMU: exec /;
const TAP_PLAN = /^1\.\.(\d+)\s*$/;
const TID_LINE = /^(\d+)@\d+\.\d+:[A-Za-z_]/;
const ISO = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(?:\\.\\d+)?Z';
const ISO_LINE = new RegExp(`^${ISO} `);
const TWO_STAMPS = new RegExp(`^${ISO} ${ISO}`);
/** Lines of the test runner, not of a QEMU. */
const RUNNER_LINE = /^(?:#|TAP version|Bail out!|qemu-system)/;
/** Warnings every QEMU prints once at start with such an events file or command line. */
const START_WARNING = /^(?:\S+ )?qemu-system-[\w-]+:(.*(?:warning: trace event '[^']*' does not exist|warning: '-mon' is deprecated).*)$/;

/** Whether an input's head looks like a test-suite stream of many QEMUs (cheap: its first 64 KiB). */
export async function looksLikeQtestStream(path: string): Promise<boolean> {
  const head = (await readHead(path)).toString('utf8');
  return /^# starting QEMU: exec /m.test(head) || (/^TAP version \d+/m.test(head) && /^# Running \//m.test(head));
}

/**
 * What the `%d` of a `-D` file name in the suite's QEMU command lines stands for: with `-d tid`
 * the thread id (one file per thread), without it the PID (one file per process; QEMU's
 * util/log.c). Read from the first `# starting QEMU: exec` line in the log's head; null when no
 * line says (no start line, or no `-D …%d…` in it).
 */
export async function filesPerQemu(path: string): Promise<'thread' | 'process' | null> {
  const head = (await readHead(path)).toString('utf8');
  const start = /^# starting QEMU: exec .*$/m.exec(head)?.[0];
  if (!start || !/\s-D\s+\S*%d/.test(start)) return null;
  return /\s-d\s+(?:\S*,)?tid(?:,|\s|$)/.test(start) ? 'thread' : 'process';
}

/** Reads the stream once and splits it; null when it has no markers to split by. */
export async function scanStream(path: string): Promise<StreamPlan | null> {
  const planner = new Planner(path);
  for await (const batch of splitLines(openBytes(path, {}).chunks)) {
    for (let i = 0; i < batch.lines.length; i++) planner.line(batch.firstLine + i, batch.lines[i]!);
  }
  return planner.finish();
}

/** Splits lines given one by one (pure: the tests feed it lines directly). */
export class Planner {
  private n = 0;
  private owners: number[] = [];
  private tests: QtestTest[] = [];
  private before: QtestProcess[] = [];
  private open: QtestTest | null = null;
  private lastStart: QtestProcess | null = null;
  private pendingPid: QtestProcess[] = [];
  private pidOf = new Map<number, QtestProcess>();
  private current: QtestProcess | null = null;
  private form: 'tid' | 'iso' | null = null;
  private sawTap = false;
  private sawStart = false;
  private plan: number | null = null;
  private outside: number[] = [];
  private torn = { twoStamps: [] as number[], noStamp: [] as number[] };
  /** Trace lines before any marker: they belong to no test. */
  constructor(readonly path: string) {}

  line(n: number, text: string): void {
    this.n = n;
    this.owners[n] = -1;
    let m: RegExpExecArray | null;
    // Each marker's regex only where the line can be one (its first character; the start warnings'
    // "qemu-system-"): most lines are trace lines, and five regexes on each were a fifth of the check.
    const c0 = text.charCodeAt(0);
    if (c0 === 35 /* # */ && (m = RUNNING.exec(text))) return this.openTest(n, m[1]!);
    if ((c0 === 111 /* o */ || c0 === 110) /* n */ && (m = RESULT.exec(text))) return this.closeTest(n, { line: n, ok: m[1] === undefined, number: Number(m[2]), text: text.trim() }, m[3]!);
    if (c0 === 49 /* 1 */ && TAP_PLAN.test(text)) {
      this.plan = n;
      return;
    }
    if (c0 === 35 && STARTING.test(text)) return this.start(n, startKind(text), null);
    if (text.includes('qemu-system-') && (m = START_WARNING.exec(text))) {
      const w = m[1]!;
      if (this.lastStart && !this.lastStart.warnings.has(w)) this.lastStart.warnings.add(w);
      else this.start(n, 'probe', w);
      return;
    }
    this.trace(n, text);
  }

  private openTest(n: number, name: string): void {
    this.sawTap = true;
    if (this.open) this.endTest(n - 1, null);
    this.open = { index: this.tests.length, name, running: n, result: null, from: n, to: n, processes: [], pairLines: 0 };
    this.tests.push(this.open);
    this.lastStart = null;
    this.current = null;
    this.pendingPid = [];
    // A process never outlives its test: a TID seen before is a new thread here (PIDs wrap).
    this.pidOf.clear();
  }

  private closeTest(n: number, result: QtestResult, name: string): void {
    this.sawTap = true;
    const t = this.open && this.open.name === name ? this.open : null;
    if (t) this.endTest(n, result);
  }

  private endTest(to: number, result: QtestResult | null): void {
    const t = this.open!;
    t.to = to;
    t.result = result;
    this.open = null;
    this.current = null;
    this.lastStart = null;
    // A QEMU that never wrote a line (its stderr hidden) must not take the next test's first TID.
    this.pendingPid = [];
  }

  private start(n: number, kind: QtestProcessKind, warning: string | null): void {
    this.sawStart ||= kind !== 'probe' || warning === null;
    const p: QtestProcess = { kind, line: n, pid: null, lines: 0, warnings: new Set(warning ? [warning] : []) };
    this.lastStart = p;
    this.pendingPid.push(p);
    // Without TAP markers, each source starts a migration of its own.
    if (!this.sawTap && kind === 'source') {
      const prev = this.tests[this.tests.length - 1];
      if (prev) prev.to = n - 1;
      this.open = { index: this.tests.length, name: `migration ${this.tests.length + 1}`, running: null, result: null, from: n, to: n, processes: [], pairLines: 0 };
      this.tests.push(this.open);
    }
    if (this.open) this.open.processes.push(p);
    else this.before.push(p);
    // (A probe's lines, in the form without thread ids, run to the next start.)
    this.current = p;
  }

  private trace(n: number, text: string): void {
    let m: RegExpExecArray | null;
    let tid: number | null = null;
    if ((m = TID_LINE.exec(text))) {
      this.form ??= 'tid';
      tid = Number(m[1]);
    } else if (ISO_LINE.test(text)) {
      this.form ??= 'iso';
      if (TWO_STAMPS.test(text)) this.torn.twoStamps.push(n);
    } else if (this.form === 'iso' && text.trim() !== '' && !RUNNER_LINE.test(text)) {
      // A body whose timestamp landed on another line (a trace line, or a message: `KVM: …`).
      this.torn.noStamp.push(n);
    } else return; // not a trace line (the runner's own output): counted by the reader
    const proc = this.processOf(tid);
    if (proc) proc.lines++;
    const t = this.open;
    if (proc && proc.kind !== 'probe' && t && t.processes.includes(proc)) {
      this.owners[n] = t.index;
      t.pairLines++;
    } else if (!proc) this.outside.push(n);
  }

  /** The process a trace line belongs to: by its TID where lines have one, else by position. */
  private processOf(tid: number | null): QtestProcess | null {
    if (tid === null) return this.current;
    const known = this.pidOf.get(tid);
    if (known) return known;
    const waiting = this.pendingPid.shift();
    if (waiting) {
      waiting.pid = tid;
      this.pidOf.set(tid, waiting);
      return waiting;
    }
    // A probe logs on its main thread; should one have another thread, it is the probe's.
    if (this.current?.kind === 'probe') {
      this.pidOf.set(tid, this.current);
      return this.current;
    }
    // Another thread of a running process: the pair's, when the test's pair has started (its
    // side is told from its events later); a probe logs on its main thread only.
    const t = this.open;
    const pair = t?.processes.find((p) => p.kind !== 'probe' && p.pid !== null);
    if (pair) {
      this.pidOf.set(tid, pair);
      return pair;
    }
    return null;
  }

  finish(): StreamPlan | null {
    if (this.open) this.endTest(this.n, null);
    if (!this.sawTap && !this.sawStart) return null;
    const owner = new Int16Array(this.n + 2).fill(-1);
    for (let i = 1; i <= this.n; i++) owner[i] = this.owners[i] ?? -1;
    return {
      path: this.path,
      form: this.form ?? 'tid',
      by: this.sawTap ? 'tap' : 'start markers',
      tests: this.tests,
      before: this.before,
      owner,
      outside: this.outside,
      torn: this.torn,
      plan: this.plan,
    };
  }
}

function startKind(text: string): QtestProcessKind {
  if (/\s-machine\s+none\b/.test(text)) return 'probe';
  const name = /\s-name\s+([^,\s]+)/.exec(text)?.[1];
  return name === 'source' ? 'source' : name === 'target' ? 'target' : 'probe';
}
