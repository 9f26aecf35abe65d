// --format sarif: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers. One SARIF run for
// the whole check (GitHub rejects several runs of one tool and category in an upload); each
// migtrace run's name is in result.properties.run. Conventions: OASIS SARIF 2.1.0 and GitHub code scanning's SARIF support.
import { threadId, threadLabel } from './thread-label.js';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { RULES } from '../rules/index.js';
import type { Finding, Location, Report, RunResult, Severity } from '../types.js';
import { fingerprint, FINGERPRINT_VERSION } from './fingerprint.js';
import { jsonPieces } from './json.js';

export const SARIF_SCHEMA = 'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';

export interface SarifOptions {
  /** Directory trace paths are made relative to (the repository root in CI). */
  cwd?: string;
}

/** A finding someone accepted (in the baseline, or suppressed): reported, but not to act on. */
export function isAccepted(f: Finding): boolean {
  return f.baseline === 'known' || f.suppressed !== undefined;
}

/** Trace path as a relative, '/'-separated path (GitHub matches alerts to files by it). */
export function repoPath(file: string, cwd: string | undefined): string {
  if (cwd === undefined) return file.split(sep).join('/');
  const rel = relative(cwd, isAbsolute(file) ? file : resolve(cwd, file)) || file;
  return rel.split(sep).join('/');
}

/** Relative URI reference: percent-encode what a path may hold but a URI may not. */
function toUri(path: string): string {
  return encodeURI(path).replace(/[?#]/g, (c) => encodeURIComponent(c));
}

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', info: 'note' };

function pascal(id: string): string {
  return id.replace(/(^|-)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());
}

function physical(l: Location, cwd: string | undefined) {
  return {
    artifactLocation: { uri: toUri(repoPath(l.file, cwd)) },
    region: { startLine: Math.max(1, l.line), ...(l.text ? { snippet: { text: l.text } } : {}) },
  };
}

function who(l: Location): string {
  return `${threadLabel(l)} thread: ${l.event}`;
}

/** One threadFlow per (side, TID), each in time order; executionOrder is the global time order. */
function codeFlow(f: Finding, cwd: string | undefined) {
  const order = f.locations
    .map((l, i) => ({ l, i }))
    .sort((a, b) => (a.l.ts ?? Infinity) - (b.l.ts ?? Infinity) || a.i - b.i);
  const flows = new Map<string, Array<{ l: Location; n: number }>>();
  order.forEach(({ l }, n) => {
    const id = threadId(l);
    const list = flows.get(id) ?? [];
    list.push({ l, n: n + 1 });
    flows.set(id, list);
  });
  return {
    message: { text: `${f.rule}: the accesses and their context, per thread, in trace time order` },
    threadFlows: [...flows].map(([id, locs]) => ({
      id,
      message: { text: `${threadLabel(locs[0]!.l)} thread` },
      locations: locs.map(({ l, n }) => ({
        location: { physicalLocation: physical(l, cwd), message: { text: l.note ?? l.event } },
        executionOrder: n,
        ...(l.ts !== null ? { executionTimeUtc: new Date(Math.round(l.ts * 1000)).toISOString() } : {}),
        properties: { event: l.event, tid: l.tid, ts: l.ts },
      })),
    })),
  };
}

function result(f: Finding, run: RunResult, ruleIndex: number, cwd: string | undefined) {
  const [first, ...others] = f.locations;
  return {
    ruleId: f.rule,
    ...(ruleIndex >= 0 ? { ruleIndex } : {}),
    level: LEVEL[f.severity],
    message: { text: f.message },
    // GitHub needs a location with a startLine on every result; a finding always has one, but stay valid if not.
    locations: first ? [{ physicalLocation: physical(first, cwd), message: { text: `${who(first)}${first.note ? `: ${first.note}` : ''}` } }] : [],
    relatedLocations: others.map((l, i) => ({ id: i + 1, physicalLocation: physical(l, cwd), message: { text: l.note ?? who(l) } })),
    ...(f.locations.length ? { codeFlows: [codeFlow(f, cwd)] } : {}),
    partialFingerprints: { [FINGERPRINT_VERSION]: f.fingerprint ?? fingerprint(f) },
    ...(f.baseline ? { baselineState: f.baseline === 'known' ? 'unchanged' : 'new' } : {}),
    ...(f.suppressed
      ? { suppressions: [{ kind: 'external', status: 'accepted', justification: f.suppressed.reason, properties: { source: f.suppressed.source, ...(f.suppressed.until ? { until: f.suppressed.until } : {}) } }] }
      : {}),
    properties: {
      run: run.name,
      ...(f.test ? { test: f.test } : {}),
      evidence: f.evidence,
      ...(f.threads ? { threadsBy: f.threads } : {}),
      ...(f.object ? { object: f.object } : {}),
      commits: f.commits,
      ...(f.details ? { details: f.details } : {}),
    },
  };
}

export function renderSarif(report: Report, opts: SarifOptions = {}): string {
  return `${JSON.stringify(sarifDocument(report, opts, false), null, 2)}\n`;
}

/** renderSarif's text in pieces: each result written as it is made, never the whole document as one string. */
export function* renderSarifPieces(report: Report, opts: SarifOptions = {}): Generator<string> {
  yield* jsonPieces(sarifDocument(report, opts, true));
  yield '\n';
}

/** The SARIF log; with `lazy`, its results are an iterable that makes each one when read. */
function sarifDocument(report: Report, opts: SarifOptions, lazy: boolean) {
  const cwd = opts.cwd;
  const ruleIds = RULES.map((r) => r.id);
  const notifications = report.runs.flatMap((run) => [
    ...run.inconclusive.map((i) => ({
      level: 'warning',
      message: { text: `${run.name}: ${i.rule} is inconclusive: ${i.reason}${i.missing?.length ? ` (missing: ${i.missing.join(', ')})` : ''}` },
      descriptor: { id: 'inconclusive' },
      associatedRule: { id: i.rule, ...(ruleIds.includes(i.rule) ? { index: ruleIds.indexOf(i.rule) } : {}) },
      properties: { run: run.name },
    })),
    ...run.dataQuality.notes.map((n) => ({ level: 'note', message: { text: `${run.name}: ${n}` }, descriptor: { id: 'data-quality' }, properties: { run: run.name } })),
  ]);
  const unusable = (report.unusable ?? []).map((u) => ({ level: 'error', message: { text: `${u.run}: not checked: ${u.error}` }, descriptor: { id: 'input-error' }, properties: { run: u.run } }));
  const results = function* () {
    for (const run of report.runs) for (const f of run.findings) yield result(f, run, ruleIds.indexOf(f.rule), cwd);
  };
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: report.tool.name,
            version: report.tool.version,
            semanticVersion: report.tool.version,
            rules: RULES.map((r) => ({
              id: r.id,
              name: pascal(r.id),
              shortDescription: { text: r.title },
              fullDescription: { text: r.explain },
              help: { text: r.explain },
              defaultConfiguration: { level: LEVEL[r.severity] },
              properties: { commits: r.commits, refs: r.refs, evidence: r.evidence },
            })),
            notifications: [
              { id: 'inconclusive', shortDescription: { text: 'A rule could not decide on this trace' } },
              { id: 'data-quality', shortDescription: { text: 'Something about the trace input limits what can be decided' } },
              { id: 'input-error', shortDescription: { text: 'A run of the batch could not be read, so it was not checked' } },
            ],
          },
        },
        invocations: [{ executionSuccessful: unusable.length === 0, toolExecutionNotifications: [...unusable, ...notifications] }],
        columnKind: 'unicodeCodePoints',
        results: lazy ? { [Symbol.iterator]: results } : [...results()],
        properties: {
          runs: report.runs.map((r) => ({ name: r.name, verdict: r.verdict, verdictReasons: r.verdictReasons, inputs: r.inputs.map((i) => repoPath(i.path, cwd)), ...(r.tests ? { tests: r.tests.map((t) => ({ name: t.name, tap: t.tap, verdict: t.verdict })) } : {}) })),
          ...(report.baselineGone ? { baselineGone: report.baselineGone } : {}),
          ...(report.unusable ? { unusable: report.unusable } : {}),
        },
      },
    ],
  };
}
