// The built CLI over every real run in traces/ and every fixture: verdict, exit code and the
// findings each one's expectations name (traces/expected.json, fixtures/*/expected.json).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkJson, cliOnce, ROOT, realRunExpectations, type Expected } from './helpers.js';
import { evidenceText } from '../src/report/evidence.js';


async function check(dir: string, exp: Expected): Promise<void> {
  const r = await checkJson(dir);
  assert.equal(r.stderr, '', `no diagnostics expected on stderr for ${dir}`);
  const report = r.report;
  assert.equal(report.runs.length, 1);
  const run = report.runs[0]!;
  assert.equal(run.verdict, exp.verdict, `${dir}: verdict (${run.verdictReasons.join('; ')})`);
  assert.equal(r.code, exp.exitCode, `${dir}: exit code`);
  assert.deepEqual(
    run.findings.map((f) => f.rule).sort(),
    exp.findings.map((f) => f.rule).sort(),
    `${dir}: findings ${JSON.stringify(run.findings.map((f) => [f.rule, f.evidence]))}`,
  );
  for (const want of exp.findings) {
    if (!want.evidence) continue;
    const f = run.findings.find((x) => x.rule === want.rule)!;
    assert.equal(evidenceText(f.evidence), want.evidence, `${dir}: evidence of ${want.rule}`);
  }
  for (const rule of exp.notApplicable ?? []) {
    assert.ok(run.notApplicable.some((n) => n.rule === rule), `${dir}: ${rule} should say it is not applicable`);
  }
  if (exp.unparsed !== undefined) assert.equal(run.stats.unparsed, exp.unparsed, `${dir}: unparsed lines`);
  // Line accounting: every line is an event, a message, unparsed or blank.
  for (const c of run.dataQuality.perInput) assert.equal(c.events + c.messages + c.unparsed + c.blank, c.lines, `${c.path}: line accounting`);
  // Every finding names the rule, the commits, and both sides with file:line.
  for (const f of run.findings) {
    // Every finding names the commits it guards, except the generic hang detector (no single fix).
    assert.ok(f.commits.length > 0 || f.rule === 'migration-stuck', `${f.rule}: commits`);
    if (f.severity !== 'info') assert.ok(f.locations.length >= 2, `${f.rule}: both accesses`);
    for (const l of f.locations) assert.ok(existsSync(join(ROOT, l.file)) && l.line > 0, `${l.file}:${l.line}`);
  }
}

describe('real traces (meta.json expect, traces/expected.json)', () => {
  const expected = realRunExpectations();
  for (const v of readdirSync(join(ROOT, 'traces'), { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const r of readdirSync(join(ROOT, 'traces', v.name))) {
      if (!existsSync(join(ROOT, 'traces', v.name, r, 'src.log'))) continue;
      const run = `${v.name}/${r}`;
      it(`${run} has an expectation`, () => assert.ok(expected[run], `add "expect" to ${run}/meta.json or traces/expected.json`));
    }
  }
  for (const [run, exp] of Object.entries(expected)) {
    it(`${run}: ${exp.verdict}`, () => check(join('traces', run), exp));
  }
});

describe('mutated fixtures (fixtures/*/expected.json)', () => {
  for (const name of readdirSync(join(ROOT, 'fixtures')).sort()) {
    const file = join(ROOT, 'fixtures', name, 'expected.json');
    if (!existsSync(file)) continue;
    const exp = JSON.parse(readFileSync(file, 'utf8')) as Expected;
    it(`${name}: ${exp.verdict}`, () => check(join('fixtures', name), exp));
  }
});

describe('the racy real run, read as a person would', () => {
  it('names both accesses with file:line, TIDs, roles, the rule and the commit', async () => {
    const r = await cliOnce(['check', 'traces/10.0.13/c-postcopy-preempt-pre72-2', '--no-color']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /ERROR qemufile-concurrent-access \[interleaved\] on postcopy_qemufile_src/);
    assert.match(r.stdout, /src\.log:4318 +TID 22587 src:migration .*migration_completion_postcopy_end_after_complete/);
    assert.match(r.stdout, /src\.log:4315 +TID 22585 src:rp .*postcopy_preempt_send_host_page/);
    assert.match(r.stdout, /422 urgent-page writes by the owner inside the window/);
    assert.match(r.stdout, /6621883f93/);
    assert.match(r.stdout, /x-preempt-pre-7-2 compat yes/);
  });
  it('decides a trace without thread ids from event names, and says so', async () => {
    const r = await cliOnce(['check', 'fixtures/no-tids']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /qemufile-concurrent-access \[interleaved\]/);
    assert.match(r.stdout, /threads told apart by event names \(no thread ids\)/);
    assert.match(r.stdout, /src:migration \(no TID\)/);
    assert.doesNotMatch(r.stdout, /TID \?/);
  });
});
