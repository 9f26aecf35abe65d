// A test suite's log in the timeline and the HTML report: each test's replay feeds a timeline of
// its own (timeline/tests.ts), so `timeline` and `check --html` show one section per traced test,
// each holding that test's events only, not one timeline across tests (or an empty one).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { resolveRuns } from '../src/assembly/folders.js';
import { loadCatalog } from '../src/model/catalog.js';
import { analyzeSpec } from '../src/replay/tests.js';
import { RULES } from '../src/rules/index.js';
import { TimelineCollector } from '../src/timeline/collect.js';
import { HTML_LIMITS } from '../src/timeline/limits.js';
import { TestTimelines } from '../src/timeline/tests.js';
import { bin, ROOT } from './helpers.js';

const catalog = loadCatalog();
const select = { kind: 'auto' as const, marginUs: 3000 };

describe('a suite log: one timeline per test', () => {
  it('qtest/10.0.13-postcopy-compat (stream): a section per traced test, inside its own time span', async () => {
    const [spec] = await resolveRuns([join(ROOT, 'traces/qtest/10.0.13-postcopy-compat')]);
    const whole = new TimelineCollector({ select, ...HTML_LIMITS });
    const tests = new TestTimelines(() => new TimelineCollector({ select, ...HTML_LIMITS }));
    const run = await analyzeSpec(spec!, { rules: RULES, catalog, stuckAfterMs: 1000, maxUnparsedSamples: 20, observers: [whole], perTest: tests.watch });
    const traced = run.tests!.filter((t) => t.traced).map((t) => t.name);
    assert.deepEqual(tests.sections.map((s) => s.test), traced);
    assert.equal(whole.finish(run).totalEvents, 0, "the run's own collector sees no test's records");
    for (const s of tests.sections) {
      const ep = run.episodes!.find((e) => e.test === s.test)!;
      assert.ok(s.data.totalEvents > 1000, `${s.test}: ${s.data.totalEvents} events`);
      assert.ok(s.data.t0 / 1e6 >= ep.from! - 1e-6 && s.data.tEnd / 1e6 <= ep.to! + 1e-6, `${s.test}: timeline ${s.data.t0}-${s.data.tEnd} outside its test ${ep.from}-${ep.to}`);
      assert.equal(s.run.findings.length, run.findings.filter((f) => f.test === s.test).length, `${s.test}: its section holds its findings`);
    }
    assert.ok(tests.sections.some((s) => s.run.findings.some((f) => f.rule === 'qemufile-concurrent-access')), 'the compat race is in a section');
  });

  it('check --html on per-process files: 7 sections, each with its test\'s events', () => {
    const dir = mkdtempSync(join(tmpdir(), 'migtrace-html-'));
    try {
      const file = join(dir, 'r.html');
      const r = bin(['check', 'traces/qtest/11.1.3-postcopy-processes', '-q', '-f', 'json', '--html', file]);
      assert.equal(r.code, 0, r.stderr);
      const html = readFileSync(file, 'utf8');
      const names = [...html.matchAll(/<span class="runname">([^<]*)<\/span>/g)].map((m) => m[1]);
      assert.equal(names.length, 7);
      for (const t of JSON.parse(r.stdout).runs[0].tests as Array<{ name: string }>) assert.ok(names.some((n) => n!.endsWith(` ${t.name}`)), `a section for ${t.name}`);
      const blocks = [...html.matchAll(/<script type="application\/json" class="run-data">([\s\S]*?)<\/script>/g)].map((m) => JSON.parse(m[1]!) as { ev: { x: unknown[] } });
      assert.equal(blocks.length, 7);
      for (const b of blocks) assert.ok(b.ev.x.length > 0, 'each section has events of its own');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('check --html -j 2 (worker threads) beside another run, --select: the suite by test, the other as a run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'migtrace-html-'));
    try {
      const file = join(dir, 'r.html');
      const r = bin(['check', 'traces/qtest/10.0.13-postcopy-compat', 'traces/10.0.13/c-postcopy-preempt-1', '-j', '2', '-q', '--select', 'qemufile-concurrent-access', '--html', file]);
      assert.equal(r.code, 1, r.stderr);
      const html = readFileSync(file, 'utf8');
      const names = [...html.matchAll(/<span class="runname">([^<]*)<\/span>/g)].map((m) => m[1]!.replace(/^.*traces\//, ''));
      assert.deepEqual(names, ['qtest/10.0.13-postcopy-compat /x86_64/migration/postcopy/plain', 'qtest/10.0.13-postcopy-compat /x86_64/migration/postcopy/suspend', 'qtest/10.0.13-postcopy-compat /x86_64/migration/postcopy/preempt/plain', '10.0.13/c-postcopy-preempt-1']);
      const blocks = [...html.matchAll(/<script type="application\/json" class="run-data">([\s\S]*?)<\/script>/g)].map((m) => JSON.parse(m[1]!) as { findings: Array<{ rule: string }> });
      assert.deepEqual(blocks.map((b) => b.findings.map((f) => f.rule)), [[], [], ['qemufile-concurrent-access'], []], 'only the selected rule, in its own test');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('timeline on a suite log: a text section per traced test', () => {
    const r = bin(['timeline', 'traces/qtest/10.0.13-postcopy-compat', '-q', '--width', '100']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([...r.stdout.matchAll(/^━━ test (\S+): (\w+)$/gm)].map((m) => `${m[1]} ${m[2]}`), ['/x86_64/migration/postcopy/plain clean', '/x86_64/migration/postcopy/suspend clean', '/x86_64/migration/postcopy/preempt/plain findings']);
  });
});
