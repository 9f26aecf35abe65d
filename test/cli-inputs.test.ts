// Inputs as a new user gives them (issue 16, "also seen"), through the CLI: convert takes a run
// folder as check and timeline do; timeline takes --trace-events/--input-format as check does; a
// packed run (.tar.gz) is refused with one line naming it, not read as one trace; a file that is
// no trace is one short line with file:line.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './helpers.js';

const RACE = 'traces/10.0.13/c-postcopy-preempt-pre72-2';
const SIMPLE = 'traces/10.0.13-selfbuilt/c-postcopy-preempt-compat-simple-1';
const tmp = () => mkdtempSync(join(tmpdir(), 'migtrace-inputs-'));

function oneLineError(r: { code: number; stdout: string; stderr: string }, what: string): string {
  assert.equal(r.code, 2, `${what}: ${r.stderr}`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `${what}: one line: ${r.stderr}`);
  assert.match(lines[0]!, /^migtrace: error: /);
  return lines[0]!;
}

describe('convert RUN_DIR', () => {
  test('a run folder converts as its trace files do', async () => {
    const [dir, files] = await Promise.all([cli(['convert', RACE, '--to', 'csv', '-q']), cli(['convert', `${RACE}/src.log`, `${RACE}/dst.log`, '--to', 'csv', '-q'])]);
    assert.equal(dir.code, 0, dir.stderr);
    assert.ok(dir.stdout.split('\n').length > 20000, 'both processes converted');
    assert.equal(dir.stdout, files.stdout);
  });

  test('per-thread files in a folder keep the TID from their names', async () => {
    const run = 'traces/11.1.3/pt-cap-postcopy-preempt-compat-1';
    const r = await cli(['convert', run, '--to', 'csv', '-q']);
    assert.equal(r.code, 0, r.stderr);
    const tids = new Set(r.stdout.split('\n').slice(1).filter(Boolean).map((l) => l.split(',')[1]));
    assert.ok(!tids.has(''), 'every event has a thread id');
    assert.ok(tids.size > 5, `${tids.size} threads`);
  });

  test('a folder of runs: exit 2, naming it', async () => {
    const line = oneLineError(await cli(['convert', 'traces/10.0.13', '--to', 'csv']), 'folder of runs');
    assert.match(line, /\d+ runs in traces\/10\.0\.13 .*convert takes one run/);
  });
});

describe('timeline --trace-events / --input-format', () => {
  // The simple backend's records name their events but not their arguments' names: those come
  // from the build's trace-events-all. Away from it, argument-matching catalog rows cannot apply.
  const dir = tmp();
  for (const f of ['src.simple', 'dst.simple']) copyFileSync(join(SIMPLE, f), join(dir, f));
  const header = (text: string) => text.split('\n').filter((l) => /^\[\d+\] /.test(l));

  test('--trace-events is used: the timeline then agrees with check --trace-events', async () => {
    const events = join(SIMPLE, 'trace-events-all');
    const [withFile, without, check] = await Promise.all([
      cli(['timeline', dir, '--trace-events', events, '-q']),
      cli(['timeline', dir, '-q']),
      cli(['check', dir, '--trace-events', events, '-f', 'json', '-q']),
    ]);
    assert.equal(withFile.code, 0, withFile.stderr);
    const findings = (JSON.parse(check.stdout) as { runs: Array<{ findings: Array<{ rule: string; evidence: { kind: string }; severity: string }> }> }).runs[0]!.findings;
    assert.deepEqual(
      header(withFile.stdout).map((l) => l.replace(/^\[\d+\] (\w+) (\S+) \[(\S+)\].*/, '$1 $2 $3')),
      findings.map((f) => `${f.severity.toUpperCase()} ${f.rule} ${f.evidence.kind}`),
    );
    assert.ok(header(withFile.stdout).some((l) => /INFO preempt-channel-before-main \[compat-mode\]/.test(l)));
    assert.notDeepEqual(header(without.stdout), header(withFile.stdout), 'without the file the arguments are positional: another verdict');
  });

  test('--input-format is used: simple files forced to log are refused, one line', async () => {
    const line = oneLineError(await cli(['timeline', dir, '--input-format', 'log', '-q']), 'forced log');
    assert.match(line, /src\.simple/);
    const ok = await cli(['timeline', dir, '--input-format', 'simple', '--trace-events', join(SIMPLE, 'trace-events-all'), '-q']);
    assert.equal(ok.code, 0, ok.stderr);
  });
});

describe('timeline of per-thread files', () => {
  test('the second pass gives each file its TID, as the analysis did: a lane per thread, none without a TID', async () => {
    const r = await cli(['timeline', 'traces/11.1.3/pt-cap-postcopy-preempt-compat-1', '-q']);
    assert.equal(r.code, 0, r.stderr);
    const head = r.stdout.split('\n').slice(0, 8).join('\n');
    assert.doesNotMatch(head, /no TIDs/, head);
    assert.match(head, /^src +A main \d+ +B mig \d+ +C rp \d+$/m);
    assert.match(head, /EOS window B .*✖/);
  });
});

describe('archives and files that are no trace', () => {
  const dir = tmp();
  const tarball = join(dir, 'run.tar.gz');
  execFileSync('tar', ['czf', tarball, '-C', 'traces/10.0.13', 'c-postcopy-preempt-pre72-2']);

  test('a .tar.gz given as a trace: refused, one line naming it (not read as one trace)', async () => {
    for (const args of [['check', tarball], ['timeline', tarball], ['convert', tarball, '--to', 'csv']]) {
      const line = oneLineError(await cli(args), args[0]!);
      assert.equal(line, `migtrace: error: ${tarball}: a tar archive, not a trace: unpack it (tar xf ${tarball}) and give the folder`);
    }
  });

  test('a .tar.gz inside a run folder is listed as not read, with the reason; the run is checked', async () => {
    const run = join(dir, 'run');
    mkdirSync(run);
    for (const f of ['src.log', 'dst.log']) copyFileSync(join(RACE, f), join(run, f));
    copyFileSync(tarball, join(run, 'old.tar.gz'));
    const r = await cli(['check', run, '-f', 'json', '-q']);
    assert.equal(r.code, 1, r.stderr);
    const notes = (JSON.parse(r.stdout) as { runs: Array<{ dataQuality: { notes: string[] } }> }).runs[0]!.dataQuality.notes;
    assert.ok(notes.includes(`${join(run, 'old.tar.gz')}: not read: a tar archive, not a trace: unpack it (tar xf ${join(run, 'old.tar.gz')}) and give the folder`), notes.join('\n'));
  });

  test('not a recognised trace: one short line with file:line and what it starts with', async () => {
    const file = join(dir, 'notes.txt');
    writeFileSync(file, '\n\nThe migration looked fine to me, but the guest then hung for a while.\n');
    for (const args of [['check', file], ['convert', file, '--to', 'jsonl']]) {
      const line = oneLineError(await cli(args), args[0]!);
      assert.ok(line.length < 300, `${line.length} characters`);
      assert.ok(line.startsWith(`migtrace: error: ${file}:3: not a recognised trace ("The migration looked fine to me, but the…"); `), line);
      assert.match(line, /--input-format$/);
    }
  });
});
