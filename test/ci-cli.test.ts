// The CLI as a CI job uses it, end to end on real runs: standard input (plain
// and gzip), a reader that closes the pipe early, usage mistakes, --summary, --select/--ignore and
// ASCII-only output.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { Report } from '../src/types.js';
import { bin, CLI, cli, cliOnce, ROOT, type CliResult } from './helpers.js';
import { evidenceText } from '../src/report/evidence.js';

/** The built CLI in a child process with `input` on its standard input (the process's own). */
function withStdin(args: string[], input: string | Buffer): CliResult {
  return bin(args, input);
}

const RACY = 'traces/10.0.13/c-postcopy-preempt-pre72-2';
// A CI job's log: both processes' stderr in one stream (capture --combined-log), compat mode: racy.
const COMBINED = 'traces/10.0.13/combined-postcopy-preempt-compat-1';
const combined = readFileSync(join(ROOT, COMBINED, 'combined.log'));
const findings = (stdout: string) =>
  (JSON.parse(stdout) as Report).runs[0]!.findings.map((f) => `${f.rule}/${evidenceText(f.evidence)}`).sort();

describe('standard input', () => {
  let ref: CliResult;
  before(async () => {
    ref = await cliOnce(['check', COMBINED, '-f', 'json', '-q']);
  });
  it('the reference: the combined log as a folder has the race (exit 1)', async () => {
    assert.equal(ref.code, 1);
    assert.deepEqual(findings(ref.stdout), ['preempt-channel-before-main/compat-mode', 'qemufile-concurrent-access/interleaved']);
  });
  for (const [what, input] of [['plain', combined], ['gzip', gzipSync(combined)]] as const) {
    it(`check - (${what}): the same findings and exit code`, async () => {
      const r = withStdin(['check', '-', '-f', 'json', '-q'], input);
      assert.equal(r.stderr, '');
      assert.equal(r.code, 1);
      assert.deepEqual(findings(r.stdout), findings(ref.stdout));
      const run = (JSON.parse(r.stdout) as Report).runs[0]!;
      assert.equal(run.name, '<stdin>');
      assert.deepEqual(run.inputs.map((i) => [i.path, i.mixed]), [['-', true]]);
    });
  }
  it('check --src - --dst FILE', async () => {
    const r = withStdin(['check', '--src', '-', '--dst', join(RACY, 'dst.log'), '-f', 'json', '-q'], gzipSync(readFileSync(join(ROOT, RACY, 'src.log'))));
    assert.equal(r.stderr, '');
    assert.equal(r.code, 1);
    assert.deepEqual(findings(r.stdout), findings((await cliOnce(['check', RACY, '-f', 'json', '-q'])).stdout));
  });
  it('timeline - draws the run from its one read of standard input, naming it as check does', async () => {
    const ref = await cli(['timeline', join(COMBINED, 'combined.log'), '-q', '--width', '100']);
    const r = withStdin(['timeline', '-', '-q', '--width', '100'], gzipSync(combined));
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    assert.equal(r.stdout.split(join(COMBINED, 'combined.log')).join('-'), r.stdout, 'no file path of the reference in it');
    assert.doesNotMatch(r.stdout, /migtrace-stdin-/);
    const [head, ...body] = r.stdout.split('\n');
    assert.equal(head, 'migtrace timeline · <stdin>');
    assert.deepEqual(body, ref.stdout.split(join(COMBINED, 'combined.log')).join('-').split('\n').slice(1));
  });
});

describe('a reader that closes the pipe', () => {
  it('check traces | head -n 2 ends quietly, with the exit code of the check', async () => {
    const r = spawnSync('bash', ['-c', `node ${JSON.stringify(CLI)} check traces/10.0.13 -q | head -n 2; exit "\${PIPESTATUS[0]}"`], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    assert.equal(r.stderr, '');
    assert.equal(r.stdout.split('\n').length, 3);
    assert.equal(r.status, 1, 'traces/10.0.13 has racy runs');
  });
});

describe('usage mistakes: exit 2, one line, never "internal error"', () => {
  const cases: Array<[string[], string]> = [
    [['check', 'traces', '-j', '0'], 'migtrace: error: --jobs takes a whole number >= 1 (got 0)'],
    [['check', RACY, '--stuck-after', '-5'], 'migtrace: error: --stuck-after takes a number of milliseconds >= 0 (got -5)'],
    [['check'], 'migtrace: error: give a run folder, trace files, - for standard input, or --src/--dst FILE'],
    [['check', RACY, '--select', 'no-such-rule'], /^migtrace: error: --select no-such-rule: no such rule \(rules: qemufile-concurrent-access, /],
    [['check', RACY, '--summary', '-f', 'json'], 'migtrace: error: --summary is a form of the text report; it does not go with --format json'],
    [['check', RACY, '--frobnicate'], 'migtrace: usage: Unknown argument: frobnicate (see: migtrace check --help)'],
    [['timeline'], 'migtrace: error: give a run folder, its trace files, or - for standard input'],
    [['timeline', RACY, '--stuck-after', 'x'], 'migtrace: error: --stuck-after takes a number of milliseconds >= 0 (got NaN)'],
  ] as unknown as Array<[string[], string]>;
  for (const [args, message] of cases as Array<[string[], string | RegExp]>) {
    it(args.join(' '), async () => {
      const r = await cli(args);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr.split('\n').length, 2, `one line: ${r.stderr}`);
      if (typeof message === 'string') assert.equal(r.stderr, `${message}\n`);
      else assert.match(r.stderr, message);
    });
  }
});

describe('--summary', () => {
  it('one line per run, findings named, then the totals', async () => {
    const r = await cli(['check', 'traces/10.0.13', '--summary', '-q']);
    assert.equal(r.code, 1);
    const lines = r.stdout.trimEnd().split('\n');
    const runs = (JSON.parse((await cliOnce(['check', 'traces/10.0.13', '-f', 'json', '-q'])).stdout) as Report).runs;
    assert.equal(lines.length, runs.length + 1);
    assert.ok(lines.includes('✖ FINDINGS      10.0.13/c-postcopy-preempt-pre72-2  error qemufile-concurrent-access [interleaved], info preempt-channel-before-main [compat-mode]'), r.stdout);
    assert.ok(lines.includes('✔ CLEAN         10.0.13/c-postcopy-preempt-1'), r.stdout);
    assert.ok(lines.includes('✔ CLEAN         10.0.13/d-preempt-pause-recover-1  info postcopy-network-failure [migrate-pause]'), r.stdout);
    const by = (v: string) => runs.filter((x) => x.verdict === v).length;
    assert.equal(lines.at(-1), `Summary: ${runs.length} runs — ${by('findings')} with findings, ${by('inconclusive')} inconclusive, ${by('clean')} clean`);
  });
});

describe('--select / --ignore', () => {
  it('--ignore the race: the compat run has only its info finding left, exits 0, and says which rule was left out', async () => {
    const r = await cli(['check', RACY, '--ignore', 'qemufile-concurrent-access', '-f', 'json', '-q']);
    assert.equal(r.code, 0);
    const run = (JSON.parse(r.stdout) as Report).runs[0]!;
    assert.deepEqual(run.findings.map((f) => f.rule), ['preempt-channel-before-main']);
    assert.equal(run.verdict, 'clean');
    assert.ok(!run.rulesChecked.includes('qemufile-concurrent-access'));
    assert.equal(run.dataQuality.notes[0], 'rules not checked (--select/--ignore): qemufile-concurrent-access');
  });
  it('--select with a glob keeps only the rules it names', async () => {
    const r = await cli(['check', RACY, '--select', 'preempt-quit-*,postcopy-split-brain', '-f', 'json', '-q']);
    assert.equal(r.code, 0);
    const run = (JSON.parse(r.stdout) as Report).runs[0]!;
    assert.deepEqual(run.rulesChecked, ['preempt-quit-as-network-failure', 'preempt-quit-stuck', 'preempt-quit-too-early', 'postcopy-split-brain']);
    assert.deepEqual(run.findings, []);
  });
  it('the verdict is decided again from the rules kept: the never-started run is inconclusive on migration-stuck, and passes only with its undecided rules left out', async () => {
    const never = 'traces/7.2.22/cap-never-started-1';
    const full = (JSON.parse((await cliOnce(['check', never, '-f', 'json', '-q'])).stdout) as Report).runs[0]!;
    assert.equal(full.verdict, 'inconclusive');
    const one = await cli(['check', never, '--select', 'migration-stuck', '-f', 'json', '-q']);
    assert.equal(one.code, 3);
    const run = (JSON.parse(one.stdout) as Report).runs[0]!;
    assert.deepEqual(run.rulesChecked, ['migration-stuck']);
    assert.deepEqual(run.inconclusive.map((i) => i.rule), ['migration-stuck']);
    const undecided = full.inconclusive.map((i) => i.rule);
    const rest = await cli(['check', never, '--ignore', undecided.join(','), '-f', 'json', '-q']);
    assert.equal(rest.code, 0);
    assert.equal((JSON.parse(rest.stdout) as Report).runs[0]!.dataQuality.notes[0], `rules not checked (--select/--ignore): ${undecided.join(', ')}`);
  });
});

describe('--ascii', () => {
  it('text: only ASCII bytes, the same report otherwise', async () => {
    const r = await cli(['check', RACY, '--ascii']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^[\x00-\x7f]*$/);
    assert.match(r.stdout, /^x traces\/10\.0\.13\/c-postcopy-preempt-pre72-2: FINDINGS \(1 error, 1 info\)$/m);
    assert.match(r.stdout, /-> EOS write on postcopy_qemufile_src/);
    assert.match((await cli(['check', 'traces/10.0.13', '--ascii', '--summary', '-q'])).stdout, /^ok CLEAN +10\.0\.13\/a-precopy-1$/m);
  });
  it('json, sarif and junit: only ASCII bytes, and the same document to a parser', async () => {
    for (const f of ['json', 'sarif']) {
      const plain = await cliOnce(['check', RACY, '-f', f, '-q']);
      const ascii = await cli(['check', RACY, '-f', f, '-q', '--ascii']);
      assert.match(ascii.stdout, /^[\x00-\x7f]*$/);
      assert.notEqual(ascii.stdout, plain.stdout, 'the report has non-ASCII characters to escape');
      assert.deepEqual(JSON.parse(ascii.stdout), JSON.parse(plain.stdout));
    }
    const junit = await cli(['check', RACY, '-f', 'junit', '-q', '--ascii']);
    assert.match(junit.stdout, /^[\x00-\x7f]*$/);
    assert.match(junit.stdout, /&#x2026;|&#x2192;|&#xa7;/);
  });
  it('errors too', async () => {
    const r = await cli(['check', 'traces', '-j', '0', '--ascii']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^[\x00-\x7f]*$/);
  });
});
