// A clean run cut short is cut, not stuck: an input that ends early is a data-quality fact, and
// the rules that reason about what did not happen before the end say inconclusive (naming the cut).
// (test/system/silent-pass.test.ts takes the real positives apart; this is its quick half.)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { exitCodeFor } from '../src/cli/exit-codes.js';
import { loadCatalog } from '../src/model/catalog.js';
import { analyzeRun } from '../src/replay/run.js';
import { RULES } from '../src/rules/index.js';
import type { RunResult, Side } from '../src/types.js';
import { ROOT, tempRun } from './helpers.js';

const catalog = loadCatalog();

async function check(files: Partial<Record<Side, string | Buffer>>, ext: string): Promise<{ code: number; run: RunResult }> {
  const dir = tempRun(Object.fromEntries(Object.entries(files).map(([side, text]) => [`${side}${ext}`, text])));
  const inputs = Object.keys(files).map((side) => ({ path: join(dir, `${side}${ext}`), side: side as Side }));
  const run = await analyzeRun({ name: dir, inputs }, { rules: RULES, catalog, stuckAfterMs: 1000, maxUnparsedSamples: 0, readers: 'inline' });
  return { code: exitCodeFor([run]), run };
}

const describeRun = (r: RunResult) => `${r.verdict}: ${r.verdictReasons.join('; ')}`;

describe('a clean run cut short is cut, not stuck', () => {
  const CLEAN = 'traces/10.0.13/c-postcopy-preempt-1';
  const text = (s: Side) => readFileSync(join(ROOT, CLEAN, `${s}.log`));
  it('the destination log cut mid-line: inconclusive, naming the cut; migration-stuck does not fire', async () => {
    const dst = text('dst');
    const { code, run } = await check({ src: text('src'), dst: dst.subarray(0, Math.floor(dst.length * 0.6)) }, '.log');
    assert.equal(code, 3, describeRun(run));
    assert.ok(!run.findings.some((f) => f.rule === 'migration-stuck'));
    assert.match(run.inconclusive.find((i) => i.rule === 'migration-stuck')!.reason, /cut mid-line/);
  });
  it('a .gz that ends early: inconclusive, naming the cut; migration-stuck does not fire', async () => {
    const gz = (s: Side) => gzipSync(text(s));
    const dst = gz('dst');
    const { code, run } = await check({ src: gz('src'), dst: dst.subarray(0, Math.floor(dst.length / 2)) }, '.log.gz');
    assert.equal(code, 3, describeRun(run));
    assert.ok(!run.findings.some((f) => f.rule === 'migration-stuck'));
    assert.match(run.inconclusive.find((i) => i.rule === 'migration-stuck')!.reason, /gzip stream ends early/);
  });
});
