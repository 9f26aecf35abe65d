// Reading on reader threads is invisible in the result, for every real run in traces/ (about 50,
// each analysed twice): the same RunResult, to the byte, as reading in one thread. npm test checks
// a run of each kind (test/worker-read.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveRuns } from '../../src/assembly/folders.js';
import { loadCatalog } from '../../src/model/catalog.js';
import { RULES } from '../../src/rules/index.js';
import { inlineAndOnThreads, realRunDirs } from '../helpers.js';

const opts = { rules: RULES, catalog: loadCatalog(), stuckAfterMs: 1000, maxUnparsedSamples: 20 };

describe('inputs read on worker threads, every real run', () => {
  const dirs = realRunDirs();
  it('finds the real runs', () => assert.ok(dirs.length >= 30, `only ${dirs.length} run folders`));
  it('give the same result as reading inline', async () => {
    for (const dir of dirs) {
      const [spec] = await resolveRuns([dir]);
      const [a, b] = await inlineAndOnThreads(spec!, opts);
      assert.equal(b, a, dir);
    }
  });
});
