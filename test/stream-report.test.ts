// A report written as a stream (check of one run): each migration after the first is written out
// once judged and read back as the report is written. It must be the same report, to the byte, as
// the one made from every migration kept in memory, in every format, with rules left out too.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeMigrations } from '../bench/make-trace.js';
import { loadCatalog } from '../src/model/catalog.js';
import { analyzeRun, analyzeRunStreamed, type EpisodeStream } from '../src/replay/run.js';
import { FORMATS, PIECES, REPORTERS } from '../src/report/index.js';
import { jsonPieces, withEpisodes } from '../src/report/json.js';
import { keptRules, selectEpisode, selectRules } from '../src/cli/select.js';
import type { Report, RunResult } from '../src/types.js';
import { Spill } from '../src/replay/spill.js';
import { RULES } from '../src/rules/index.js';
import { ROOT } from './helpers.js';

// Clean precopy, a racy compat-mode run (findings) and a postcopy pause and recovery, in turn.
const RUNS = ['a-precopy-1', 'c-postcopy-preempt-pre72-1', 'd-preempt-pause-recover-1'].map((r) => join(ROOT, 'traces/10.0.13', r));

const reportOf = (r: RunResult): Report => ({ tool: { name: 'migtrace', version: '0.0.0' }, runs: [r] });

describe('a streamed report is the report of every migration kept', () => {
  let dir = '';
  let kept: RunResult;
  let streamed: { result: RunResult; episodes: EpisodeStream | null };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'migtrace-stream-'));
    const made = await makeMigrations(RUNS, dir, 9);
    const spec = { name: 'many', inputs: [{ path: made.src, side: 'src' as const }, { path: made.dst, side: 'dst' as const }] };
    const opts = { rules: RULES, catalog: loadCatalog(), stuckAfterMs: 1000, maxUnparsedSamples: 20, keepOpen: 2 };
    kept = await analyzeRun(spec, opts);
    streamed = await analyzeRunStreamed(spec, opts);
  });
  after(() => {
    streamed?.episodes?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps no migration list in the result, and reads back every migration in order', () => {
    assert.ok((kept.episodes?.length ?? 0) === 9, `${kept.episodes?.length} migrations`);
    assert.ok(kept.findings.some((f) => f.episode !== undefined && f.episode > 1), 'findings in later migrations');
    assert.equal(streamed.result.episodes, undefined);
    assert.ok(streamed.episodes);
    assert.deepEqual([...streamed.episodes], kept.episodes);
    assert.deepEqual([...streamed.episodes], kept.episodes, 'read twice, the same');
    assert.ok(JSON.stringify(withEpisodes(streamed.result, kept.episodes)) === JSON.stringify(kept), 'the rest of the result is the same');
  });

  for (const format of FORMATS) {
    for (const verbose of format === 'text' ? [false, true] : [false]) {
      it(`-f ${format}${verbose ? ' -v' : ''}: the same text, to the byte`, () => {
        const opts = { verbose, cwd: ROOT };
        const whole = REPORTERS[format](reportOf(kept), opts);
        const pieces = [...PIECES[format](reportOf(streamed.result), { ...opts, episodesOf: () => streamed.episodes ?? undefined })];
        assert.equal(pieces.join(''), whole);
        if (format === 'json' || format === 'text') assert.ok(pieces.length > 50, `${pieces.length} pieces: written as made, not as one string`);
      });
    }
  }

  it('with rules left out (--ignore), each migration read back is cut the same way', () => {
    const rules = keptRules([], ['qemufile-concurrent-access', 'preempt-*']);
    const a = selectRules(kept, rules);
    const b = selectRules(streamed.result, rules);
    const episodes = streamed.episodes!.map((e) => selectEpisode(e, rules));
    assert.equal([...PIECES.json(reportOf(b), { verbose: false, episodesOf: () => episodes })].join(''), REPORTERS.json(reportOf(a)));
    assert.equal([...PIECES.text(reportOf(b), { verbose: true, episodesOf: () => episodes })].join(''), REPORTERS.text(reportOf(a), { verbose: true }));
  });
});

describe('Spill', () => {
  it('gives back what was written, in order, as often as read; nothing once closed', () => {
    const s = new Spill<{ n: number; text: string }>();
    assert.deepEqual([...s.read()], [], 'nothing written: no file, nothing read');
    const values = Array.from({ length: 5000 }, (_, n) => ({ n, text: `é→${'x'.repeat(n % 700)}\u2028"\n` }));
    for (const v of values) s.push(v);
    assert.equal(s.count, values.length);
    assert.deepEqual([...s.read()], values);
    assert.deepEqual([...s.read()], values);
    s.close();
    assert.throws(() => [...s.read()], /after close/);
  });
});

describe('jsonPieces', () => {
  it('writes what JSON.stringify(v, null, 2) writes, for the values a report holds', () => {
    const values = [
      { a: [], b: {}, c: [undefined, () => 1, null, 'x\ny "q" \u2028 \ud800 é'], d: undefined, e: { f: [[{ g: [1.5, -0, 1e21] }]], h: true } },
      [],
      {},
      [[[[[{ deep: [1, { deeper: 'z' }] }]]]]],
      'plain',
      3,
      null,
    ];
    for (const v of values) assert.equal([...jsonPieces(v)].join(''), JSON.stringify(v, null, 2));
  });
});
