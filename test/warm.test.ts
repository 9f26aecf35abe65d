// The bin starts reader threads before it loads the CLI (src/cli/warm.ts), sized from the files the
// command line names: checked here on sparse files (their size without the disk).
import assert from 'node:assert/strict';
import { closeSync, ftruncateSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { chooseWorkerInputs } from '../src/ingest/worker-read.js';
import { namedSizes } from '../src/cli/warm.js';
import { tempRun } from './helpers.js';

const MiB = 1048576;

function sparse(path: string, bytes: number): void {
  const fd = openSync(path, 'w');
  ftruncateSync(fd, bytes);
  closeSync(fd);
}

describe('reader threads started ahead by the bin', () => {
  it('counts the files named and those in a folder named (one level); a .gz at four times its size', () => {
    const dir = tempRun({ 'note.txt': 'x' });
    sparse(join(dir, 'src.log'), 16 * MiB);
    sparse(join(dir, 'dst.log.gz'), 30 * MiB);
    mkdirSync(join(dir, 'deeper'));
    sparse(join(dir, 'deeper', 'big.log'), 500 * MiB);
    const sizes = namedSizes(['check', dir, '-f', 'json']);
    assert.deepEqual([...sizes.map((s) => s.bytes)].sort((a, b) => a - b), [0, 1, 16 * MiB, 120 * MiB], 'the sub-folder counts 0, the .gz 4x, options and the command are no paths');
    assert.deepEqual(sizes.filter((s) => s.gzip).map((s) => s.bytes), [120 * MiB], 'a .gz is known by its name');
    const warm = (s: typeof sizes) => chooseWorkerInputs(s.map((x) => x.bytes), 'auto', 1, (i) => s[i]!.gzip).size;
    assert.equal(warm(sizes), 1, 'the destination only: a plain source is read on the replay thread');
  });
  it('starts a thread for a gzip companion (its lines become strings if read on the replay thread)', () => {
    const dir = tempRun({});
    sparse(join(dir, 'src.log.gz'), 4 * MiB);
    sparse(join(dir, 'dst.log.gz'), 30 * MiB);
    const sizes = namedSizes(['check', dir]);
    assert.equal(chooseWorkerInputs(sizes.map((x) => x.bytes), 'auto', 1, (i) => sizes[i]!.gzip).size, 2);
  });
  it('names files directly too, and ignores what is not there', () => {
    const dir = tempRun({});
    sparse(join(dir, 's'), 200 * MiB);
    writeFileSync(join(dir, 'd'), 'small');
    assert.deepEqual(namedSizes(['check', '--src', join(dir, 's'), '--dst', join(dir, 'd'), join(dir, 'missing')]).map((s) => s.bytes), [200 * MiB, 5]);
  });
  it('starts none for a simple trace: its reader thread gets a smaller heap once its input is known', () => {
    const dir = tempRun({});
    const p = join(dir, 'trace-1234');
    sparse(p, 300 * MiB);
    const fd = openSync(p, 'r+');
    writeSync(fd, Buffer.alloc(8, 0xff), 0, 8, 0);
    closeSync(fd);
    assert.deepEqual(namedSizes(['check', p]), [{ bytes: 0, gzip: false }]);
  });
});
