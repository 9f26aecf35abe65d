// QEMU's migration-test with per-thread files of every QEMU (traces/qtest/*-threads: the suite's
// log beside ~90 thread files): each test's verdict against `tests[].expect` of its meta.json.
import { describe, it, before } from 'node:test';
import type { Report, RunResult } from '../../src/types.js';
import { checkRow, checkSuite, checkWhole, readMeta } from '../qtest-expect.js';

for (const dir of ['qtest/10.0.13-postcopy-compat-threads', 'qtest/11.1.3-postcopy-threads']) {
  describe(dir, () => {
    const meta = readMeta(dir);
    let got: { code: number; report: Report; run: RunResult };
    before(async () => {
      got = await checkSuite(dir);
    });
    for (const t of meta.tests) it(`${t.path}: ${t.expect.verdict}`, () => checkRow(dir, got.run, t, false));
    it('exit code and JUnit cases', () => checkWhole(dir, got.code, got.report, meta));
  });
}
