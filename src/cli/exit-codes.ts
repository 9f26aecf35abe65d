// Every exit code migtrace returns is decided here (and documented in the README and --help).
import type { Finding, RunResult, Severity } from '../types.js';

export const EXIT = {
  clean: 0,
  findings: 1,
  error: 2,
  inconclusive: 3,
  /** migtrace capture only: the migration could not be run as the scenario intends. */
  captureFailed: 4,
} as const;

export type FailOn = Severity | 'never';

const RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

/** Whether a finding can fail the run: accepted ones (in the baseline, or suppressed) cannot. */
export function isActionable(f: Finding): boolean {
  return f.baseline !== 'known' && f.suppressed === undefined;
}

/**
 * A run of a batch that could not be read → 2 (broken input must not pass as a result); else
 * findings at or above --fail-on → 1; otherwise any run with a rule that could not decide → 3
 * (whatever else it found); otherwise 0.
 * Findings marked `known` (--baseline) or suppressed (--suppressions) are reported but never fail.
 */
export function exitCodeFor(runs: readonly RunResult[], failOn: FailOn = 'warning', unusableRuns = 0): number {
  if (unusableRuns > 0) return EXIT.error;
  const failing = failOn !== 'never' && runs.some((r) => r.findings.some((f) => isActionable(f) && RANK[f.severity] >= RANK[failOn]));
  if (failing) return EXIT.findings;
  // A rule that could not decide keeps the run from passing even when other rules found
  // something that the baseline, the suppressions or --fail-on then accepted.
  if (runs.some((r) => r.verdict === 'inconclusive' || r.inconclusive.length > 0)) return EXIT.inconclusive;
  return EXIT.clean;
}

export const EXIT_HELP = `Exit codes:
  0  clean: every rule decided and found nothing at or above --fail-on
  1  findings at or above --fail-on (default: warning); with --baseline only new ones count,
     and suppressed findings (--suppressions) never do
  2  usage or input error (bad option, unreadable or unrecognisable file, bad catalog); in a
     batch the other runs are still checked and reported, the unusable ones listed
  3  inconclusive: the trace cannot decide a rule (no thread ids, missing events); says why
  4  (capture only) the migration could not be run as the scenario intends; says what happened`;
