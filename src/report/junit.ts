// --format junit: JUnit XML as GitLab and Jenkins read it. One <testsuite> per
// run and one <testcase classname="<run>" name="<rule>"> per rule, so a clean run lists what was
// checked and classname+name is unique (GitLab keeps only the first of duplicates). A case fails
// on an error or warning finding nobody accepted; info and accepted findings pass with the
// evidence in <system-out>; inconclusive and not-applicable rules are <skipped>. A test suite's log
// (qtest) has one case per test it ran instead.
import { threadLabel } from './thread-label.js';
import { binaryInputs, placeOf } from './place.js';
import { RULES } from '../rules/index.js';
import { evidenceText, headings } from './evidence.js';
import type { Finding, Location, Report, RunResult, UnusableRun } from '../types.js';
import { fingerprint } from './fingerprint.js';
import { isAccepted, repoPath } from './sarif.js';

export interface JunitOptions {
  cwd?: string;
}

// XML 1.0 forbids these code points even as character references; show them instead of dropping
// them (a NUL in a trace line is evidence too). Lone surrogates cannot be encoded either.
const FORBIDDEN = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function visible(s: string): string {
  return s.replace(FORBIDDEN, (c) => {
    const n = c.charCodeAt(0);
    return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
  });
}

export function escapeText(s: string): string {
  return visible(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Attribute values: also quotes, and whitespace as references so attribute normalisation keeps it. */
export function escapeAttr(s: string): string {
  return escapeText(s).replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}

function attrs(a: Record<string, string | number>): string {
  return Object.entries(a)
    .map(([k, v]) => ` ${k}="${escapeAttr(String(v))}"`)
    .join('');
}

function ts(t: number | null): string {
  return t === null ? '-' : t.toFixed(6);
}

function access(label: string, l: Location, cwd: string | undefined, binary: ReadonlySet<string>): string[] {
  const out = [`  ${label.padEnd(15)} ${placeOf(l, binary, repoPath(l.file, cwd))}  ${threadLabel(l)}  ${l.event}  @${ts(l.ts)}`];
  if (l.note) out.push(`  ${''.padEnd(15)} ${l.note}`);
  if (l.text) out.push(`  ${''.padEnd(15)} | ${l.text}`);
  return out;
}

/** Both accesses (file:line, TID, role, event, time), then the context, then how to follow up. */
/** `binary`: the run's binary inputs (binaryInputs), whose locations are records, not lines. */
export function findingBody(f: Finding, cwd: string | undefined, binary: ReadonlySet<string> = new Set()): string {
  const [first, second, ...rest] = f.locations;
  const out = [`[${f.severity}] ${f.rule} [${evidenceText(f.evidence)}]${f.object ? ` on ${f.object}` : ''}`, f.message];
  const head = headings(f);
  if (first) out.push(...access(`${head.first}:`, first, cwd, binary));
  if (second) out.push(...access(`${head.second}:`, second, cwd, binary));
  for (const l of rest) out.push(...access('Context:', l, cwd, binary));
  if (f.baseline === 'known') out.push('  accepted: in the baseline');
  if (f.suppressed) out.push(`  accepted: suppressed by ${f.suppressed.source}${f.suppressed.until ? ` until ${f.suppressed.until}` : ''}: ${f.suppressed.reason}`);
  out.push(`  fingerprint: ${f.fingerprint ?? fingerprint(f)}`);
  out.push(`  ${f.commits.length ? `guards QEMU ${f.commits.join(', ')} · ` : ''}more: migtrace explain ${f.rule}`);
  return out.join('\n');
}

function firstSentence(s: string, max = 200): string {
  const one = s.split(/(?<=\.)\s/)[0] ?? s;
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/** Rule ids of a run, registry order first, so cases appear in the same order in every run. */
function ruleIds(r: RunResult): string[] {
  const named = new Set([...r.rulesChecked, ...r.findings.map((f) => f.rule), ...r.inconclusive.map((i) => i.rule), ...r.notApplicable.map((n) => n.rule)]);
  const ordered = RULES.map((x) => x.id).filter((id) => named.has(id));
  return [...ordered, ...[...named].filter((id) => !ordered.includes(id)).sort()];
}

interface Case {
  xml: string;
  failed: boolean;
  skipped: boolean;
}

function testCase(r: RunResult, id: string, cwd: string | undefined): Case {
  const fs = r.findings.filter((f) => f.rule === id);
  const failing = fs.filter((f) => f.severity !== 'info' && !isAccepted(f));
  const passing = fs.filter((f) => !failing.includes(f));
  const head = `    <testcase${attrs({ classname: r.name, name: id, time: 0 })}`;
  const out = passing.length ? `      <system-out>${escapeText(passing.map((f) => findingBody(f, cwd, binaryInputs(r))).join('\n\n'))}</system-out>\n` : '';
  if (failing.length) {
    const message = failing.length === 1 ? firstSentence(failing[0]!.message) : `${failing.length} findings: ${firstSentence(failing[0]!.message)}`;
    const body = failing.map((f) => findingBody(f, cwd, binaryInputs(r))).join('\n\n');
    return { xml: `${head}>\n      <failure${attrs({ message, type: id })}>${escapeText(body)}</failure>\n${out}    </testcase>`, failed: true, skipped: false };
  }
  const inc = r.inconclusive.find((i) => i.rule === id);
  const na = r.notApplicable.find((n) => n.rule === id);
  if (!fs.length && (inc || na)) {
    const message = inc ? `inconclusive: ${inc.reason}${inc.missing?.length ? ` (missing: ${inc.missing.join(', ')})` : ''}` : `not applicable: ${na!.reason}`;
    return { xml: `${head}>\n      <skipped${attrs({ message })}/>\n    </testcase>`, failed: false, skipped: true };
  }
  return { xml: out ? `${head}>\n${out}    </testcase>` : `${head}/>`, failed: false, skipped: false };
}

/**
 * A test suite's log: one case per test it ran (classname the run, name the test path), failed by
 * its findings, skipped when it could not be decided or its migration is not in the log.
 */
function suiteTestCases(r: RunResult, cwd: string | undefined): Case[] {
  return (r.tests ?? []).map((t) => {
    const fs = r.findings.filter((f) => f.test === t.name);
    const failing = fs.filter((f) => f.severity !== 'info' && !isAccepted(f));
    const passing = fs.filter((f) => !failing.includes(f));
    const head = `    <testcase${attrs({ classname: r.name, name: t.name, time: 0 })}`;
    const out = passing.length ? `      <system-out>${escapeText(passing.map((f) => findingBody(f, cwd, binaryInputs(r))).join('\n\n'))}</system-out>\n` : '';
    if (failing.length) {
      const message = `${t.tap ?? 'no TAP result'}: ${failing.map((f) => `${f.rule} [${evidenceText(f.evidence)}]`).join(', ')}`;
      return { xml: `${head}>\n      <failure${attrs({ message, type: failing[0]!.rule })}>${escapeText(failing.map((f) => findingBody(f, cwd, binaryInputs(r))).join('\n\n'))}</failure>\n${out}    </testcase>`, failed: true, skipped: false };
    }
    if (t.verdict !== 'clean') {
      const message = t.verdict === null ? `not in the log: ${t.notes[t.notes.length - 1] ?? ''}` : `inconclusive: ${t.verdictReasons.join('; ')}`;
      return { xml: `${head}>\n      <skipped${attrs({ message })}/>\n${out}    </testcase>`, failed: false, skipped: true };
    }
    return { xml: out ? `${head}>\n${out}    </testcase>` : `${head}/>`, failed: false, skipped: false };
  });
}

function suite(r: RunResult, cwd: string | undefined): { xml: string; tests: number; failures: number; skipped: number } {
  const cases = r.tests ? suiteTestCases(r, cwd) : ruleIds(r).map((id) => testCase(r, id, cwd));
  const failures = cases.filter((c) => c.failed).length;
  const skipped = cases.filter((c) => c.skipped).length;
  const props = [
    ['verdict', r.verdict],
    ...r.inputs.map((i) => [`input.${i.side ?? 'unknown'}`, repoPath(i.path, cwd)]),
    ['qemu.src', r.qemu.src.range],
    ['qemu.dst', r.qemu.dst.range],
  ];
  const notes = [...r.verdictReasons.map((v) => `inconclusive because ${v}`), ...r.dataQuality.notes];
  const xml = [
    `  <testsuite${attrs({ name: r.name, tests: cases.length, failures, errors: 0, skipped, time: 0 })}>`,
    '    <properties>',
    ...props.map(([name, value]) => `      <property${attrs({ name: name!, value: value! })}/>`),
    '    </properties>',
    ...cases.map((c) => c.xml),
    ...(notes.length ? [`    <system-out>${escapeText(notes.join('\n'))}</system-out>`] : []),
    '  </testsuite>',
  ].join('\n');
  return { xml, tests: cases.length, failures, skipped };
}

/** A run that could not be read: one test case in error (JUnit's word for "could not run"). */
function unusableSuite(u: UnusableRun): string {
  return [
    `  <testsuite${attrs({ name: u.run, tests: 1, failures: 0, errors: 1, skipped: 0, time: 0 })}>`,
    `    <testcase${attrs({ name: 'read the trace', classname: `migtrace.${u.run}`, time: 0 })}>`,
    `      <error${attrs({ message: u.error, type: 'input-error' })}>${escapeText(u.error)}</error>`,
    '    </testcase>',
    '  </testsuite>',
  ].join('\n');
}

export function renderJunit(report: Report, opts: JunitOptions = {}): string {
  const suites = report.runs.map((r) => suite(r, opts.cwd));
  const unusable = report.unusable ?? [];
  const sum = (k: 'tests' | 'failures' | 'skipped') => suites.reduce((n, s) => n + s[k], 0);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs({ name: report.tool.name, tests: sum('tests') + unusable.length, failures: sum('failures'), errors: unusable.length, skipped: sum('skipped'), time: 0 })}>`,
    ...suites.map((s) => s.xml),
    ...unusable.map(unusableSuite),
    '</testsuites>',
    '',
  ].join('\n');
}
