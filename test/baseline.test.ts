// Baselines and suppressions: a baseline written from one run of a scenario accepts the same
// finding in another run of it (other TIDs, times, lines), a finding it does not hold still fails;
// suppressions accept findings until they expire. Exit codes come from cli/exit-codes.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { applyBaseline, baselineEntries, parseBaseline, serializeBaseline } from '../src/baseline/baseline.js';
import { applySuppressions, globToRegExp, parseSuppressions } from '../src/baseline/suppressions.js';
import { EXIT, exitCodeFor } from '../src/cli/exit-codes.js';
import { RULES } from '../src/rules/index.js';
import type { Report } from '../src/types.js';
import { cli, finding, RACY_RUNS, report, run } from './helpers.js';

const [PRE72_1, PRE72_2] = RACY_RUNS as [string, string];
const MISREAD = 'fixtures/misread-quit';
const RACE = 'qemufile-concurrent-access';
const tmp = () => mkdtempSync(join(tmpdir(), 'migtrace-baseline-'));
const RULE_IDS = RULES.map((r) => r.id);

describe('baseline on the real racy runs', () => {
  it('written from pre72-1, it accepts the same race in pre72-2 (other TIDs and times); a new finding still fails', async () => {
    const dir = tmp();
    const file = join(dir, 'baseline.json');
    const w = await cli(['check', PRE72_1, '-q', '-f', 'json', '--write-baseline', file]);
    assert.equal(w.code, EXIT.clean, `writing a baseline accepts what it records: ${w.stderr}`);
    const written = (JSON.parse(w.stdout) as Report).runs[0]!.findings;
    const race1 = written.find((f) => f.rule === RACE)!;
    assert.ok(race1, 'pre72-1 has the EOS race');
    const n = new Set(written.map((f) => f.fingerprint)).size;
    assert.match(w.stderr, new RegExp(`wrote baseline .*: ${n} entr`));

    const lines = readFileSync(file, 'utf8').split('\n');
    assert.equal(lines[0], '{"format":"migtrace-baseline","version":2,"entries":[');
    assert.equal(lines.length, n + 3, 'header, one line per entry, footer, final newline');
    const entry = lines.slice(1, -2).map((l) => JSON.parse(l.replace(/,$/, '')) as { key: string; rule: string; summary: string }).find((e) => e.rule === RACE)!;
    assert.equal(entry.key, race1.fingerprint);
    assert.match(entry.summary, /migration thread .* vs src rp thread/);

    const same = await cli(['check', PRE72_2, '-q', '-f', 'json', '--baseline', file]);
    const rep = JSON.parse(same.stdout) as Report;
    const race2 = rep.runs[0]!.findings.find((f) => f.rule === RACE)!;
    assert.equal(race2.baseline, 'known');
    assert.equal(race2.fingerprint, entry.key);
    assert.notEqual(race2.details?.writerTid, race1.details?.writerTid, 'different TIDs');
    assert.notEqual(race2.locations[0]!.ts, race1.locations[0]!.ts, 'different times');
    for (const f of rep.runs[0]!.findings) assert.equal(f.baseline, 'known', `${f.rule} of pre72-2 is in the pre72-1 baseline`);
    assert.equal(same.code, EXIT.clean, same.stderr);
    assert.deepEqual(rep.baselineGone, []);

    const both = await cli(['check', PRE72_2, MISREAD, '-q', '-f', 'json', '--baseline', file]);
    assert.equal(both.code, EXIT.findings);
    const r2 = JSON.parse(both.stdout) as Report;
    const misread = r2.runs.find((r) => r.name === MISREAD)!.findings;
    assert.ok(misread.some((f) => f.rule === 'preempt-quit-as-network-failure' && f.baseline === 'new'));
    assert.ok(r2.runs.find((r) => r.name === PRE72_2)!.findings.every((f) => f.baseline === 'known'));
    assert.match(both.stderr, new RegExp(`${misread.length} new findings?, ${rep.runs[0]!.findings.length} known`));
  });

  it('entries no finding matched are listed on stderr and in the JSON as baselineGone', async () => {
    const dir = tmp();
    const file = join(dir, 'b.json');
    await cli(['check', PRE72_1, '-q', '-f', 'json', '--write-baseline', file]);
    const entries = parseBaseline(readFileSync(file, 'utf8'), 'b.json');
    const r = await cli(['check', MISREAD, '-q', '-f', 'json', '--baseline', file]);
    assert.equal(r.code, EXIT.findings);
    const rep = JSON.parse(r.stdout) as Report;
    const seen = new Set(rep.runs[0]!.findings.map((f) => f.fingerprint));
    assert.deepEqual(rep.baselineGone, entries.filter((e) => !seen.has(e.key)));
    assert.ok(rep.baselineGone!.some((e) => e.rule === RACE));
    assert.match(r.stderr, new RegExp(`${rep.baselineGone!.length} entr(y|ies) no longer seen`));
  });

  it('is deterministic: the same findings write the same bytes', async () => {
    const dir = tmp();
    // -j 1: that a batch on worker threads reports what one thread does is tested in cli.test.ts.
    // Runs with findings of every rule kind, in two orders (the whole corpus twice took 21 s of npm test).
    await cli(['check', 'traces/10.0.13', 'traces/qtest/10.0.13-postcopy-compat', 'fixtures', '-q', '-f', 'json', '-j', '1', '--write-baseline', join(dir, 'a.json')]);
    await cli(['check', 'fixtures', 'traces/qtest/10.0.13-postcopy-compat', 'traces/10.0.13', '-q', '-f', 'json', '-j', '1', '--write-baseline', join(dir, 'b.json')]);
    const a = readFileSync(join(dir, 'a.json'), 'utf8');
    assert.equal(a, readFileSync(join(dir, 'b.json'), 'utf8'));
    const keys = parseBaseline(a, 'a.json').map((e) => e.key);
    assert.deepEqual(keys, [...keys].sort());
    assert.equal(new Set(keys).size, keys.length);
    assert.doesNotMatch(a, /TID|\d{4,}/, 'no TIDs, timestamps or line numbers');
  });

  it('a bad baseline file is a usage error (exit 2) naming the file', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'x.json'), '{"entries":[]}');
    const r = await cli(['check', PRE72_2, '-q', '--baseline', join(dir, 'x.json')]);
    assert.equal(r.code, EXIT.error);
    assert.match(r.stderr, /x\.json: not a migtrace baseline/);
    const missing = await cli(['check', PRE72_2, '-q', '--baseline', join(dir, 'nope.json')]);
    assert.equal(missing.code, EXIT.error);
    assert.match(missing.stderr, /--baseline .*nope\.json: cannot read: ENOENT/);
  });
});

describe('suppressions', () => {
  const KEY = 'qemufile-concurrent-access|postcopy_qemufile_src|*';
  it('an active suppression accepts the finding: kept in the report with its reason, exit 0', async () => {
    const dir = tmp();
    const file = join(dir, 'suppressions.txt');
    writeFileSync(file, `# accepted races\n\nqemufile-concurrent-access  ${KEY}  until=2999-12-31  x-preempt-pre-7-2 keeps this race by design\n`);
    writeFileSync(file, readFileSync(file, 'utf8') + '* *  everything else: accepted for this test\n');
    const r = await cli(['check', PRE72_2, '-q', '-f', 'json', '--suppressions', file]);
    assert.equal(r.code, EXIT.clean, r.stderr);
    const fs = (JSON.parse(r.stdout) as Report).runs[0]!.findings;
    assert.deepEqual(fs.find((f) => f.rule === RACE)!.suppressed, { reason: 'x-preempt-pre-7-2 keeps this race by design', source: `${file}:3`, until: '2999-12-31' });
    for (const f of fs.filter((x) => x.rule !== RACE)) assert.equal(f.suppressed?.source, `${file}:4`, 'first matching entry wins');
  });

  it('an expired one warns on stderr and no longer suppresses', async () => {
    const dir = tmp();
    const file = join(dir, 's.json');
    writeFileSync(file, JSON.stringify({ version: 1, suppressions: [{ rule: 'qemufile-concurrent-access', key: '*', reason: 'until the fix lands', until: '2000-01-31' }] }));
    const r = await cli(['check', PRE72_2, '-q', '-f', 'json', '--suppressions', file]);
    assert.equal(r.code, EXIT.findings);
    assert.match(r.stderr, /warning: .*s\.json:#1: suppression of qemufile-concurrent-access \* expired on 2000-01-31; it no longer applies \(1 finding it matched now counts\)/);
    assert.equal((JSON.parse(r.stdout) as Report).runs[0]!.findings.find((f) => f.rule === RACE)!.suppressed, undefined);
  });

  it('suppressed findings stay out of a written baseline (so they surface when the suppression ends)', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 's.txt'), `* * accepted for the test\n`);
    await cli(['check', PRE72_2, '-q', '--suppressions', join(dir, 's.txt'), '--write-baseline', join(dir, 'b.json')]);
    assert.deepEqual(parseBaseline(readFileSync(join(dir, 'b.json'), 'utf8'), 'b.json'), []);
  });

  it('bad entries are usage errors with file:line', async () => {
    const dir = tmp();
    const cases: Array<[string, RegExp]> = [
      ['qemufile-concurrent-access *\n', /s\.txt:1: missing reason/],
      ['# c\nno-such-rule * because\n', /s\.txt:2: no rule 'no-such-rule'/],
      ['qemufile-concurrent-access * until=2026-02-30 why\n', /s\.txt:1: until=2026-02-30 is not a date/],
      ['lonely\n', /s\.txt:1: expected '<rule> <key-glob> \[until=YYYY-MM-DD\] <reason>'/],
    ];
    for (const [text, re] of cases) {
      writeFileSync(join(dir, 's.txt'), text);
      const r = await cli(['check', PRE72_2, '-q', '--suppressions', join(dir, 's.txt')]);
      assert.equal(r.code, EXIT.error, text);
      assert.match(r.stderr, re);
    }
  });
});

describe('baseline and suppression units', () => {
  it('globs: * any run, ? one character, everything else literal', () => {
    assert.ok(globToRegExp('a|b*').test('a|bcd'));
    assert.ok(globToRegExp('a?c').test('abc'));
    assert.ok(!globToRegExp('a.c').test('abc'));
    assert.ok(!globToRegExp('a*').test('ba'));
  });
  it('the suppression line format and JSON (object or bare array) parse to the same entries', () => {
    const line = parseSuppressions('preempt-quit-stuck  k*  until=2030-01-01  a reason with  spaces\n', 's', RULE_IDS);
    const json = parseSuppressions('[{"rule":"preempt-quit-stuck","key":"k*","until":"2030-01-01","reason":"a reason with  spaces"}]', 's', RULE_IDS);
    assert.deepEqual(line.map(({ source, ...x }) => x), json.map(({ source, ...x }) => x));
  });
  it('until is inclusive: a suppression applies through its last day', () => {
    const rep = report([run('r', [finding()])]);
    const list = parseSuppressions('* * until=2026-03-01 ok\n', 's', RULE_IDS);
    assert.equal(applySuppressions(rep, list, '2026-03-01').expired.length, 0);
    assert.ok(rep.runs[0]!.findings[0]!.suppressed);
    assert.equal(applySuppressions(report([run('r', [finding()])]), list, '2026-03-02').expired.length, 1);
  });
  it('exit code: known and suppressed findings never fail; new ones do; inconclusive stays 3', () => {
    assert.equal(exitCodeFor([run('r', [finding({ baseline: 'known' })])]), EXIT.clean);
    assert.equal(exitCodeFor([run('r', [finding({ suppressed: { reason: 'r', source: 's:1' } })])]), EXIT.clean);
    assert.equal(exitCodeFor([run('r', [finding({ baseline: 'known' }), finding({ baseline: 'new' })])]), EXIT.findings);
    assert.equal(exitCodeFor([run('r', [finding({ baseline: 'known' })], { verdict: 'inconclusive' })]), EXIT.inconclusive);
  });
  it('exit code: a rule that could not decide is never hidden by accepted findings or --fail-on never', () => {
    const undecided = { verdict: 'findings' as const, inconclusive: [{ rule: 'preempt-quit-stuck', reason: 'no destination trace' }] };
    assert.equal(exitCodeFor([run('r', [finding({ baseline: 'known' })], undecided)]), EXIT.inconclusive);
    assert.equal(exitCodeFor([run('r', [finding()], undecided)], 'never'), EXIT.inconclusive);
    assert.equal(exitCodeFor([run('r', [finding()], undecided)]), EXIT.findings, 'findings that count still decide');
  });
  it('a race accepted in compat mode does not accept the same race in default mode (the mode is in the key)', () => {
    const entries = baselineEntries(report([run('r', [finding({ mode: 'compat' })])]));
    const rep = report([run('r', [finding({ mode: 'default' })])]);
    applyBaseline(rep, entries);
    assert.equal(rep.runs[0]!.findings[0]!.baseline, 'new');
    assert.equal(exitCodeFor(rep.runs), EXIT.findings);
    assert.match(entries[0]!.key, /\|compat\|/);
  });
  it('serialize → parse round-trips, and applyBaseline reports what is gone', () => {
    const rep = report([run('r', [finding(), finding({ rule: 'preempt-quit-stuck' })])]);
    const entries = baselineEntries(rep);
    assert.deepEqual(parseBaseline(serializeBaseline(entries), 'b'), entries);
    const other = report([run('r', [finding()])]);
    const gone = applyBaseline(other, entries);
    assert.deepEqual(gone.map((g) => g.rule), ['preempt-quit-stuck']);
    assert.equal(other.runs[0]!.findings[0]!.baseline, 'known');
    assert.equal(serializeBaseline([]), '{"format":"migtrace-baseline","version":2,"entries":[\n]}\n');
  });
});
