// Stable identity of a finding across runs of the same scenario: the key behind SARIF
// partialFingerprints, baselines and suppressions. Two runs of one scenario differ in TIDs,
// timestamps, pointer values, line numbers and counts, so none of those may enter the key; what
// stays is the rule, the object, who did what (side:role@event of the two accesses) and the kind
// of evidence. Keys are readable (not hashed) so a suppression can name them with a glob.
import type { Finding, FindingEvidence, Location } from '../types.js';

// v2: the migration mode joined the key (compat / default / 7.2-native …).
export const FINGERPRINT_VERSION = 'migtrace/v2';

// Evidence strengths that only say how the timing fell in one run, mapped to the evidence class
// they share. The EOS race shows as 'interleaved' in one run of a scenario and 'after-eos' in the
// next (traces/10.0.13/c-postcopy-preempt-pre72-1 vs -2): one bug, so one key.
const EVIDENCE_CLASS: Readonly<Record<string, string>> = {
  interleaved: 'owner-write',
  'after-eos': 'owner-write',
};

/** Keys hold no whitespace or '|' (they are field separators in keys and in suppression lines). */
function clean(s: string): string {
  return s
    .replace(/0x[0-9a-f]+/gi, '0x?') // QEMUFile and other pointer values change every run
    .replace(/[\s|]+/g, '_');
}

function evidenceClass(evidence: FindingEvidence): string {
  // The kind alone: a qualifier ('cleanup hung') depends on where the trace ends.
  return clean(EVIDENCE_CLASS[evidence.kind] ?? evidence.kind);
}

function actor(l: Location | undefined): string {
  return l ? `${l.side ?? '?'}:${l.role}@${clean(l.event)}` : '-';
}

/**
 * rule|object|mode|evidence-class|first access|second access, e.g.
 * `qemufile-concurrent-access|postcopy_qemufile_src|compat|owner-write|src:migration@migration_completion_postcopy_end_after_complete|src:rp@postcopy_preempt_send_host_page`.
 * Only the first two locations count: the rest is context that varies with what the trace shows.
 * A finding of a test suite's log ends with its test's path: the same race in two tests is two
 * entries of a baseline.
 */
export function fingerprint(f: Finding): string {
  const [a, b] = f.locations;
  return [clean(f.rule), f.object ? clean(f.object) : '-', f.mode ?? '-', evidenceClass(f.evidence), actor(a), actor(b), ...(f.test ? [clean(f.test)] : [])].join('|');
}

/** A one-line description built from the same stable parts (for baselines and listings). */
export function fingerprintSummary(f: Finding): string {
  const [a, b] = f.locations;
  const who = (l: Location | undefined) => (l ? `${l.side ?? '?'} ${l.role} thread (${l.event})` : '');
  const pair = [who(a), who(b)].filter(Boolean).join(' vs ');
  return `${f.rule}${f.object ? ` on ${f.object}` : ''}${f.mode ? ` (${f.mode} mode)` : ''}: ${pair || 'no location'}`;
}
