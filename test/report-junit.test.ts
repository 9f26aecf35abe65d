// JUnit XML: well-formed (parsed back with fast-xml-parser), shaped as GitLab and Jenkins read it
// (classname+name unique, counts right), failing cases carry both accesses with file:line, and
// anything a trace line may hold is escaped, including characters XML 1.0 forbids.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { renderGithub } from '../src/report/github.js';
import { renderJunit } from '../src/report/junit.js';
import type { Report } from '../src/types.js';
import { cli, finding, FIXTURE_RUNS, loc, RACY_RUNS, report, run } from './helpers.js';

interface Case {
  '@_classname': string;
  '@_name': string;
  failure?: { '#text': string; '@_message': string; '@_type': string };
  skipped?: { '@_message': string };
  'system-out'?: string;
}
interface Suite {
  '@_name': string;
  '@_tests': string;
  '@_failures': string;
  '@_skipped': string;
  testcase: Case[];
}
interface Doc {
  testsuites: { '@_tests': string; '@_failures': string; testsuite: Suite[] };
}

function parse(xml: string): Doc {
  const valid = XMLValidator.validate(xml);
  assert.equal(valid, true, `not well-formed XML: ${JSON.stringify(valid)}`);
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    parseAttributeValue: false,
    parseTagValue: false,
    trimValues: false,
    alwaysCreateTextNode: false,
    isArray: (name) => name === 'testsuite' || name === 'testcase',
  });
  return parser.parse(xml) as Doc;
}

const targets = [...FIXTURE_RUNS(), ...RACY_RUNS, 'traces/7.2.22/d-preempt-pause-recover-1', 'traces/10.0.13/a-precopy-1'];
const docs = new Map<string, Doc>();
const reports = new Map<string, Report>();

before(async () => {
  const rs = await Promise.all(targets.map(async (t) => [await cli(['check', t, '-f', 'junit', '-q']), await cli(['check', t, '-f', 'json', '-q'])] as const));
  targets.forEach((t, i) => {
    docs.set(t, parse(rs[i]![0].stdout));
    reports.set(t, JSON.parse(rs[i]![1].stdout) as Report);
  });
});

const FILE_LINE = /\S+\.log:\d+/g;

describe('JUnit of every fixture (and the racy real runs)', () => {
  for (const t of targets) {
    it(`${t}: one suite named after the run, unique classname+name, counts add up`, () => {
      const d = docs.get(t)!;
      assert.equal(d.testsuites.testsuite.length, 1);
      const s = d.testsuites.testsuite[0]!;
      assert.equal(s['@_name'], t);
      const keys = s.testcase.map((c) => `${c['@_classname']}\u0000${c['@_name']}`);
      assert.equal(new Set(keys).size, keys.length, 'classname+name unique');
      for (const c of s.testcase) assert.equal(c['@_classname'], t);
      assert.equal(Number(s['@_tests']), s.testcase.length);
      assert.equal(Number(s['@_failures']), s.testcase.filter((c) => c.failure).length);
      assert.equal(Number(s['@_skipped']), s.testcase.filter((c) => c.skipped).length);
      assert.equal(Number(d.testsuites['@_failures']), Number(s['@_failures']));
    });
    it(`${t}: every failing case carries both accesses (file:line, TID, role, event, time)`, () => {
      for (const c of docs.get(t)!.testsuites.testsuite[0]!.testcase.filter((x) => x.failure)) {
        const body = c.failure!['#text'];
        assert.equal(c.failure!['@_type'], c['@_name']);
        assert.ok(c.failure!['@_message'].length > 0);
        // A thread is its TID and role, or its role alone in a trace without thread ids.
        const thread = String.raw`(?:TID \d+ +(?:src|dst):[a-z-]+|(?:src|dst):[a-z-]+ \(no TID\))`;
        // Headed as the rule declares them: Access / Conflicts with, or e.g. Quit requested / Preempt thread.
        const located = [...body.matchAll(new RegExp(String.raw`^  ([A-Z][a-z]+(?: [a-z]+)*): +(\S+\.log:\d+) +${thread} +\w+ +@(?:\d+\.\d{6}|-)`, 'gm'))];
        assert.ok(located.length >= 2 && located[0]![1] !== 'Context' && located[1]![1] !== 'Context', `${t} ${c['@_name']}: both accesses in\n${body}`);
        assert.ok((body.match(FILE_LINE) ?? []).length >= 2);
      }
    });
  }

  for (const t of targets) {
    it(`${t}: a case per rule; exactly the rules with error/warning findings fail, the undecided ones skip`, () => {
      const rep = reports.get(t)!.runs[0]!;
      const cases = docs.get(t)!.testsuites.testsuite[0]!.testcase;
      const name = (c: Case) => c['@_name'];
      assert.deepEqual(cases.map(name).sort(), [...new Set([...rep.rulesChecked, ...rep.findings.map((f) => f.rule)])].sort(), 'passing rules are cases too');
      const failing = new Set(rep.findings.filter((f) => f.severity !== 'info').map((f) => f.rule));
      assert.deepEqual(cases.filter((c) => c.failure).map(name).sort(), [...failing].sort());
      for (const c of cases.filter((x) => !x.failure)) {
        const fs = rep.findings.filter((f) => f.rule === name(c));
        const inc = rep.inconclusive.find((i) => i.rule === name(c));
        const na = rep.notApplicable.find((n) => n.rule === name(c));
        if (fs.length) assert.match(c['system-out'] ?? '', /Access: +\S+\.log:\d+/, `info finding of ${name(c)} in system-out`);
        else if (inc) assert.ok(c.skipped?.['@_message'].startsWith(`inconclusive: ${inc.reason}`), name(c));
        else if (na) assert.equal(c.skipped?.['@_message'], `not applicable: ${na.reason}`);
        else assert.equal(c.skipped, undefined);
      }
    });
  }
  it('the sample covers failing, inconclusive, not-applicable and info cases', () => {
    const all = [...docs.values()].flatMap((d) => d.testsuites.testsuite[0]!.testcase);
    assert.ok(all.some((c) => c.failure));
    assert.ok(all.some((c) => c.skipped?.['@_message'].startsWith('inconclusive: ')));
    assert.ok(all.some((c) => c.skipped?.['@_message'].startsWith('not applicable: ')));
    assert.ok(all.some((c) => !c.failure && c['system-out']));
  });
});

describe('JUnit escaping and acceptance', () => {
  const nasty = 'a<b>&"quote"\'apos\' ]]> \u0000nul \u001b[31mred\u001b[0m \ufffe \ud800 lone, 😀 ok\ttab\r\nnext';
  const xml = renderJunit(
    report([run(`run "<&>" ${nasty}`, [finding({ message: nasty, locations: [loc({ text: nasty, note: nasty }), loc({ line: 3, role: 'rp', event: 'ev_b' })] })])]),
  );
  const d = parse(xml);
  const c = d.testsuites.testsuite[0]!.testcase[0]!;
  it('stays well-formed XML 1.0 with markup, quotes, control characters and lone surrogates', () => {
    assert.doesNotMatch(xml, /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
    assert.ok(c.failure);
  });
  it('keeps the text readable: control characters shown as \\xNN, markup and emoji round-trip', () => {
    const body = c.failure!['#text'];
    assert.match(body, /a<b>&"quote"'apos' \]\]> \\x00nul \\x1b\[31mred/);
    assert.match(body, /😀 ok/);
    assert.match(body, /\\ud800 lone/);
    assert.match(c.failure!['@_message'], /^a<b>&"quote"/);
    assert.equal(c['@_classname'], d.testsuites.testsuite[0]!['@_name']);
  });
  it('accepted findings (baseline or suppressed) pass, with the reason in system-out', () => {
    const x = parse(
      renderJunit(report([run('r', [finding({ baseline: 'known' }), finding({ rule: 'preempt-quit-stuck', suppressed: { reason: 'tracked in #12', source: 's.txt:3' } })])])),
    );
    const cases = x.testsuites.testsuite[0]!.testcase;
    assert.equal(cases.filter((k) => k.failure).length, 0);
    assert.match(cases.find((k) => k['@_name'] === 'qemufile-concurrent-access')!['system-out']!, /accepted: in the baseline/);
    assert.match(cases.find((k) => k['@_name'] === 'preempt-quit-stuck')!['system-out']!, /suppressed by s\.txt:3: tracked in #12/);
  });
  it('several findings of one rule make one failing case (names stay unique)', () => {
    const x = parse(renderJunit(report([run('r', [finding(), finding({ locations: [loc({ line: 99 }), loc({ line: 98, role: 'rp' })] })])])));
    const cases = x.testsuites.testsuite[0]!.testcase.filter((k) => k['@_name'] === 'qemufile-concurrent-access');
    assert.equal(cases.length, 1);
    assert.match(cases[0]!.failure!['@_message'], /^2 findings: /);
    assert.match(cases[0]!.failure!['#text'], /src\.log:99/);
  });
});

describe('a binary (simple) trace names records, not lines, in every report', () => {
  const simple = run('r', [finding({ locations: [loc({ file: 'r/src.simple', line: 42 }), loc({ file: 'r/src.simple', line: 40, role: 'rp' })] })], {
    inputs: [{ path: 'r/src.simple', side: 'src', sideEvidence: 'forced', format: 'simple' }],
  });
  it('JUnit says `file record N`', () => {
    const body = parse(renderJunit(report([simple]))).testsuites.testsuite[0]!.testcase.find((k) => k.failure)!.failure!['#text'];
    assert.match(body, /r\/src\.simple record 42/);
    assert.doesNotMatch(body, /src\.simple:\d/);
  });
  it('GitHub annotations say `file record N` in the message', () => {
    const out = renderGithub(report([simple]));
    assert.match(out, /src\.simple record 42/);
    assert.doesNotMatch(out, /src\.simple:4\d/);
  });
});
