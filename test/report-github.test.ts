// GitHub Actions: workflow-command escaping as actions/toolkit does it, the per-level annotation
// cap (10, the 10th counting the rest), and the step summary appended to $GITHUB_STEP_SUMMARY.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { escapeData, escapeProperty, renderGithub } from '../src/report/github.js';
import { renderMarkdownSummary } from '../src/report/markdown.js';
import { cli, finding, loc, RACY_RUNS, report, run } from './helpers.js';

describe('workflow command escaping', () => {
  it('data: % CR LF', () => assert.equal(escapeData('100% a\r\nb:c,d'), '100%25 a%0D%0Ab:c,d'));
  it('properties: also : and ,', () => assert.equal(escapeProperty('a:b,c%\n'), 'a%3Ab%2Cc%25%0A'));
  it('a finding becomes one ::error on its first access, with both accesses in the message', () => {
    const out = renderGithub(report([run('r,1', [finding({ locations: [loc({ file: 'runs/a,b:c/src.log', line: 0 }), loc({ line: 7, tid: 101, role: 'rp', event: 'ev_b' })] })])]));
    const lines = out.trimEnd().split('\n');
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^::error file=runs\/a%2Cb%3Ac\/src\.log,line=1,title=migtrace qemufile-concurrent-access \(r%2C1\)::/);
    const message = lines[0]!.split('::')[2]!;
    assert.doesNotMatch(message, /[\r\n]/);
    assert.match(message, /Access: +runs\/a,b:c\/src\.log:0 .*%0A.*Conflicts with: +traces\/x\/src\.log:7 +TID 101/);
  });
  it('warning → ::warning, info → ::notice; accepted findings are not annotated', () => {
    const out = renderGithub(
      report([run('r', [finding({ severity: 'warning' }), finding({ severity: 'info' }), finding({ baseline: 'known' }), finding({ suppressed: { reason: 'x', source: 's:1' } })])]),
    );
    assert.deepEqual(out.trimEnd().split('\n').map((l) => l.split(' ')[0]), ['::warning', '::notice']);
  });
  it('inconclusive rules are warnings naming the reason', () => {
    const out = renderGithub(report([run('r', [], { verdict: 'inconclusive', inconclusive: [{ rule: 'preempt-quit-stuck', reason: 'no thread ids' }] })]));
    assert.match(out, /^::warning title=migtrace preempt-quit-stuck inconclusive \(r\)::r: preempt-quit-stuck could not decide: no thread ids\n$/);
  });
  it('a clean run prints nothing', () => assert.equal(renderGithub(report([run('r')])), ''));
});

describe('annotation cap', () => {
  const many = (n: number, severity: 'error' | 'warning' | 'info') => Array.from({ length: n }, (_, i) => finding({ severity, locations: [loc({ line: i + 1 })] }));
  const out = renderGithub(report([run('r', [...many(25, 'error'), ...many(3, 'warning'), ...many(10, 'info')])])).trimEnd().split('\n');
  const of = (level: string) => out.filter((l) => l.startsWith(`::${level} `));
  it('at most 10 per level; the 10th says how many more were not shown', () => {
    assert.equal(of('error').length, 10);
    assert.match(of('error')[9]!, /::16 more error annotations not shown/);
    assert.match(of('error')[8]!, /line=9,/);
  });
  it('levels under the cap are all shown', () => {
    assert.equal(of('warning').length, 3);
    assert.equal(of('notice').length, 10);
    assert.doesNotMatch(of('notice')[9]!, /not shown/);
  });
});

describe('step summary', () => {
  it('one row per run with verdict, findings and inconclusive reasons; table cells escaped', () => {
    const md = renderMarkdownSummary(
      report([
        run('a|b', [finding(), finding({ severity: 'info', rule: 'postcopy-network-failure' })]),
        run('c', [], { verdict: 'inconclusive', inconclusive: [{ rule: 'preempt-quit-stuck', reason: 'no <tids>\nat all | really' }] }),
        run('d', [finding({ baseline: 'known' })]),
      ]),
    );
    const rows = md.split('\n').filter((l) => l.startsWith('| `'));
    assert.equal(rows.length, 3);
    assert.match(rows[0]!, /^\| `a\\\|b` \| ❌ findings \| 1 error: `qemufile-concurrent-access`<br>1 info: `postcopy-network-failure` \| — \|$/);
    assert.match(rows[1]!, /⚠️ inconclusive .*preempt-quit-stuck: no &lt;tids&gt;<br>at all \\\| really \|$/);
    assert.match(rows[2]!, /☑️ accepted findings .*\(1 in baseline\)/);
    assert.match(md, /3 runs: 0 clean, 2 with findings, 1 inconclusive\./);
  });
  it('stays under the size budget, counting the rows it leaves out', () => {
    const md = renderMarkdownSummary(report(Array.from({ length: 200 }, (_, i) => run(`run-${i}`))), 4000);
    assert.ok(Buffer.byteLength(md) <= 4000, `${Buffer.byteLength(md)} bytes`);
    assert.match(md, /\| … \| \| \d+ more runs not shown/);
  });
  it('lists baseline entries no longer seen', () => {
    const md = renderMarkdownSummary({ ...report([run('r')]), baselineGone: [{ key: 'k|x', rule: 'r', summary: 'gone one' }] });
    assert.match(md, /Baseline entries no longer seen \(1;.*\n\n- `k\|x` — gone one/);
  });
  it('check --format github appends it to $GITHUB_STEP_SUMMARY and prints only commands on stdout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'migtrace-gh-'));
    const summary = join(dir, 'summary.md');
    writeFileSync(summary, 'earlier step\n');
    const r = await cli(['check', ...RACY_RUNS, 'traces/10.0.13/c-postcopy-preempt-1', '-f', 'github', '-q'], { GITHUB_STEP_SUMMARY: summary });
    assert.equal(r.code, 1);
    for (const l of r.stdout.trimEnd().split('\n')) assert.match(l, /^::(error|warning|notice) /);
    assert.match(r.stdout, /^::error file=traces\/10\.0\.13\/c-postcopy-preempt-pre72-1\/src\.log,line=\d+,/m);
    const md = readFileSync(summary, 'utf8');
    assert.ok(md.startsWith('earlier step\n### migtrace '));
    assert.equal(md.split('\n').filter((l) => l.startsWith('| `')).length, 3);
  });
  it('no summary file is written for other formats', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'migtrace-gh-'));
    const summary = join(dir, 'summary.md');
    writeFileSync(summary, '');
    await cli(['check', 'traces/10.0.13/c-postcopy-preempt-1', '-f', 'json', '-q'], { GITHUB_STEP_SUMMARY: summary });
    assert.equal(readFileSync(summary, 'utf8'), '');
  });
});
