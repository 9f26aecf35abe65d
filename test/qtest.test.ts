// QEMU's migration-test logs (traces/qtest, one stream of TAP, markers and every QEMU's trace
// lines): each test's verdict against `tests[].expect` of its meta.json, each log checked once.
// The per-process folder (the way out for QEMU >= 10.1: 36 files, a few seconds) is here too; the
// per-thread folders (slower: ~90 files each) are in test/system/qtest-threads.test.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { cli, ROOT, tempRun } from './helpers.js';
import type { Report } from '../src/types.js';
import { readMeta, suiteCases } from './qtest-expect.js';

const STREAMS = ['qtest/10.0.13-postcopy', 'qtest/10.0.13-postcopy-compat', 'qtest/10.0.13-postcopy-revert-6621883f93', 'qtest/10.0.13-postcopy-revert-6621883f93-t7', 'qtest/11.1.3-postcopy'];

for (const dir of STREAMS) {
  describe(dir, () => {
    const meta = readMeta(dir);
    const got = suiteCases(dir, true);
    it('tests in time order, torn lines counted as the capture counted them', () => {
      assert.ok(!got().run.dataQuality.notes.some((n) => /overlap in time/.test(n)), 'no two tests overlap');
      const torn = /(\d+) lines start with two timestamps[^]*?(\d+) lines have no prefix/.exec(meta.torn_lines ?? '');
      const note = got().run.dataQuality.notes.find((n) => /torn lines/.test(n));
      if (!torn) return assert.equal(note, undefined, 'a 10.0 log has no torn lines');
      const m = /: (\d+) \(first at [^)]*\) start with two timestamps; (\d+) \(first at [^)]*\) have none/.exec(note ?? '');
      assert.deepEqual([m?.[1], m?.[2]], [torn[1], torn[2]], note);
    });
  });
}

// One file per QEMU process (`-D q-%d.log` without `-d tid`), QEMU 11.1.3: no thread ids, and yet
// every test decided, as the per-thread run of the same binary is (the 11.1.3 stream is not).
describe('qtest/11.1.3-postcopy-processes', () => {
  const meta = readMeta('qtest/11.1.3-postcopy-processes');
  suiteCases('qtest/11.1.3-postcopy-processes', false);
  it('the same verdicts as the per-thread run of the same binary', () => {
    const threads = readMeta('qtest/11.1.3-postcopy-threads');
    assert.deepEqual(meta.tests.map((t) => [t.path, t.tap, t.expect.verdict, t.expect.findings.map((f) => f.rule)]), threads.tests.map((t) => [t.path, t.tap, t.expect.verdict, t.expect.findings.map((f) => f.rule)]));
  });
});

// A plain suite log is read as a trace is: its lines stay in the file and the few a report names are
// read back (src/replay/tests.ts analyzeStream); a gzip one keeps every line's text as it reads.
describe('a suite log as a plain file and as gzip', () => {
  it('gives the same report: the lines read back are the lines the gzip read kept', async () => {
    // The compat run: its finding names trace lines (the race kept alive by x-preempt-pre-7-2).
    const gz = join(ROOT, 'traces/qtest/10.0.13-postcopy-compat/qtest.log.gz');
    const plain = join(tempRun({ 'qtest.log': gunzipSync(readFileSync(gz)) }), 'qtest.log');
    const [a, b] = await Promise.all([cli(['check', plain, '-f', 'json', '-q']), cli(['check', gz, '-f', 'json', '-q'])]);
    assert.equal(a.code, b.code);
    const locations = (out: string) => (JSON.parse(out) as Report).runs[0]!.findings.flatMap((f) => f.locations);
    assert.ok(locations(a.stdout).length > 0 && locations(a.stdout).every((l) => !!l.text && !l.text.startsWith('(line not read back')), 'every named line read back');
    // The same report but for the file's name (messages cite lines as NAME:LINE).
    const named = (out: string, path: string) => out.split(path).join('LOG').split(`${basename(path)}:`).join('LOG:');
    assert.equal(named(a.stdout, plain), named(b.stdout, gz));
  });
});
