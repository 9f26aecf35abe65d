// A system test (npm run test:system), for its size. Many migrations in one trace: one real run
// (10.0.13 a-precopy-1) repeated MIGTRACE_MIGRATIONS times (default 10000, the goal), checked end
// to end with its report (`check -f json|text`, each in a fresh process: bench/pass.js cli). Peak
// RSS stays within the 256 MiB goal, and the check completes with V8's old generation capped at
// 80 MiB, which keeping every migration's report entry and the report as one string does not fit in
// (analyzeRun + renderJson of the same trace, measured 2026-12-05: out of heap at 64, 72 and 80 MiB,
// done at 96). The streamed check's live heap after a full collection was 41-44 MiB in 8 runs on an
// idle machine, up to 61 MiB when a collection lands while the end builds the 30,000 threads'
// summary: at 64 MiB two of four CI runs on 2026-12-05 ran out. The JSON the CLI streams is the document made from
// every migration kept in memory, to the byte.
// The bench has the figures: npm run bench -- --migrations-only
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeMigrations, MIGRATIONS_OLD_SPACE_MIB } from '../../bench/make-trace.js';
import { resolveRuns } from '../../src/assembly/folders.js';
import { loadCatalog } from '../../src/model/catalog.js';
import { analyzeRun } from '../../src/replay/run.js';
import { renderJson } from '../../src/report/json.js';
import { RULES } from '../../src/rules/index.js';
import { CLI, ROOT, VERSION } from '../helpers.js';

const COUNT = Number(process.env.MIGTRACE_MIGRATIONS ?? 10000);
const RSS_LIMIT_MIB = 256;
const OLD_SPACE_MIB = MIGRATIONS_OLD_SPACE_MIB;
const PASS = join(ROOT, 'dist/bench/pass.js');

function check(format: string, src: string, dst: string): { maxRssKiB: number; exitCode: number; reportBytes: number } {
  const r = spawnSync(process.execPath, [`--max-old-space-size=${OLD_SPACE_MIB}`, PASS, 'cli', format, src, dst], { encoding: 'utf8' });
  assert.equal(r.status, 0, `check -f ${format} with the old generation capped at ${OLD_SPACE_MIB} MiB: ${r.stderr.slice(0, 500)}`);
  return JSON.parse(r.stdout) as { maxRssKiB: number; exitCode: number; reportBytes: number };
}

describe(`a trace of ${COUNT} migrations`, () => {
  let dir = '';
  const many = { src: '', dst: '' };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'migtrace-migrations-'));
    const m = await makeMigrations(join(ROOT, 'traces/10.0.13/a-precopy-1'), dir, COUNT);
    Object.assign(many, { src: m.src, dst: m.dst });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const format of ['json', 'text']) {
    it(`-f ${format}: completes in ${OLD_SPACE_MIB} MiB of old generation, peak RSS <= ${RSS_LIMIT_MIB} MiB`, () => {
      const r = check(format, many.src, many.dst);
      const mib = r.maxRssKiB / 1024;
      process.stderr.write(`# -f ${format}: ${COUNT} migrations, peak RSS ${mib.toFixed(0)} MiB, report ${(r.reportBytes / 1048576).toFixed(1)} MiB\n`);
      assert.equal(r.exitCode, 0, 'clean precopy migrations, every rule decided');
      assert.ok(r.reportBytes > COUNT * (format === 'json' ? 1000 : 50), `the report lists every migration (${r.reportBytes} bytes)`);
      assert.ok(mib <= RSS_LIMIT_MIB, `peak RSS ${mib.toFixed(0)} MiB`);
    });
  }

  it('the JSON the CLI streams is the document of every migration kept in memory', async () => {
    const out = join(dir, 'streamed.json');
    const r = spawnSync(process.execPath, [CLI, 'check', '--src', many.src, '--dst', many.dst, '-q', '-f', 'text', '--json', out], { encoding: 'utf8', cwd: ROOT, maxBuffer: 1 << 28 });
    assert.equal(r.status, 0, r.stderr);
    const [spec] = await resolveRuns([], { src: [many.src], dst: [many.dst] });
    const kept = await analyzeRun(spec!, { rules: RULES, catalog: loadCatalog(), stuckAfterMs: 1000, maxUnparsedSamples: 20 });
    assert.equal(kept.episodes?.length, COUNT);
    const whole = renderJson({ tool: { name: 'migtrace', version: VERSION }, runs: [kept] });
    const streamed = readFileSync(out, 'utf8');
    assert.ok(streamed === whole, `the same document, to the byte (${streamed.length} and ${whole.length} characters)`);
  });
});
