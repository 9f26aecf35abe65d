// QEMU's migration-test with per-thread files of every QEMU (traces/qtest/*-threads: the suite's
// log beside ~90 thread files): each test's verdict against `tests[].expect` of its meta.json.
// (The per-process folder, faster, is in test/qtest.test.ts.)
import { describe, it } from 'node:test';
import type { Report } from '../../src/types.js';
import { checkRow, readMeta, suiteCases } from '../qtest-expect.js';

for (const dir of ['qtest/10.0.13-postcopy-compat-threads', 'qtest/11.1.3-postcopy-threads']) describe(dir, () => void suiteCases(dir, false));

describe('a suite log on standard input (gzip), split as the file is', () => {
  it('qtest/10.0.13-postcopy-compat through check -', async () => {
    const { readFileSync } = await import('node:fs');
    const { bin, ROOT } = await import('../helpers.js');
    const { join } = await import('node:path');
    const r = bin(['check', '-', '-f', 'json', '-q'], readFileSync(join(ROOT, 'traces/qtest/10.0.13-postcopy-compat/qtest.log.gz')));
    const run = (JSON.parse(r.stdout) as Report).runs[0]!;
    const meta = readMeta('qtest/10.0.13-postcopy-compat');
    for (const t of meta.tests) checkRow('qtest/10.0.13-postcopy-compat', run, t, true);
    for (const f of run.findings) for (const l of f.locations) if (l.file !== '-') throw new Error(`a location names ${l.file}, not standard input`);
  });
});
