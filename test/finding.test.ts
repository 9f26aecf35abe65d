// Findings are built by one helper from the rule and the finding's own parts: the rule's id,
// severity, commits and headings, an evidence kind it declares, context in time order.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RULES } from '../src/rules/index.js';
import { makeFinding, type Rule } from '../src/rules/rule.js';
import type { Report } from '../src/types.js';
import { loc, ROOT } from './helpers.js';

const rule = (over: Partial<Rule> = {}): Rule => ({ ...RULES.find((r) => r.id === 'preempt-quit-stuck')!, ...over });

describe('makeFinding', () => {
  it('takes id, severity, commits and headings from the rule', () => {
    const r = rule();
    const f = makeFinding(r, { evidence: 'slow-exit', message: 'm', locations: [loc(), loc({ line: 2 })] });
    assert.equal(f.rule, r.id);
    assert.equal(f.severity, r.severity);
    assert.deepEqual(f.commits, r.commits);
    assert.deepEqual(f.headings, r.headings);
    assert.deepEqual(f.evidence, { kind: 'slow-exit' });
  });
  it('keeps a qualifier apart from the kind, and a severity of its own', () => {
    const f = makeFinding(rule(), { evidence: 'never-exited', qualifier: 'cleanup hung', severity: 'warning', message: 'm', locations: [] });
    assert.deepEqual(f.evidence, { kind: 'never-exited', qualifier: 'cleanup hung' });
    assert.equal(f.severity, 'warning');
  });
  it('refuses evidence the rule does not declare', () => {
    assert.throws(() => makeFinding(rule(), { evidence: 'interleaved', message: 'm', locations: [] }), /not declared/);
  });
  it('puts the context after the two accesses in time order, untimed last', () => {
    const at = (line: number, ts: number | null) => loc({ line, ts });
    const f = makeFinding(rule(), { evidence: 'slow-exit', message: 'm', locations: [at(9, 5), at(8, 1), at(1, null), at(2, 4), at(3, 2)] });
    assert.deepEqual(f.locations.map((l) => l.line), [9, 8, 3, 2, 1]);
  });
});

function jsonGoldens(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? jsonGoldens(p) : n === 'json.json' ? [p] : [];
  });
}

describe('evidence kinds', () => {
  it('every rule declares its kinds, each with what it means', () => {
    for (const r of RULES) {
      assert.ok(Object.keys(r.evidence).length > 0, r.id);
      for (const [k, v] of Object.entries(r.evidence)) assert.ok(/^[a-z0-9-]+$/.test(k) && v.length > 10, `${r.id}: ${k}`);
    }
  });
  it('every finding of the real runs and fixtures carries a kind its rule declares', () => {
    const files = jsonGoldens(join(ROOT, 'test/golden'));
    let n = 0;
    for (const file of files) {
      for (const run of (JSON.parse(readFileSync(file, 'utf8')) as Report).runs) {
        for (const f of run.findings) {
          const r = RULES.find((x) => x.id === f.rule);
          assert.ok(r && Object.hasOwn(r.evidence, f.evidence.kind), `${file}: ${f.rule} [${f.evidence.kind}]`);
          n++;
        }
      }
    }
    assert.ok(n >= 40, `findings checked: ${n}`);
  });
});
