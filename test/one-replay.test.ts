// One replay: `check --html` and `timeline` read each input once (the timeline and the HTML
// payload watch the replay that the rules run on), and a per-thread run keeps its threads on the
// timeline. The reads are counted at the file-system layer: every byte read from a file, by path.
import assert from 'node:assert/strict';
import fs, { readFileSync, readlinkSync, statSync } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { cli, ROOT, tempRun } from './helpers.js';

const RACY = join(ROOT, 'traces/10.0.13/c-postcopy-preempt-pre72-2');
const PER_THREAD = join(ROOT, 'traces/11.1.3/pt-cap-postcopy-preempt-compat-2');

/** Bytes read from each file while `fn` runs (FileHandle.read, fs.read, which file streams use, and fs.readSync). */
async function bytesReadBy(fn: () => Promise<unknown>): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const count = (fd: number, n: number) => {
    if (!(n > 0)) return;
    let path: string;
    try {
      path = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return;
    }
    counts.set(path, (counts.get(path) ?? 0) + n);
  };
  const fh = await openFile(join(RACY, 'src.log'), 'r');
  const proto = Object.getPrototypeOf(fh) as { read: (...a: unknown[]) => Promise<{ bytesRead: number }> };
  await fh.close();
  const fhRead = proto.read;
  const fsRead = fs.read;
  proto.read = async function (this: { fd: number }, ...a: unknown[]) {
    const r = await fhRead.apply(this, a);
    count(this.fd, r.bytesRead);
    return r;
  };
  (fs as { read: unknown }).read = function (fd: number, ...rest: unknown[]) {
    const cb = rest[rest.length - 1] as (e: Error | null, n: number, b: Buffer) => void;
    return (fsRead as (...a: unknown[]) => void)(fd, ...rest.slice(0, -1), (e: Error | null, n: number, b: Buffer) => {
      count(fd, n);
      cb(e, n, b);
    });
  };
  const fsReadSync = fs.readSync;
  (fs as { readSync: unknown }).readSync = function (fd: number, ...rest: unknown[]) {
    const n = (fsReadSync as (...a: unknown[]) => number)(fd, ...rest);
    count(fd, n);
    return n;
  };
  syncBuiltinESMExports(); // `import { readSync } from 'node:fs'` sees the counting one
  try {
    await fn();
  } finally {
    proto.read = fhRead;
    (fs as { read: unknown }).read = fsRead;
    (fs as { readSync: unknown }).readSync = fsReadSync;
    syncBuiltinESMExports();
  }
  return counts;
}

describe('one replay: each input is read once', () => {
  const inputs = ['src.log', 'dst.log'].map((f) => join(RACY, f));
  const size = (p: string) => statSync(p).size;
  let check: Map<string, number>;
  let html: Map<string, number>;
  let timeline: Map<string, number>;
  const out = tempRun({});
  before(async () => {
    // These inputs are small enough to be read on this thread (no reader threads), where reads are counted.
    check = await bytesReadBy(() => cli(['check', RACY, '-q']));
    html = await bytesReadBy(() => cli(['check', RACY, '-q', '--html', join(out, 'r.html')]));
    timeline = await bytesReadBy(() => cli(['timeline', RACY, '-q', '--html', join(out, 't.html')]));
  });
  it('check reads each input whole once, beside the assembly stage\'s bounded head scan', () => {
    for (const p of inputs) {
      const n = check.get(p) ?? 0;
      assert.ok(n >= size(p), `${p}: ${n} bytes read, smaller than the file (${size(p)})`);
    }
  });
  // A second pass over the inputs (what the timeline and the HTML report did before they watched
  // the replay) reads each file whole once more: check + its size.
  it('check --html reads no more than check: the HTML timeline watched the same replay', () => {
    for (const p of inputs) {
      const n = html.get(p) ?? 0;
      assert.ok(n <= (check.get(p) ?? 0) + 0.05 * size(p), `${p}: check --html read ${n} bytes, check ${check.get(p)}, the file is ${size(p)}`);
    }
    assert.match(readFileSync(join(out, 'r.html'), 'utf8'), /class="run-data"/);
  });
  it('timeline --html reads no more than check either', () => {
    for (const p of inputs) {
      const n = timeline.get(p) ?? 0;
      assert.ok(n <= (check.get(p) ?? 0) + 0.05 * size(p), `${p}: timeline --html read ${n} bytes, check ${check.get(p)}, the file is ${size(p)}`);
    }
  });
});

describe('one replay: per-thread logs keep their threads on the timeline', () => {
  it('the lanes name the real TIDs and roles of a QEMU 11.1.3 run logged with -d tid (one file per thread)', async () => {
    const r = await cli(['timeline', PER_THREAD, '-q', '--width', '100']);
    assert.equal(r.code, 0, r.stderr);
    // TIDs are the numbers in the file names; roles come from the events each thread logged.
    assert.match(r.stdout, /^src +A main 28585 +B mig 28606 +C rp 28604$/m);
    assert.match(r.stdout, /^dst +D main 28584 +E lis 28698 +F flt 28696 +G pre 28697$/m);
    assert.doesNotMatch(r.stdout, /all threads \(no TIDs\)/);
    // The windows sit on the lanes of the threads that ran them (the migration thread's EOS window).
    assert.match(r.stdout, /EOS window B \+3\.163761…\+3\.163869 ✖/);
    assert.match(r.stdout, /postcopy_qemufile_src +owner C rp 28604/);
  });
  it('the HTML payload has the same lanes', async () => {
    const file = join(tempRun({}), 'pt.html');
    const r = await cli(['check', PER_THREAD, '-q', '--html', file]);
    assert.equal(r.code, 1, 'the compat-mode race of 11.1.3');
    const m = /<script type="application\/json" class="run-data">([\s\S]*?)<\/script>/.exec(readFileSync(file, 'utf8'));
    const lanes = (JSON.parse(m![1] as string) as { lanes: Array<{ label: string }> }).lanes.map((l) => l.label);
    assert.deepEqual(lanes.slice(0, 7), ['main 28585', 'migration 28606', 'rp 28604', 'main 28584', 'listen 28698', 'fault 28696', 'preempt 28697']);
  });
});

describe('one replay: check --html on worker threads', () => {
  it('each worker collects its run’s timeline from its replay: the same report as on one thread', async () => {
    const runs = [RACY, PER_THREAD];
    const dir = tempRun({});
    const one = await cli(['check', ...runs, '-q', '-j', '1', '--html', join(dir, 'one.html')]);
    const two = await cli(['check', ...runs, '-q', '-j', '2', '--html', join(dir, 'two.html')]);
    assert.equal(one.code, 1);
    assert.equal(two.code, 1);
    const html = readFileSync(join(dir, 'two.html'), 'utf8');
    assert.equal((html.match(/class="run-data"/g) ?? []).length, 2);
    assert.equal(html, readFileSync(join(dir, 'one.html'), 'utf8'));
  });
});
