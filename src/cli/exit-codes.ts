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
 * The exit code of a check, one run or many (a batch), in this order of precedence:
 *   1  some run has findings at or above --fail-on: what CI exists to catch, so a run beside it
 *      that could not be read does not hide it;
 *   2  some run of a batch could not be read (it is listed as not checked in every format):
 *      broken input must not pass;
 *   3  some run has a rule that could not decide (whatever else it found);
 *   0  every run decided every rule, and nothing at or above --fail-on.
 * Findings marked `known` (--baseline) or suppressed (--suppressions) are reported but never fail.
 * A single run whose input cannot be read, and every usage error, is exit 2 before any report.
 */
export function exitCodeFor(runs: readonly RunResult[], failOn: FailOn = 'warning', unusableRuns = 0): number {
  const failing = failOn !== 'never' && runs.some((r) => r.findings.some((f) => isActionable(f) && RANK[f.severity] >= RANK[failOn]));
  if (failing) return EXIT.findings;
  if (unusableRuns > 0) return EXIT.error;
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
  4  (capture only) the migration could not be run as the scenario intends; says what happened
Several runs: 1 if any has findings, else 2 if any could not be read, else 3 if any is
inconclusive, else 0.`;
