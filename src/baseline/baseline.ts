// Baselines: the findings a project has accepted for now, keyed by fingerprint (never by TID, time
// or line, so a re-run of the same scenario matches). The file is one JSON document laid out one
// entry per line, sorted by key, so it diffs and merges line by line and can still be read with jq.
import type { BaselineEntry, Finding, Report } from '../types.js';
import { fingerprint, fingerprintSummary } from '../report/fingerprint.js';

export const BASELINE_FORMAT = 'migtrace-baseline';
/** 2: keys name the migration mode (fingerprint v2); a version 1 baseline must be written again. */
export const BASELINE_VERSION = 2;

export class BaselineError extends Error {}

function keyOf(f: Finding): string {
  return f.fingerprint ?? fingerprint(f);
}

/** Entries for the findings of a report, one per key. Suppressed findings stay out: when their
 *  suppression expires they must surface as new, not hide in the baseline. */
export function baselineEntries(report: Report): BaselineEntry[] {
  const byKey = new Map<string, BaselineEntry>();
  for (const run of report.runs) {
    for (const f of run.findings) {
      if (f.suppressed) continue;
      const key = keyOf(f);
      if (!byKey.has(key)) byKey.set(key, { key, rule: f.rule, summary: fingerprintSummary(f) });
    }
  }
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export function serializeBaseline(entries: readonly BaselineEntry[]): string {
  const head = `{"format":${JSON.stringify(BASELINE_FORMAT)},"version":${BASELINE_VERSION},"entries":[`;
  const lines = entries.map((e, i) => JSON.stringify({ key: e.key, rule: e.rule, summary: e.summary }) + (i < entries.length - 1 ? ',' : ''));
  return `${[head, ...lines, ']}'].join('\n')}\n`;
}

export function parseBaseline(text: string, file: string): BaselineEntry[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new BaselineError(`${file}: not a migtrace baseline (invalid JSON: ${(e as Error).message})`);
  }
  const d = doc as { format?: unknown; version?: unknown; entries?: unknown };
  if (typeof d !== 'object' || d === null || d.format !== BASELINE_FORMAT) {
    throw new BaselineError(`${file}: not a migtrace baseline (expected "format": "${BASELINE_FORMAT}"; write one with --write-baseline)`);
  }
  if (d.version !== BASELINE_VERSION) {
    throw new BaselineError(`${file}: baseline format version ${String(d.version)} is not supported (this migtrace reads version ${BASELINE_VERSION}; version 2 keys name the migration mode: write it again with --write-baseline)`);
  }
  if (!Array.isArray(d.entries)) throw new BaselineError(`${file}: "entries" must be an array`);
  return d.entries.map((e: unknown, i: number) => {
    const x = e as Partial<BaselineEntry> | null;
    if (typeof x !== 'object' || x === null || typeof x.key !== 'string' || x.key === '') {
      throw new BaselineError(`${file}: entry ${i + 1} has no "key"`);
    }
    return { key: x.key, rule: typeof x.rule === 'string' ? x.rule : x.key.split('|')[0]!, summary: typeof x.summary === 'string' ? x.summary : '' };
  });
}

/**
 * Marks every finding `known` (its key is in the baseline) or `new`, and returns the baseline
 * entries no finding matched (the bug was fixed, or the run that showed it was not checked).
 */
export function applyBaseline(report: Report, entries: readonly BaselineEntry[]): BaselineEntry[] {
  const keys = new Set(entries.map((e) => e.key));
  const seen = new Set<string>();
  for (const run of report.runs) {
    for (const f of run.findings) {
      const key = keyOf(f);
      f.baseline = keys.has(key) ? 'known' : 'new';
      seen.add(key);
    }
  }
  return entries.filter((e) => !seen.has(e.key));
}
