// CLI conventions: exit codes, stdout for the report only, errors as one line on stderr with
// file:line, --help that teaches, explain, and the JSON contract.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Report } from '../src/types.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bin, cli, cliOnce, ROOT, tempRun } from './helpers.js';

describe('exit codes and errors', () => {
  it('0 on a clean run', async () => assert.equal((await cli(['check', 'traces/10.0.13/c-postcopy-preempt-1', '-q'])).code, 0));
  it('2 on an unknown option, with the usage hint on stderr and nothing on stdout', async () => {
    const r = await cli(['check', '--frobnicate', 'traces']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /Unknown argument: frobnicate/);
  });
  it('2 on a missing path, naming it', async () => {
    const r = await cli(['check', 'no/such/run']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no\/such\/run: no such file or directory/);
  });
  it('2 on a bad extra catalog, with file:line', async () => {
    const dir = tempRun({ 'bad.csv': 'event,match,side,role,identifies,qemufile,access,window,versions,signal,ref\nx_y,,src,rp,,,read,point,*,no-such-signal,A\n' });
    const r = await cli(['check', 'traces/10.0.13/c-postcopy-preempt-1', '--catalog', join(dir, 'bad.csv')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bad\.csv:2: signal 'no-such-signal'/);
  });
  it('2 on a file that is no trace at all, naming it and what was expected', async () => {
    const dir = tempRun({ 'junk.log': 'hello\nworld\n' });
    const r = await cli(['check', join(dir, 'junk.log')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /junk\.log:1: not a recognised trace \("hello"\); expected QEMU's log backend /);
  });
  it('2 on a trace whose side cannot be told, asking for --src/--dst', async () => {
    const dir = tempRun({ 'x.log': '1@1.000001:qemu_file_fclose \n' });
    const r = await cli(['check', join(dir, 'x.log')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /x\.log: cannot tell whether this is the source or the destination trace .*--src/);
  });
  it('2 on an empty file', async () => {
    const dir = tempRun({ 'empty.log': '' });
    const r = await cli(['check', join(dir, 'empty.log')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /empty\.log: cannot tell .*no trace events in it/);
  });
  it('two files of one side are two processes of that side, and the report says so', async () => {
    const r = await cli(['check', 'traces/10.0.13/c-postcopy-preempt-1/src.log', 'traces/10.0.13/c-postcopy-preempt-2/src.log', '-f', 'json']);
    const run = (JSON.parse(r.stdout) as Report).runs[0]!;
    assert.deepEqual(run.inputs.map((i) => i.side), ['src', 'src']);
    assert.ok(run.dataQuality.notes.includes('2 source processes, one per file (traces/10.0.13/c-postcopy-preempt-1/src.log, traces/10.0.13/c-postcopy-preempt-2/src.log): each migration is analysed on its own'));
    assert.ok(run.dataQuality.notes.includes('no destination trace events: destination-side rules do not apply'));
  });
  it('--src/--dst force the sides', async () => {
    const r = await cli(['check', '--src', 'traces/10.0.13/c-postcopy-preempt-pre72-2/src.log', '--dst', 'traces/10.0.13/c-postcopy-preempt-pre72-2/dst.log', '-f', 'json']);
    assert.equal(r.code, 1);
    const rep = JSON.parse(r.stdout) as Report;
    assert.deepEqual(rep.runs[0]!.inputs.map((i) => [i.side, i.sideEvidence]), [['src', 'forced (--src/--dst)'], ['dst', 'forced (--src/--dst)']]);
  });
  it('--fail-on never turns findings into exit 0', async () => {
    assert.equal((await cli(['check', 'traces/10.0.13/c-postcopy-preempt-pre72-2', '--fail-on', 'never', '-q'])).code, 0);
  });
  it('a batch analysed on several worker threads reports exactly what one thread does, in run order', async () => {
    // A slice of the corpus with every kind of run (findings, clean, inconclusive, a test suite's log, damaged
    // fixtures): the whole corpus twice took 17 s of npm test; golden.test.ts covers every run on one thread.
    const runs = ['traces/10.0.13', 'traces/qtest/10.0.13-postcopy-compat', 'fixtures'];
    const one = await cli(['check', ...runs, '-f', 'json', '-q', '-j', '1']);
    const two = await cli(['check', ...runs, '-f', 'json', '-q', '-j', '2']);
    assert.equal(two.code, one.code);
    assert.equal(two.stdout, one.stdout);
    assert.ok((JSON.parse(one.stdout) as Report).runs.length > 20);
  });
  it('a batch ends with a summary table, one row per run', async () => {
    const r = await cliOnce(['check', 'traces/10.0.13', '-q']);
    assert.match(r.stdout, /Summary: \d+ runs — \d+ with findings, \d+ inconclusive, \d+ clean/);
    assert.match(r.stdout, /^findings +1 +0 +1 +0 +10\.0\.13\/c-postcopy-preempt-pre72-2$/m);
  });
  it('--jobs must be a whole number >= 1', async () => {
    assert.equal((await cli(['check', 'traces', '-j', '0'])).code, 2);
  });
  it('the worst run decides the exit code of a batch', async () => {
    assert.equal((await cliOnce(['check', 'traces/10.0.13', '-q'])).code, 1);
  });
});

describe('JSON contract', () => {
  it('has the documented shape', async () => {
    const r = await cli(['check', 'traces/10.0.13/c-postcopy-preempt-pre72-2', '-f', 'json']);
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
  it('--help lists commands, formats and exit codes', async () => {
    const r = await cli(['check', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--format/);
    assert.match(r.stdout, /--stuck-after/);
    assert.match(r.stdout, /3 +inconclusive/);
  });
  it('explain <rule> gives the meaning and the commits', async () => {
    const r = await cli(['explain', 'qemufile-concurrent-access']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /6621883f93/);
    assert.match(r.stdout, /interleaved/);
  });
  it('explain lists all rules; an unknown rule is a usage error', async () => {
    assert.match((await cli(['explain'])).stdout, /preempt-quit-stuck/);
    const r = await cli(['explain', 'nope']);
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
    it(`reports the others, and their findings decide the exit code (--jobs ${jobs})`, async () => {
      const r = await cli(['check', good, bad, '--jobs', jobs, '--format', 'json', '--quiet']);
      assert.equal(r.code, 1, r.stderr);
      const report = JSON.parse(r.stdout) as Report;
      assert.deepEqual(report.runs.map((x) => [x.name, x.verdict]), [[good, 'findings']]);
      assert.equal(report.unusable?.length, 1);
      assert.equal(report.unusable![0]!.run, bad);
      assert.match(report.unusable![0]!.error, /src\.log:\d+: not a recognised trace/);
      assert.match(r.stderr, /src\.log:\d+: not a recognised trace/);
    });
  }
  it('says so in every CI format', async () => {
    const junit = await cli(['check', good, bad, '--format', 'junit', '--quiet']);
    assert.equal(junit.code, 1);
    assert.match(junit.stdout, /<testsuites[^>]* errors="1"/);
    assert.match(junit.stdout, /<error message="[^"]*not a recognised trace[^"]*" type="input-error">/);
    const sarif = JSON.parse((await cli(['check', good, bad, '--format', 'sarif', '--quiet'])).stdout);
    assert.equal(sarif.runs[0].invocations[0].executionSuccessful, false);
    assert.equal(sarif.runs[0].invocations[0].toolExecutionNotifications[0].descriptor.id, 'input-error');
    const gh = await cli(['check', good, bad, '--format', 'github', '--quiet']);
    assert.match(gh.stdout, /^::error title=migtrace%3A .* not checked::/m); // ":" is escaped in properties
    const text = await cli(['check', good, bad, '--quiet', '--no-color']);
    assert.match(text.stdout, /not checked, its input cannot be read/);
  });
});

describe('the bin', () => {
  it('is main() on the process: same stdout, stderr and exit code as in this process', async () => {
    for (const args of [['check', '--frobnicate'], ['check', 'traces/10.0.13/c-postcopy-preempt-pre72-2', '-f', 'json'], ['--version']]) {
      assert.deepEqual(bin(args), await cli(args), args.join(' '));
    }
  });
  it('--sarif/--junit/--json FILE hold what -f sarif/junit/json prints', async () => {
    const dir = tempRun({});
    const run = 'traces/10.0.13/c-postcopy-preempt-pre72-2';
    const files = await cli(['check', run, '-q', '--sarif', join(dir, 's'), '--junit', join(dir, 'j'), '--json', join(dir, 'x')]);
    assert.equal(files.code, 1);
    for (const [fmt, file] of [['sarif', 's'], ['junit', 'j'], ['json', 'x']] as const) {
      const r = await cli(['check', run, '-q', '-f', fmt]);
      assert.equal(r.code, files.code);
      assert.equal(readFileSync(join(dir, file), 'utf8'), r.stdout, fmt);
    }
  });
});

describe('a reader that goes away (`| head`)', () => {
  // The reader closes the pipe after its first chunk: the next write fails with EPIPE. The output
  // ends there quietly, with the run's own exit code; `convert` also stops reading its inputs.
  async function headOne(args: string[]): Promise<{ code: number | null; stderr: string }> {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((r) => child.on('close', r));
    return { code, stderr };
  }
  it('check keeps its exit code and says nothing of the closed pipe', async () => {
    const r = await headOne(['check', 'traces/10.0.13', '-v']);
    assert.equal(r.code, 1, r.stderr); // findings in traces/10.0.13
    assert.doesNotMatch(r.stderr, /internal error|EPIPE/);
  });
  it('convert ends with exit 0 and says where its output was cut', async () => {
    const r = await headOne(['convert', 'traces/10.0.13/c-postcopy-preempt-pre72-2', '--to', 'jsonl']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /internal error|EPIPE/);
    assert.match(r.stderr, /its reader closed the output: reading stopped there/);
  });
});
