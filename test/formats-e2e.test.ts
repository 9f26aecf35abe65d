// Every real run in traces/, rewritten at test time into each format that can carry the same
// information (test/helpers-formats.ts), checked with the CLI: the same verdict and the
// same findings (rule + evidence) as the original log files. Formats without thread ids (syslog,
// and the real binary simple trace of the self-built run) tell threads apart by event names: the
// same findings, said to be told by names, and nothing invented. Malformed input through `check`: one damaged record or line is
// reported with its byte offset or line, and the verdict of the rest stands.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { Report, RunResult } from '../src/types.js';
import { cli, ROOT } from './helpers.js';
import { CONVERTED_FORMATS, realRuns, SELFBUILT, writeConversions, type ConvertedFormat } from './helpers-formats.js';
import { evidenceText } from '../src/report/evidence.js';

interface Result {
  code: number;
  stderr: string;
  run: RunResult | null;
  report: Report | null;
}

async function check(args: string[]): Promise<Result> {
  const r = await cli(['check', ...args, '-f', 'json', '-q']);
  const report = r.stdout ? (JSON.parse(r.stdout) as Report) : null;
  return { code: r.code, stderr: r.stderr, report, run: report?.runs[0] ?? null };
}

const findings = (r: RunResult) => r.findings.map((f) => `${f.rule} [${evidenceText(f.evidence)}]`).sort();
const keyOf = (run: string) => run.replace(/\W+/g, '_');

/**
 * Without thread ids (syslog, simple: process id only) threads are told apart by event names: the
 * same findings as the log files, each saying so, and the same verdict; a rule that needs thread
 * identity and cannot have it says it is for want of thread ids. Nothing is invented or lost.
 */
function assertNoTidResult(got: RunResult, log: RunResult, what: string): void {
  const newly = got.inconclusive.filter((i) => !log.inconclusive.some((l) => l.rule === i.rule));
  for (const i of newly) assert.match(i.reason, /thread id/i, `${what}: ${i.rule} is inconclusive for another reason: ${i.reason}`);
  for (const f of findings(got)) assert.ok(findings(log).includes(f), `${what}: finding ${f} is not in the log run`);
  for (const f of log.findings) {
    if (newly.some((i) => i.rule === f.rule)) continue;
    assert.ok(got.findings.some((g) => g.rule === f.rule), `${what}: ${f.rule} found with thread ids but not by event names`);
  }
  for (const f of got.findings) assert.equal(f.threads, 'event names (no thread ids)', `${what}: ${f.rule} says how threads were told apart`);
  if (newly.length === 0) assert.equal(got.verdict, log.verdict, `${what}: verdict (${got.verdictReasons.join('; ')})`);
  else assert.notEqual(got.verdict, 'clean', `${what}: a rule that could not decide keeps it from clean`);
}

describe('real runs rewritten in every format: same check result as the log files', () => {
  const runs = realRuns();
  // format → run key → result of that run
  const byFormat = new Map<string, Map<string, RunResult>>();
  const failures = new Map<string, string>();
  const root = mkdtempSync(join(tmpdir(), 'migtrace-formats-e2e-'));
  const FORMATS = ['log', ...CONVERTED_FORMATS, 'simple'] as const;

  before(async () => {
    // Every run as run folders per format, so one `check <format folder>` covers all runs.
    for (const run of runs) await writeConversions(run, root, { layout: 'run-folders', key: keyOf(run) });
    const simple = join(root, 'simple', keyOf(SELFBUILT));
    mkdirSync(simple, { recursive: true });
    copyFileSync(join(ROOT, SELFBUILT, 'src.simple'), join(simple, 'src.log'));
    copyFileSync(join(ROOT, SELFBUILT, 'dst.simple'), join(simple, 'dst.log'));
    copyFileSync(join(ROOT, SELFBUILT, 'trace-events-all'), join(simple, 'trace-events-all'));
    // The originals: just the runs rewritten (the whole of traces/ holds suite logs and per-thread
    // folders too, which golden.test.ts checks; here they only cost time).
    const dirs = FORMATS.map((f) => (f === 'log' ? runs : [join(root, f)]));
    const rs: Result[] = [];
    // On this thread (-j 1): worker threads would only add their start-up; that a batch on
    // worker threads reports what one thread does is tested in cli.test.ts.
    for (const d of dirs) rs.push(await check([...d, '-j', '1']));
    FORMATS.forEach((f, i) => {
      const r = rs[i]!;
      if (!r.report) failures.set(f, `exit ${r.code}: ${r.stderr}`);
      else if (r.stderr) failures.set(f, `diagnostics: ${r.stderr}`);
      const m = new Map<string, RunResult>();
      for (const run of r.report?.runs ?? []) {
        // Run names: "traces/10.0.13/a-precopy-1" for the originals, "<format>/<key>" for rewrites.
        const key = f === 'log' ? keyOf(run.name) : run.name.split('/').pop()!;
        m.set(key, run);
      }
      byFormat.set(f, m);
    });
  });

  for (const run of runs) {
    describe(run, () => {
      for (const f of [...CONVERTED_FORMATS, ...(run === SELFBUILT ? ['simple' as const] : [])]) {
        it(f, (t) => {
          assert.equal(failures.get('log'), undefined);
          const tidless = byFormat.get('log')!.get(keyOf(run))?.threads.every((x) => x.tid === null);
          // ftrace and LTTng always write the kernel's thread ids: a trace without any has none to give them.
          if (tidless && (f === 'ftrace' || f === 'babeltrace')) return t.skip('a trace without thread ids cannot be written as ftrace or LTTng faithfully');
          assert.equal(failures.get(f), undefined);
          const log = byFormat.get('log')!.get(keyOf(run));
          const got = byFormat.get(f)!.get(keyOf(run));
          assert.ok(log, `${run}: not in the log check (runs: ${[...byFormat.get('log')!.keys()].join(', ')})`);
          assert.ok(got, `${run}: not in the ${f} check`);
          assert.deepEqual(got.inputs.map((i) => i.format), got.inputs.map(() => (f === 'simple' ? 'simple' : f)), 'format detected by content');
          assert.equal(got.stats.events, log.stats.events, 'every event read');
          assert.equal(got.stats.unparsed, 0);
          if (f === 'syslog' || f === 'simple') return assertNoTidResult(got, log, `${run} ${f}`);
          assert.equal(got.verdict, log.verdict, `verdict (${got.verdictReasons.join('; ')})`);
          assert.deepEqual(findings(got), findings(log));
          if (f !== 'jsonl') assert.deepEqual(got.inputs.map((i) => i.side), ['src', 'dst']);
        });
      }
    });
  }
});

describe('malformed input through check: reported with its offset or line, the rest still decides', () => {
  const racy = 'traces/10.0.13/c-postcopy-preempt-pre72-2';
  let files: Record<ConvertedFormat, string[]>;
  let log: RunResult;
  const dir = mkdtempSync(join(tmpdir(), 'migtrace-malformed-'));
  before(async () => {
    files = await writeConversions(racy, dir);
    log = (await check([racy])).run!;
  });

  it('ftrace: a broken line is one unparsed line (file:line), same findings', async () => {
    const p = files.ftrace[0]!;
    const lines = readFileSync(p, 'utf8').split('\n');
    lines.splice(100, 0, '  mig/src/main-22587   [001] .....  garbage-without-timestamp tracing_mark_write: x');
    writeFileSync(p, lines.join('\n'));
    const r = await check(files.ftrace);
    assert.equal(r.run!.stats.unparsed, 1);
    assert.deepEqual([r.run!.dataQuality.unparsedSamples[0]!.file, r.run!.dataQuality.unparsedSamples[0]!.line], [p, 101]);
    assert.deepEqual(findings(r.run!), findings(log));
  });

  it('csv: an unterminated quote costs one row (file:line), same findings', async () => {
    const p = files.csv[1]!;
    const lines = readFileSync(p, 'utf8').split('\n');
    lines.splice(50, 0, '1795635179.0,1,,qemu_file_fclose,"never closed');
    writeFileSync(p, lines.join('\n'));
    const r = await check(files.csv);
    assert.equal(r.run!.stats.unparsed, 1);
    const s = r.run!.dataQuality.unparsedSamples[0]!;
    assert.deepEqual([s.file, s.line], [p, 51]);
    assert.match(s.reason, /unterminated quote/);
    assert.deepEqual(findings(r.run!), findings(log));
    assert.equal(r.run!.stats.events, log.stats.events);
  });

  it('simple: an unknown record type is one unparsed record at its byte offset; bad magic is exit 2', async () => {
    const d = mkdtempSync(join(tmpdir(), 'migtrace-simple-'));
    for (const f of ['src.simple', 'dst.simple', 'trace-events-all']) copyFileSync(join(ROOT, SELFBUILT, f), join(d, f));
    const b = readFileSync(join(d, 'dst.simple'));
    // The first event record past byte 300000, found by walking the records.
    let o = 24;
    while (!(b.readUInt32LE(o) === 1 && o >= 300000)) o += b.readUInt32LE(o) === 0 ? 20 + b.readUInt32LE(o + 16) : 8 + b.readUInt32LE(o + 24);
    b.writeUInt32LE(9, o);
    writeFileSync(join(d, 'dst.simple'), b);
    const r = await check([join(d, 'src.simple'), join(d, 'dst.simple')]);
    assert.equal(r.run!.stats.unparsed, 1);
    assert.match(r.run!.dataQuality.unparsedSamples[0]!.reason, new RegExp(`^byte offset ${o}: unknown record type 0x9`));
    assert.equal(r.run!.stats.events, 12429 - 1);
    b.writeUInt32LE(0x12345678, 8);
    writeFileSync(join(d, 'dst.simple'), b);
    const bad = await check([join(d, 'src.simple'), join(d, 'dst.simple')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /dst\.simple: byte offset 8: bad magic/);
  });
});
