// The assembly stage through the CLI, on real runs arranged as users and CI jobs leave them:
// per-thread files of both processes in one folder (one `-d tid -D t-%d.log` for both), any number
// of destination files by any name, a run whose migration never started, and trees of runs where
// one cannot be judged. What each must give comes from the run itself (meta.json: the sampled
// TID → side map, the QMP outcome, the expectations recorded with the run).
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, it } from 'node:test';
import type { Report, RunResult } from '../src/types.js';
import { cli, ROOT } from './helpers.js';
import { evidenceText } from '../src/report/evidence.js';

async function json(args: string[]): Promise<{ code: number; stderr: string; report: Report }> {
  const r = await cli(['check', ...args, '-f', 'json', '-q']);
  return { code: r.code, stderr: r.stderr, report: JSON.parse(r.stdout || '{"runs":[]}') as Report };
}

const findings = (r: RunResult) => r.findings.map((f) => `${f.rule}/${evidenceText(f.evidence)}${f.episode ? `@${f.episode}` : ''}`).sort();
const tmp = () => mkdtempSync(join(tmpdir(), 'migtrace-assembly-'));
const lineCount = (path: string) => readFileSync(path, 'utf8').split('\n').filter((l) => l !== '').length;

describe('per-thread files of both processes in one folder (-d tid -D t-%d.log given to both)', () => {
  const run = join(ROOT, 'traces/11.1.3/pt-postcopy-preempt-1');
  const meta = JSON.parse(readFileSync(join(run, 'meta.json'), 'utf8')) as { outcome: string; threads: Record<string, { side: string }> };

  it('QEMU 11.1.3 (no thread ids in the lines): every file read, each thread on its own side, and the run decided', async () => {
    assert.equal(meta.outcome, 'completed');
    const { code, stderr, report } = await json([run]);
    assert.equal(stderr, '');
    assert.equal(code, 0);
    const r = report.runs[0]!;
    assert.equal(r.name, 'pt-postcopy-preempt-1/threads');
    assert.equal(r.verdict, 'clean', r.verdictReasons.join('; '));
    const files = readdirSync(join(run, 'threads'));
    assert.equal(r.inputs.length, files.length, 'every per-thread file is an input');
    // A side given to a thread is the side its process had (meta.json samples /proc/<pid>/task).
    const decided = r.inputs.filter((i) => i.side !== null);
    for (const i of decided) {
      const tid = /t-(\d+)\.log$/.exec(i.path)![1]!;
      assert.equal(i.side, meta.threads[tid]?.side, `${i.path}: ${i.sideEvidence}`);
    }
    assert.deepEqual(
      decided.map((i) => `${basename(i.path)}:${i.side}`),
      ['t-11401.log:dst', 't-11402.log:src', 't-11410.log:src', 't-11411.log:src', 't-11421.log:dst', 't-11422.log:dst', 't-11423.log:dst'],
    );
    // The others are read with no side and listed, each with its line count.
    const note = r.dataQuality.notes.find((n) => n.includes('per-thread files'))!;
    assert.match(note, /11 per-thread files: 3 source threads, 4 destination threads, told apart by the events only one side logs; 4 threads logged nothing side-specific/);
    for (const i of r.inputs.filter((x) => x.side === null)) assert.ok(note.includes(`${basename(i.path)} (${lineCount(i.path)} lines)`), `${i.path} listed with its line count: ${note}`);
    // The migration threads got their roles.
    const roles = r.threads.filter((t) => t.role !== 'unknown' && t.role !== 'io-task').map((t) => `${t.side}:${t.tid}:${t.role}`).sort();
    assert.deepEqual(roles, ['dst:11401:main', 'dst:11421:fault', 'dst:11422:preempt', 'dst:11423:listen', 'src:11402:main', 'src:11410:rp', 'src:11411:migration']);
  });

  it('QEMU 10.0.13 (TID@ lines), the racy run split into one file per thread in one folder: the same findings as its two logs', async () => {
    const racy = join(ROOT, 'traces/10.0.13/c-postcopy-preempt-pre72-2');
    const ref = await json([racy]);
    const dir = tmp();
    const byTid = new Map<string, string[]>();
    for (const side of ['src', 'dst']) {
      for (const l of readFileSync(join(racy, `${side}.log`), 'utf8').split('\n')) {
        const tid = /^(\d+)@/.exec(l)?.[1];
        if (tid) byTid.set(tid, [...(byTid.get(tid) ?? []), l]);
      }
    }
    for (const [tid, lines] of byTid) writeFileSync(join(dir, `t-${tid}.log`), `${lines.join('\n')}\n`);
    const got = await json([dir]);
    assert.equal(got.stderr, '');
    assert.equal(got.code, 1);
    const r = got.report.runs[0]!;
    assert.equal(r.inputs.length, byTid.size);
    assert.deepEqual(findings(r), findings(ref.report.runs[0]!));
    assert.deepEqual(findings(r), ['preempt-channel-before-main/compat-mode', 'qemufile-concurrent-access/interleaved']);
  });

  it('per-thread files beside whole-process logs are listed as not read, with how to check them', async () => {
    const dir = tmp();
    for (const f of ['src.log', 'dst.log']) copyFileSync(join(ROOT, 'traces/10.0.13/c-postcopy-preempt-1', f), join(dir, f));
    for (const f of ['t-11401.log', 't-11402.log']) copyFileSync(join(run, 'threads', f), join(dir, f));
    const { code, report } = await json([dir]);
    assert.equal(code, 0);
    const r = report.runs[0]!;
    assert.deepEqual(r.inputs.map((i) => basename(i.path)), ['src.log', 'dst.log']);
    assert.ok(r.dataQuality.notes.includes(`${join(dir, 't-%d.log')}: 2 per-thread files beside whole-process traces, not read (the same run in another form? check them on their own: migtrace check ${join(dir, 't-*.log')})`), r.dataQuality.notes.join('\n'));
  });
});

describe('folders as they come: any number of destinations, by any name', () => {
  // One source migrated twice: a cancelled attempt to dst1, then a completed postcopy-preempt
  // migration to a fresh dst2 (its meta.json says so, and records what each migration must give).
  const twice = join(ROOT, 'traces/10.0.13/twice-postcopy-preempt-1');
  const expect = (JSON.parse(readFileSync(join(twice, 'meta.json'), 'utf8')) as { expect: { verdict: string; exitCode: number; episodes: Array<{ verdict: string }> } }).expect;
  /** The run's files under other names, with the capture's records (meta.json, QMP, consoles) beside them. */
  function renamed(names: Record<string, string>): string {
    const dir = tmp();
    for (const f of readdirSync(twice)) copyFileSync(join(twice, f), join(dir, names[f] ?? f));
    return dir;
  }
  const check = (r: { code: number; stderr: string; report: Report }, sides: string[]) => {
    assert.equal(r.stderr, '');
    assert.equal(r.code, expect.exitCode);
    const run = r.report.runs[0]!;
    assert.deepEqual(run.inputs.map((i) => `${basename(i.path)}:${i.side}`), sides);
    assert.equal(run.verdict, expect.verdict);
    assert.deepEqual(run.episodes?.map((e) => e.verdict), expect.episodes.map((e) => e.verdict));
    assert.deepEqual(run.episodes?.map((e) => [e.states.src.at(-1), e.states.dst.at(-1)]), [['cancelled', 'failed'], ['completed', 'completed']]);
    return run;
  };

  it('src.log, dst-a.log, dst-b.log in a folder: all three read, sides from their events', async () => {
    const dir = renamed({ 'dst1.log': 'dst-a.log', 'dst2.log': 'dst-b.log' });
    const run = check(await json([dir]), ['src.log:src', 'dst-a.log:dst', 'dst-b.log:dst']);
    assert.ok(run.dataQuality.notes.some((n) => n.startsWith('2 destination processes, one per file')), run.dataQuality.notes.join('\n'));
    // The capture's records beside them are not traces, and are not mentioned.
    assert.ok(!run.dataQuality.notes.some((n) => /meta\.json|qmp-|serial/.test(n)), run.dataQuality.notes.join('\n'));
  });

  it('names that say nothing (first.log, x.log, y.log): the events decide', async () => {
    const dir = renamed({ 'src.log': 'first.log', 'dst1.log': 'x.log', 'dst2.log': 'y.log' });
    check(await json([dir]), ['first.log:src', 'x.log:dst', 'y.log:dst']);
  });

  it('the three files named on the command line, and --dst given twice', async () => {
    const dir = renamed({ 'dst1.log': 'dst-a.log', 'dst2.log': 'dst-b.log' });
    check(await json([join(dir, 'src.log'), join(dir, 'dst-a.log'), join(dir, 'dst-b.log')]), ['src.log:src', 'dst-a.log:dst', 'dst-b.log:dst']);
    const forced = check(await json(['--src', join(dir, 'src.log'), '--dst', join(dir, 'dst-a.log'), '--dst', join(dir, 'dst-b.log')]), ['src.log:src', 'dst-a.log:dst', 'dst-b.log:dst']);
    assert.ok(forced.inputs.every((i) => i.sideEvidence === 'forced (--src/--dst)'));
  });

  it('a file that is not a trace is listed as not read, with the reason', async () => {
    const dir = renamed({ 'dst1.log': 'dst-a.log', 'dst2.log': 'dst-b.log' });
    writeFileSync(join(dir, 'notes.log'), 'migration attempt 2 at 10:02, see ticket 1234\n');
    const run = check(await json([dir]), ['src.log:src', 'dst-a.log:dst', 'dst-b.log:dst']);
    assert.ok(run.dataQuality.notes.includes(`${join(dir, 'notes.log')}: not read: not a recognised trace in its first 64 KiB (give it as a file to have it read whole)`), run.dataQuality.notes.join('\n'));
  });

  it('a file whose side neither its events nor its name tell is an error that names it', async () => {
    const dir = renamed({ 'dst1.log': 'dst-a.log', 'dst2.log': 'dst-b.log' });
    // The never-started run's source log: QEMU's start-up and quit, nothing side-specific.
    copyFileSync(join(ROOT, 'traces/7.2.22/cap-never-started-1/src.log'), join(dir, 'other.log'));
    const r = await cli(['check', dir]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `migtrace: error: ${join(dir, 'other.log')}: cannot tell whether this is the source or the destination trace (no source-only or destination-only events); name it with --src ${join(dir, 'other.log')} or --dst ${join(dir, 'other.log')}, or name the file src.* or dst.*\n`);
  });
});

describe('the same process given twice', () => {
  it('a folder holding a CI log made of the two logs beside them: an input error naming both, not every event counted twice', async () => {
    const run = join(ROOT, 'traces/10.0.13/c-postcopy-preempt-1');
    const dir = tmp();
    const all: Array<[number, string]> = [];
    for (const f of ['src.log', 'dst.log']) {
      copyFileSync(join(run, f), join(dir, f));
      for (const l of readFileSync(join(run, f), 'utf8').split('\n').filter(Boolean)) all.push([Number(/@(\d+\.\d+):/.exec(l)![1]), l]);
    }
    writeFileSync(join(dir, 'job.log'), `${all.sort((a, b) => a[0] - b[0]).map(([, l]) => l).join('\n')}\n`);
    const r = await cli(['check', dir]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`^migtrace: error: ${join(dir, 'src.log')} and ${join(dir, 'job.log')} hold the same events \\(from \\d+\\.\\d{6} qio_channel_socket_new\\): the same process given twice; give only one of them\n$`));
  });
});

describe('a run whose migration never started (QMP refused the parameters)', () => {
  const never = join(ROOT, 'traces/7.2.22/cap-never-started-1');
  const meta = JSON.parse(readFileSync(join(never, 'meta.json'), 'utf8')) as { outcome: string; expect: { verdict: string; exitCode: number } };

  it('has 7 trace lines a side and nothing side-specific: the file names decide, and it is inconclusive, not exit 2', async () => {
    assert.match(meta.outcome, /^failed: parameters refused by src/);
    assert.equal(lineCount(join(never, 'src.log')), 7);
    assert.equal(lineCount(join(never, 'dst.log')), 7);
    for (const args of [[never], [join(never, 'src.log'), join(never, 'dst.log')]]) {
      const { code, stderr, report } = await json(args);
      assert.equal(stderr, '');
      assert.equal(code, meta.expect.exitCode);
      const r = report.runs[0]!;
      assert.equal(r.verdict, meta.expect.verdict);
      assert.deepEqual(
        r.inputs.map((i) => [i.side, i.sideEvidence]),
        [
          ['src', 'from its name (src.log); its events cannot tell (no source-only or destination-only events)'],
          ['dst', 'from its name (dst.log); its events cannot tell (no source-only or destination-only events)'],
        ],
      );
    }
  });

  it('in a tree, it is reported beside the racy run, and the racy run decides the exit code (1)', async () => {
    const tree = tmp();
    cpSync(never, join(tree, 'a-never-started'), { recursive: true });
    cpSync(join(ROOT, 'traces/10.0.13/c-postcopy-preempt-pre72-2'), join(tree, 'b-racy'), { recursive: true });
    for (const jobs of ['1', '2']) {
      const { code, report } = await json([tree, '-j', jobs]);
      assert.equal(code, 1);
      assert.deepEqual(report.runs.map((r) => [basename(r.name), r.verdict]), [['a-never-started', 'inconclusive'], ['b-racy', 'findings']]);
    }
  });
});

describe('a tree where one run cannot be read', () => {
  const garbage = () => {
    const d = tmp();
    writeFileSync(join(d, 'src.log'), 'hello\nworld\n');
    writeFileSync(join(d, 'dst.log'), 'garbage\n');
    return d;
  };
  function tree(good: string): string {
    const t = tmp();
    cpSync(join(ROOT, good), join(t, 'a-good'), { recursive: true });
    mkdirSync(join(t, 'b-broken'));
    cpSync(garbage(), join(t, 'b-broken'), { recursive: true });
    return t;
  }
  it('findings elsewhere still decide the exit code (1); the unreadable run is listed as not checked', async () => {
    const r = await cli(['check', tree('traces/10.0.13/c-postcopy-preempt-pre72-2'), '--summary', '-q']);
    assert.equal(r.code, 1);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^✖ FINDINGS +\S+\/a-good {2}error qemufile-concurrent-access \[interleaved\], info preempt-channel-before-main \[compat-mode\]$/);
    assert.match(lines[1]!, /^✖ NOT CHECKED +\S+\/b-broken {2}\S+src\.log:\d+: not a recognised trace/);
    assert.equal(lines[2], 'Summary: 2 runs — 1 with findings, 0 inconclusive, 0 clean, 1 not checked');
  });
  it('beside clean runs only, the unreadable run makes it 2', async () => {
    assert.equal((await cli(['check', tree('traces/10.0.13/c-postcopy-preempt-1'), '-q'])).code, 2);
  });
});
