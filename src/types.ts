// Types shared by every stage of the pipeline (ingest → model → replay → rules → report → cli).
// The JSON report (src/report/json.ts) is a direct serialisation of `Report`; keep field names
// stable: other tools read them.

export type Side = 'src' | 'dst';

/** Thread roles of docs/model §A.1. `unknown` = a TID no anchor or secondary event identified. */
export type Role =
  | 'main'
  | 'migration'
  | 'rp'
  | 'listen'
  | 'fault'
  | 'preempt'
  | 'multifd'
  | 'io-task'
  | 'vcpu'
  | 'unknown';

/** One trace event, as the ingest stage produces it. `ts` is microseconds since the epoch. */
export interface TraceEvent {
  name: string;
  /** The process the event's input belongs to (decided before replay; null = undecided). */
  side: Side | null;
  args: string;
  tid: number | null;
  ts: number | null;
  /** Index of the input file in the run (RunInput[]). */
  input: number;
  line: number;
  /** The line as read; '' when a reader thread left it in the file, at byte `at` (read back when reported). */
  raw: string;
  /** With raw '': where the line starts in its (plain) file; -1 or absent otherwise. */
  at?: number;
}

/** A non-trace line that QEMU itself wrote (error_report), kept as evidence. */
export interface TraceMessage {
  text: string;
  program: string | null;
  ts: number | null;
  input: number;
  line: number;
}

/** Where something happened: a trace record, named as a person would look it up. */
export interface Location {
  file: string;
  line: number;
  tid: number | null;
  role: Role;
  side: Side | null;
  event: string;
  /** Seconds since the epoch, as printed by QEMU (sec.usec), or null when the trace has none. */
  ts: number | null;
  /** The trace line itself (trimmed), so a report can be read without opening the file. */
  text?: string;
  /** What this location stands for in the finding, e.g. "EOS write (inferred)". */
  note?: string;
}

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  rule: string;
  severity: Severity;
  message: string;
  /** What the finding rests on: a kind its rule declares (Rule.evidence), and what this run adds to it. */
  evidence: FindingEvidence;
  /** How reports head the first two locations, when they are not an access and the access it conflicts with. */
  headings?: LocationHeadings;
  /**
   * The migration's mode (set by the replay): postcopy-preempt in x-preempt-pre-7-2 `compat` mode, in
   * `default` (new) mode, on a `7.2-native` source, or `unknown`; else `postcopy` or `precopy`. Part
   * of the fingerprint: a race accepted in compat mode must not hide the same race in default mode.
   */
  mode?: 'compat' | 'default' | '7.2-native' | 'unknown' | 'postcopy' | 'precopy';
  /** How the threads in its locations were told apart (weakest of its sides): set by the replay. */
  threads?: 'thread ids' | 'per-thread files' | 'event names (no thread ids)';
  /** QEMU commits the rule guards. */
  commits: string[];
  /** The QEMUFile (or other object) concerned, when there is one. */
  object?: string;
  /** First the offending access, then the access it conflicts with, then context. */
  locations: Location[];
  /** Numbers behind the verdict (e.g. owner writes inside the window). */
  details?: Record<string, number | string | boolean | null>;
  /** Which migration of the run (1-based) when the trace holds several (see RunResult.episodes). */
  episode?: number;
  /** The test-suite test whose migration this is (a qtest log: its TAP path; see RunResult.tests). */
  test?: string;
  /** Stable key across runs of the same scenario (src/report/fingerprint.ts); set by `check`. */
  fingerprint?: string;
  /** With --baseline/--write-baseline: whether the fingerprint is in the baseline. */
  baseline?: 'new' | 'known';
  /** Set when a --suppressions entry accepted this finding; it then does not affect the exit code. */
  suppressed?: Suppressed;
}

/**
 * The strength of a finding's evidence: a kind declared by its rule (e.g. interleaved | after-eos |
 * ownership), and a qualifier that says what this run adds (`cleanup hung`). Only the kind enters
 * the fingerprint: the qualifier depends on where a trace ends.
 */
export interface FindingEvidence {
  kind: string;
  qualifier?: string;
}

/** Headings of a finding's first two locations (default: `Access` and `Conflicts with`). */
export interface LocationHeadings {
  first: string;
  second: string;
}

export interface Suppressed {
  reason: string;
  /** Last day (YYYY-MM-DD) the suppression applies. */
  until?: string;
  /** Where the suppression is written, file:line. */
  source: string;
}

/** One baseline entry (src/baseline/baseline.ts). */
export interface BaselineEntry {
  key: string;
  rule: string;
  summary: string;
}

/** A rule that could not decide, and why. */
export interface Inconclusive {
  rule: string;
  reason: string;
  /** Events whose absence makes the rule undecidable, when that is the reason. */
  missing?: string[];
}

/** A rule that decided there was nothing to report, and what it positively observed. */
export interface CleanNote {
  rule: string;
  note: string;
}

export interface NotApplicable {
  rule: string;
  reason: string;
}

export interface RunInput {
  path: string;
  side: Side | null;
  /** How the side was decided: "forced", or the inference evidence. */
  sideEvidence: string;
  format: string;
  /** The input holds both processes (a CI job log): each thread's side was told from its events. */
  mixed?: boolean;
}

export interface Evidence {
  claim: string;
  event?: string;
  file?: string;
  line?: number;
}

export interface QemuInference {
  /** Per side: version range the evidence allows, e.g. ">=10.0", "<=7.2", or "unknown". */
  src: VersionGuess;
  dst: VersionGuess;
}

export interface VersionGuess {
  range: string;
  /** Writer model for postcopy_qemufile_src (§D.0): who sends urgent pages. Source only. */
  writerModel?: 'migration-thread (<=7.2)' | 'return-path-thread (>=8.0)' | 'unknown';
  /** Destination: which thread runs the preempt cleanup (§A.3). */
  cleanupThread?: Role | 'unknown';
  evidence: Evidence[];
}

export interface ModeInference {
  postcopy: boolean;
  preempt: boolean;
  /** true / false / null when the trace cannot tell. */
  compatPre72: boolean | null;
  evidence: Evidence[];
}

export interface ThreadSummary {
  side: Side | null;
  /** null: a trace without thread ids, where the role's events were told by their names. */
  tid: number | null;
  role: Role;
  /** The event that identified the role, with file:line. */
  how: string;
  events: number;
}

export interface UnparsedSample {
  file: string;
  line: number;
  text: string;
  reason: string;
}

/** What one input held: every line (or binary record) is one of event, message, unparsed, blank. */
export interface InputQuality {
  path: string;
  lines: number;
  blank: number;
  events: number;
  eventsWithoutTid: number;
  eventsWithoutTs: number;
  messages: number;
  unparsed: number;
  /** Events whose timestamp goes back within their own thread. */
  outOfOrder: number;
  /** Lines longer than 1 MiB (cut, counted as unparsed). */
  overlong: number;
  /** Events found after other text on their line (CI prefixes, interleaved error messages). */
  embedded: number;
  /** Events the trace backend says it lost (simple backend: DROPPED_EVENT records, §F.2). */
  dropped: number;
}

export interface DataQuality {
  /** Per input: lines, events, messages, unparsed (lines = events + messages + unparsed + blank). */
  perInput: InputQuality[];
  unparsedSamples: UnparsedSample[];
  /** Events from TIDs no rule could place. */
  unassignedTids: Array<{ side: Side | null; tid: number; events: number }>;
  notes: string[];
}

export interface Stats {
  lines: number;
  events: number;
  messages: number;
  unparsed: number;
}

export type Verdict = 'clean' | 'findings' | 'inconclusive';

export interface RunResult {
  name: string;
  inputs: RunInput[];
  qemu: QemuInference;
  mode: ModeInference;
  verdict: Verdict;
  /** Why the verdict is inconclusive (empty otherwise). */
  verdictReasons: string[];
  findings: Finding[];
  inconclusive: Inconclusive[];
  notApplicable: NotApplicable[];
  /** Rules that decided clean, each with what it observed (shown with -v). */
  clean?: CleanNote[];
  rulesChecked: string[];
  threads: ThreadSummary[];
  stats: Stats;
  dataQuality: DataQuality;
  /**
   * When the trace holds several migrations (a retried or repeated migration of one source):
   * each analysed on its own, with its own threads, findings and verdict. The run's own fields
   * then sum them up: the worst verdict, every finding (tagged with its episode).
   */
  episodes?: EpisodeResult[];
  /**
   * A test suite's log (QEMU's qtest migration-test, a CI job): every test it ran, in order, each
   * test's source and target analysed as its own migration (one episode per traced test).
   */
  tests?: TestResult[];
}

export interface TestResult {
  /** The TAP test path (or `migration N` when the log has no TAP markers). */
  name: string;
  /** The TAP result line (`ok 6 /path`, `not ok …`), or null: no result (hung or killed), or no TAP. */
  tap: string | null;
  /** Lines of the log (or, for per-thread files, of the qtest log) it spans. */
  lines: [number, number];
  /** Whether its source and target wrote trace lines (some tests hide their QEMUs' stderr). */
  traced: boolean;
  /** Its verdict, or null when its migration is not in the log (no verdict of its own). */
  verdict: Verdict | null;
  verdictReasons: string[];
  /** The episode (RunResult.episodes index) that holds its migration. */
  episode: number | null;
  /** Probe QEMUs it started (no migration), left out of its migration. */
  probes: number;
  /** How its processes were found, and anything left out. */
  notes: string[];
}

export interface EpisodeResult {
  index: number;
  /** Time span (seconds since the epoch) and the state changes that delimit it. */
  from: number | null;
  to: number | null;
  states: { src: string[]; dst: string[] };
  verdict: Verdict;
  verdictReasons: string[];
  findings: Finding[];
  inconclusive: Inconclusive[];
  notApplicable: NotApplicable[];
  threads: ThreadSummary[];
  mode: ModeInference;
  /** The test whose migration this is (RunResult.tests). */
  test?: string;
}

export interface Report {
  tool: { name: string; version: string };
  runs: RunResult[];
  /** With --baseline: entries no finding of this check matched any more (fixed, or not re-run). */
  baselineGone?: BaselineEntry[];
  /** Runs of a batch whose input could not be read (exit 2); the other runs are reported as usual. */
  unusable?: UnusableRun[];
}

export interface UnusableRun {
  run: string;
  inputs: string[];
  /** The input error, with file and line where known. */
  error: string;
}
