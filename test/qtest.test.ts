// QEMU's migration-test logs (traces/qtest, one stream of TAP, markers and every QEMU's trace
// lines): each test's verdict against `tests[].expect` of its meta.json, each log checked once.
// The per-thread folders (slower: ~90 files each) are in test/system/qtest-threads.test.ts.
import { describe, it, before } from 'node:test';
import type { Report, RunResult } from '../src/types.js';
import { checkRow, checkSuite, checkWhole, readMeta } from './qtest-expect.js';

const STREAMS = ['qtest/10.0.13-postcopy', 'qtest/10.0.13-postcopy-compat', 'qtest/10.0.13-postcopy-revert-6621883f93', 'qtest/10.0.13-postcopy-revert-6621883f93-t7', 'qtest/11.1.3-postcopy'];

for (const dir of STREAMS) {
  describe(dir, () => {
    const meta = readMeta(dir);
    let got: { code: number; report: Report; run: RunResult };
    before(async () => {
      got = await checkSuite(dir);
    });
    for (const t of meta.tests) it(`${t.path}: ${t.expect.verdict ?? 'not in the log'}`, () => checkRow(dir, got.run, t, true));
    it('exit code and JUnit cases', () => checkWhole(dir, got.code, got.report, meta));
  });
}
