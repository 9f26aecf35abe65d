// Suppressions: findings a person accepted, with a reason and optionally an end date. Unlike a
// baseline (a snapshot written by the tool), this file is written by hand, so it has a line format
// as well as JSON:
//
//   # comment
//   <rule> <key-glob> [until=YYYY-MM-DD] <reason...>
//
// JSON: {"version":1,"suppressions":[{"rule","key","reason","until"?}]} or just the array.
// `*` matches any run of characters and `?` one character, in the rule and in the key
// (the finding's fingerprint, see src/report/fingerprint.ts). `until` is the last day it applies.
import type { Report } from '../types.js';
import { fingerprint } from '../report/fingerprint.js';

export class SuppressionError extends Error {}

export interface Suppression {
  rule: string;
  key: string;
  reason: string;
  until?: string;
  /** file:line (line format) or file:#index (JSON), for messages. */
  source: string;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function validDate(s: string): boolean {
  if (!DATE.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
}

export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

function check(s: Suppression, knownRules: readonly string[]): Suppression {
  const where = s.source;
  if (!s.rule) throw new SuppressionError(`${where}: missing rule`);
  if (!s.key) throw new SuppressionError(`${where}: missing key glob (use * for every finding of the rule)`);
  if (!s.reason.trim()) throw new SuppressionError(`${where}: missing reason: say why the finding is accepted`);
  if (s.until !== undefined && !validDate(s.until)) throw new SuppressionError(`${where}: until=${s.until} is not a date (YYYY-MM-DD)`);
  if (!/[*?]/.test(s.rule) && !knownRules.includes(s.rule)) {
    throw new SuppressionError(`${where}: no rule '${s.rule}'; rules: ${knownRules.join(', ')}`);
  }
  return s;
}

export function parseSuppressions(text: string, file: string, knownRules: readonly string[]): Suppression[] {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return parseJson(text, file, knownRules);
  const out: Suppression[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const source = `${file}:${i + 1}`;
    const m = /^(\S+)\s+(\S+)(?:\s+until=(\S+))?(?:\s+(.*))?$/.exec(line);
    if (!m) throw new SuppressionError(`${source}: expected '<rule> <key-glob> [until=YYYY-MM-DD] <reason>'`);
    const s: Suppression = { rule: m[1]!, key: m[2]!, reason: m[4] ?? '', source };
    if (m[3] !== undefined) s.until = m[3];
    out.push(check(s, knownRules));
  });
  return out;
}

function parseJson(text: string, file: string, knownRules: readonly string[]): Suppression[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new SuppressionError(`${file}: invalid JSON: ${(e as Error).message}`);
  }
  let list: unknown = doc;
  if (!Array.isArray(doc)) {
    const d = doc as { version?: unknown; suppressions?: unknown };
    if (d.version !== undefined && d.version !== 1) throw new SuppressionError(`${file}: suppressions version ${JSON.stringify(d.version)} is not supported (expected 1)`);
    list = d.suppressions;
  }
  if (!Array.isArray(list)) throw new SuppressionError(`${file}: expected {"version":1,"suppressions":[...]} or an array`);
  return list.map((e: unknown, i: number) => {
    const source = `${file}:#${i + 1}`;
    const x = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
    const str = (k: string) => (typeof x[k] === 'string' ? (x[k] as string) : '');
    const s: Suppression = { rule: str('rule'), key: str('key'), reason: str('reason'), source };
    if (x.until !== undefined) s.until = typeof x.until === 'string' ? x.until : JSON.stringify(x.until);
    return check(s, knownRules);
  });
}

export function isExpired(s: Suppression, today: string): boolean {
  return s.until !== undefined && s.until < today; // YYYY-MM-DD compares as text; until is inclusive
}

export interface SuppressionOutcome {
  /** Expired entries, with how many findings they would still have matched. */
  expired: Array<{ suppression: Suppression; matched: number }>;
  suppressedCount: number;
}

/** Marks findings matched by an active suppression (first match wins); `today` is YYYY-MM-DD (UTC). */
export function applySuppressions(report: Report, list: readonly Suppression[], today: string): SuppressionOutcome {
  const compiled = list.map((s) => ({ s, rule: globToRegExp(s.rule), key: globToRegExp(s.key), expired: isExpired(s, today), matched: 0 }));
  let suppressedCount = 0;
  for (const run of report.runs) {
    for (const f of run.findings) {
      const key = f.fingerprint ?? fingerprint(f);
      for (const c of compiled) {
        if (!c.rule.test(f.rule) || !c.key.test(key)) continue;
        c.matched++;
        if (c.expired) continue;
        f.suppressed = { reason: c.s.reason, source: c.s.source, ...(c.s.until ? { until: c.s.until } : {}) };
        suppressedCount++;
        break;
      }
    }
  }
  return { expired: compiled.filter((c) => c.expired).map((c) => ({ suppression: c.s, matched: c.matched })), suppressedCount };
}
