// CLI conventions: exit codes, stdout for the report only, errors as one line on stderr with
// file:line, --help that teaches, explain, and the JSON contract.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Report } from '../src/types.js';
import { ROOT, runCli, tempRun } from './helpers.js';
import { join } from 'node:path';

describe('exit codes and errors', () => {
  it('0 on a clean run', () => assert.equal(runCli(['check', 'traces/10.0.13/c-postcopy-preempt-1', '-q']).code, 0));
  it('2 on an unknown option, with the usage hint on stderr and nothing on stdout', () => {
    const r = runCli(['check', '--frobnicate', 'traces']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /Unknown argument: frobnicate/);
  });
  it('2 on a missing path, naming it', () => {
    const r = runCli(['check', 'no/such/run']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no\/such\/run: no such file or directory/);
  });
  it('2 on a bad extra catalog, with file:line', () => {
    const dir = tempRun({ 'bad.csv': 'event,match,side,role,identifies,qemufile,access,window,versions,signal,ref\nx_y,,src,rp,,,read,point,*,no-such-signal,A\n' });
    const r = runCli(['check', 'traces/10.0.13/c-postcopy-preempt-1', '--catalog', join(dir, 'bad.csv')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bad\.csv:2: signal 'no-such-signal'/);
  });
  it('2 on a file that is no trace at all, naming it and what was expected', () => {
    const dir = tempRun({ 'junk.log': 'hello\nworld\n' });
    const r = runCli(['check', join(dir, 'junk.log')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /junk\.log: not a recognised trace \(expected one of: log — /);
  });
  it('2 on a trace whose side cannot be told, asking for --src/--dst', () => {
    const dir = tempRun({ 'x.log': '1@1.000001:qemu_file_fclose \n' });
    const r = runCli(['check', join(dir, 'x.log')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /x\.log: cannot tell whether this is the source or the destination trace .*--src/);
  });
  it('2 on an empty file', () => {
    const dir = tempRun({ 'empty.log': '' });
    const r = runCli(['check', join(dir, 'empty.log')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /empty\.log: cannot tell .*no trace events in it/);
  });
  it('two files of one side are two processes of that side, and the report says so', () => {
    const r = runCli(['check', 'traces/10.0.13/c-postcopy-preempt-1/src.log', 'traces/10.0.13/c-postcopy-preempt-2/src.log', '-f', 'json']);
    const run = (JSON.parse(r.stdout) as Report).runs[0]!;
    assert.deepEqual(run.inputs.map((i) => i.side), ['src', 'src']);
    assert.ok(run.dataQuality.notes.includes('2 source processes, one per file (traces/10.0.13/c-postcopy-preempt-1/src.log, traces/10.0.13/c-postcopy-preempt-2/src.log): each migration is analysed on its own'));
    assert.ok(run.dataQuality.notes.includes('no destination trace events: destination-side rules do not apply'));
  });
  it('--src/--dst force the sides', () => {
    const r = runCli(['check', '--src', 'traces/10.0.13/c-postcopy-preempt-pre72-2/src.log', '--dst', 'traces/10.0.13/c-postcopy-preempt-pre72-2/dst.log', '-f', 'json']);
    assert.equal(r.code, 1);
    const rep = JSON.parse(r.stdout) as Report;
    assert.deepEqual(rep.runs[0]!.inputs.map((i) => [i.side, i.sideEvidence]), [['src', 'forced (--src/--dst)'], ['dst', 'forced (--src/--dst)']]);
  });
  it('--fail-on never turns findings into exit 0', () => {
    assert.equal(runCli(['check', 'traces/10.0.13/c-postcopy-preempt-pre72-2', '--fail-on', 'never', '-q']).code, 0);
  });
  it('a batch analysed on several worker threads reports exactly what one thread does, in run order', () => {
    const one = runCli(['check', 'traces', 'fixtures', '-f', 'json', '-q', '-j', '1']);
    const two = runCli(['check', 'traces', 'fixtures', '-f', 'json', '-q', '-j', '2']);
    assert.equal(two.code, one.code);
    assert.equal(two.stdout, one.stdout);
    assert.ok((JSON.parse(one.stdout) as Report).runs.length > 20);
  });
  it('a batch ends with a summary table, one row per run', () => {
    const r = runCli(['check', 'traces/10.0.13', '-q']);
    assert.match(r.stdout, /Summary: \d+ runs — \d+ with findings, \d+ inconclusive, \d+ clean/);
    assert.match(r.stdout, /^findings +1 +0 +1 +0 +10\.0\.13\/c-postcopy-preempt-pre72-2$/m);
  });
  it('--jobs must be a whole number >= 1', () => {
    assert.equal(runCli(['check', 'traces', '-j', '0']).code, 2);
  });
  it('the worst run decides the exit code of a batch', () => {
    assert.equal(runCli(['check', 'traces/10.0.13', '-q']).code, 1);
  });
});

describe('JSON contract', () => {
  it('has the documented shape', () => {
    const r = runCli(['check', 'traces/10.0.13/c-postcopy-preempt-pre72-2', '-f', 'json']);
    const rep = JSON.parse(r.stdout) as Report;
    assert.equal(rep.tool.name, 'migtrace');
    const run = rep.runs[0]!;
    for (const k of ['name', 'inputs', 'qemu', 'mode', 'verdict', 'findings', 'stats']) assert.ok(k in run, k);
    assert.deepEqual(Object.keys(run.mode).sort(), ['compatPre72', 'evidence', 'postcopy', 'preempt']);
    assert.deepEqual(Object.keys(run.stats).sort(), ['events', 'lines', 'messages', 'unparsed']);
    const f = run.findings[0]!;
    for (const k of ['rule', 'severity', 'message', 'evidence', 'locations']) assert.ok(k in f, k);
    for (const k of ['file', 'line', 'tid', 'role', 'event', 'ts']) assert.ok(k in f.locations[0]!, k);
    assert.deepEqual(run.inputs.map((i) => i.format), ['log', 'log']);
  });
});

describe('help and explain', () => {
  it('--help lists commands, formats and exit codes', () => {
    const r = runCli(['check', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--format/);
    assert.match(r.stdout, /--stuck-after/);
    assert.match(r.stdout, /3 +inconclusive/);
  });
  it('explain <rule> gives the meaning and the commits', () => {
    const r = runCli(['explain', 'qemufile-concurrent-access']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /6621883f93/);
    assert.match(r.stdout, /interleaved/);
  });
  it('explain lists all rules; an unknown rule is a usage error', () => {
    assert.match(runCli(['explain']).stdout, /preempt-quit-stuck/);
    const r = runCli(['explain', 'nope']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no rule 'nope'/);
  });
});

describe('a batch with a run that cannot be read', () => {
  // One real run with the race and one run of garbage: the garbage run is listed as not checked,
  // the real one is reported in full, and its findings decide the exit code (1; beside clean runs
  // only, the broken input makes it 2: assembly.test.ts).
  const good = join(ROOT, 'traces/10.0.13/c-postcopy-preempt-pre72-2');
  const bad = tempRun({ 'src.log': 'hello\nworld\n', 'dst.log': 'garbage\n' });
  for (const jobs of ['1', '2']) {
    it(`reports the others, and their findings decide the exit code (--jobs ${jobs})`, () => {
      const r = runCli(['check', good, bad, '--jobs', jobs, '--format', 'json', '--quiet']);
      assert.equal(r.code, 1, r.stderr);
      const report = JSON.parse(r.stdout) as Report;
      assert.deepEqual(report.runs.map((x) => [x.name, x.verdict]), [[good, 'findings']]);
      assert.equal(report.unusable?.length, 1);
      assert.equal(report.unusable![0]!.run, bad);
      assert.match(report.unusable![0]!.error, /src\.log: not a recognised trace/);
      assert.match(r.stderr, /src\.log: not a recognised trace/);
    });
  }
  it('says so in every CI format', () => {
    const junit = runCli(['check', good, bad, '--format', 'junit', '--quiet']);
    assert.equal(junit.code, 1);
    assert.match(junit.stdout, /<testsuites[^>]* errors="1"/);
    assert.match(junit.stdout, /<error message="[^"]*not a recognised trace[^"]*" type="input-error">/);
    const sarif = JSON.parse(runCli(['check', good, bad, '--format', 'sarif', '--quiet']).stdout);
    assert.equal(sarif.runs[0].invocations[0].executionSuccessful, false);
    assert.equal(sarif.runs[0].invocations[0].toolExecutionNotifications[0].descriptor.id, 'input-error');
    const gh = runCli(['check', good, bad, '--format', 'github', '--quiet']);
    assert.match(gh.stdout, /^::error title=migtrace%3A .* not checked::/m); // ":" is escaped in properties
    const text = runCli(['check', good, bad, '--quiet', '--no-color']);
    assert.match(text.stdout, /not checked, its input cannot be read/);
  });
});
