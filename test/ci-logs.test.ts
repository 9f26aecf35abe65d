// CI job logs as they come (issue 9): both processes in one stream, trace lines wrapped in other
// output. Each case is built at test time from a real run and must give the same verdict and
// findings as the run's separate, clean files.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { RunResult } from '../src/types.js';
import { checkJson, ROOT, realRunExpectations, tempRun } from './helpers.js';
import { evidenceText } from '../src/report/evidence.js';

const PREFIX = /^(\d+)@(\d+)\.(\d{6}):/;

/** Both processes' lines in one stream, in timestamp order, as when both write to one stderr. */
export function combine(run: string): string {
  const lines = (f: string) =>
    readFileSync(join(run, f), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const m = PREFIX.exec(l);
        return { t: m ? Number(m[2]) * 1e6 + Number(m[3]) : 0, l };
      });
  return `${[...lines('src.log'), ...lines('dst.log')].sort((a, b) => a.t - b.t).map((x) => x.l).join('\n')}\n`;
}

/** A GitLab job log: runner banner, section markers with CR + erase, colour codes on some trace lines. */
function gitlabJobLog(trace: string): string {
  const body = trace
    .split('\n')
    .filter(Boolean)
    .map((l, i) => (i % 7 === 0 ? `\x1b[32m${l}\x1b[0m` : l));
  return [
    '\x1b[0KRunning with gitlab-runner 16.5.0 (853330f9)\x1b[0;m',
    'section_start:1700000000:prepare_script\r\x1b[0K\x1b[0K\x1b[36;1mPreparing environment\x1b[0;m',
    '$ make check-qtest-x86_64 V=1',
    ...body.slice(0, 3),
    `section_start:1700000001:qtest\r\x1b[0K${body[3]}`,
    ...body.slice(4),
    'ok 1 /x86_64/migration/postcopy/preempt/plain',
    'section_end:1700000002:qtest\r\x1b[0K',
    '\x1b[32;1mJob succeeded\x1b[0;m',
    '',
  ].join('\n');
}

/** A libvirt domain log: header, the QEMU command line, chardev notes, then QEMU's stderr. */
function libvirtDomainLog(trace: string): string {
  return [
    '2026-11-25 19:32:58.123+0000: starting up libvirt version: 9.0.0, package: 9.0.0-4 (Debian), qemu version: 7.2.0Debian 1:7.2+dfsg-7, hostname: host',
    'LC_ALL=C \\',
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin \\',
    '/usr/bin/qemu-system-x86_64 \\',
    '-name guest=vm1,debug-threads=on \\',
    '-msg timestamp=on',
    'char device redirected to /dev/pts/3 (label charserial0)',
    trace.trimEnd(),
    '2026-11-25T19:33:12.690141Z qemu-system-x86_64: terminating on signal 15 from pid 1234 (/usr/sbin/libvirtd)',
    '2026-11-25 19:33:13.000+0000: shutting down, reason=migrated',
    '',
  ].join('\n');
}

/** `check ARGS -f json -q` (each once per file: the reference runs are analysed once). */
async function analyze(args: string[]): Promise<{ code: number; run: RunResult }> {
  const r = await checkJson(...args);
  assert.equal(r.stderr, '', r.stderr);
  return { code: r.code, run: r.report.runs[0]! };
}

const key = (run: RunResult) => run.findings.map((f) => `${f.rule}/${evidenceText(f.evidence)}`).sort();

const RUNS = ['7.2.22', '10.0.13']
  .flatMap((v) => readdirSync(join(ROOT, 'traces', v)).map((r) => join('traces', v, r)))
  .filter((d) => existsSync(join(ROOT, d, 'src.log')) && existsSync(join(ROOT, d, 'dst.log')));

describe('one stream with both processes', () => {
  for (const run of RUNS) {
    it(`${run}: same verdict and findings as the separate files`, async (t) => {
      const ref = await analyze([run]);
      // A run that logged nothing side-specific (its migration never started) has its sides from
      // its file names only; one stream of it has no names to go by (cli.test.ts covers it).
      if (ref.run.inputs.some((i) => i.sideEvidence.startsWith('from its name'))) return t.skip('sides from file names');
      const dir = tempRun({ 'job.log': combine(join(ROOT, run)) });
      const got = await analyze([join(dir, 'job.log')]);
      assert.equal(got.run.inputs[0]!.mixed, true, got.run.inputs[0]!.sideEvidence);
      assert.equal(got.run.verdict, ref.run.verdict, JSON.stringify(got.run.verdictReasons));
      assert.equal(got.code, ref.code);
      assert.deepEqual(key(got.run), key(ref.run));
      // Threads with a migration role get the same side and role. (An io-task worker logs nothing
      // side-specific, so in one stream it is listed as unassigned instead.)
      const roles = (r: RunResult) => r.threads.filter((t) => t.role !== 'io-task').map((t) => `${t.side}:${t.tid}:${t.role}`).sort();
      assert.deepEqual(roles(got.run), roles(ref.run), 'every migration thread gets the same side and role');
    });
  }
});

describe('trace lines among other output', () => {
  const racy = join(ROOT, 'traces/10.0.13/c-postcopy-preempt-pre72-2');
  it('a GitLab job log with ANSI codes and section markers wrapping a racy combined trace', async () => {
    const ref = await analyze([racy]);
    const dir = tempRun({ 'job.log': gitlabJobLog(combine(racy)) });
    const got = await analyze([join(dir, 'job.log')]);
    assert.deepEqual(key(got.run), key(ref.run));
    assert.equal(got.code, 1);
    assert.equal(got.run.stats.events, ref.run.stats.events, 'every trace line is still an event');
    const c = got.run.dataQuality.perInput[0]!;
    assert.equal(c.events + c.messages + c.unparsed + c.blank, c.lines, 'line accounting stays exact');
    assert.equal(c.unparsed, 6, 'banner, 2 section lines, the make line, TAP, job status');
    assert.equal(c.embedded, 1, 'the trace line behind a section marker');
  });
  it('a job log that opens with more than the 64 KiB format detection reads, before any trace line', async () => {
    const ref = await analyze([racy]);
    const preamble = Array.from({ length: 2000 }, (_, i) => `npm http fetch GET 200 https://registry.example/pkg-${i} 12ms (cache hit)`).join('\n');
    const dir = tempRun({ 'job.log': `${preamble}\n${combine(racy)}` });
    const got = await analyze([join(dir, 'job.log')]);
    assert.deepEqual(key(got.run), key(ref.run));
    assert.equal(got.run.dataQuality.perInput[0]!.unparsed, 2000);
  });
  it('libvirt domain logs (one per process) wrapping the racy run', async () => {
    const ref = await analyze([racy]);
    const dir = tempRun({
      'src.log': libvirtDomainLog(readFileSync(join(racy, 'src.log'), 'utf8')),
      'dst.log': libvirtDomainLog(readFileSync(join(racy, 'dst.log'), 'utf8')),
    });
    const got = await analyze([dir]);
    assert.deepEqual(key(got.run), key(ref.run));
    assert.equal(got.run.stats.events, ref.run.stats.events);
    assert.equal(got.run.stats.messages, 2, 'the QEMU error_report line in each log is a message');
  });
});

describe('several migrations in one process log', () => {
  it('each 10.0.13 run, replayed back to back in one long-lived src/dst pair, gets its own verdict', async () => {
    const { makeTrace, runsUnder } = await import('../bench/make-trace.js');
    const dir = tempRun({});
    await makeTrace(join(ROOT, 'traces/10.0.13'), dir, 0);
    const expected = realRunExpectations();
    const runs = runsUnder(join(ROOT, 'traces/10.0.13')).map((d) => `10.0.13/${d.split('/').pop()}`);
    const r = await checkJson(dir);
    const run = r.report.runs[0]!;
    assert.equal(run.episodes?.length, runs.length, JSON.stringify(run.episodes?.map((e) => e.states)));
    run.episodes!.forEach((e, i) => {
      const exp = expected[runs[i]!]!;
      assert.equal(e.verdict, exp.verdict, `${runs[i]}: ${e.verdictReasons.join('; ')}`);
      assert.deepEqual(e.findings.map((f) => f.rule).sort(), exp.findings.map((f) => f.rule).sort(), runs[i]);
      assert.ok(e.threads.every((t) => t.tid !== null && t.tid > 1_000_000 * (i + 1) && t.tid < 1_000_000 * (i + 2)), `${runs[i]}: its own threads`);
    });
    assert.equal(r.code, 1, 'the worst episode decides the exit code');
    assert.ok(run.findings.every((f) => f.episode !== undefined));
  });
});

describe('run folders as capture and CI leave them', () => {
  const racy = join(ROOT, 'traces/10.0.13/c-postcopy-preempt-pre72-2');
  it('a folder holding only combined.log (and QMP transcripts) is one run', async () => {
    const ref = await analyze([racy]);
    const dir = tempRun({ 'combined.log': combine(racy), 'qmp-dst1.jsonl': '{}\n', 'qmp-dst2.jsonl': '{}\n', 'meta.json': '{}' });
    const got = await analyze([dir]);
    assert.deepEqual(got.run.inputs.map((i) => i.path.split('/').pop()), ['combined.log']);
    assert.deepEqual(key(got.run), key(ref.run));
  });
  it('numbered destinations (dst1, dst2: a source migrated twice) are both read, on the destination side', async () => {
    const twice = join(ROOT, 'traces/10.0.13/twice-postcopy-preempt-1');
    const dir = tempRun(Object.fromEntries(['src.log', 'dst1.log', 'dst2.log'].map((f) => [f, readFileSync(join(twice, f), 'utf8')])));
    const got = await analyze([dir]);
    assert.deepEqual(got.run.inputs.map((i) => `${i.path.split('/').pop()}:${i.side}`), ['src.log:src', 'dst1.log:dst', 'dst2.log:dst']);
  });
});
