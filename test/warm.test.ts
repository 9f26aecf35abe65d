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
    assert.deepEqual([...sizes].sort((a, b) => a - b), [0, 1, 16 * MiB, 120 * MiB], 'the sub-folder counts 0, the .gz 4x, options and the command are no paths');
    assert.equal(chooseWorkerInputs(sizes, 'auto', 1).size, 1, 'the destination only');
  });
  it('names files directly too, and ignores what is not there', () => {
    const dir = tempRun({});
    sparse(join(dir, 's'), 200 * MiB);
    writeFileSync(join(dir, 'd'), 'small');
    assert.deepEqual(namedSizes(['check', '--src', join(dir, 's'), '--dst', join(dir, 'd'), join(dir, 'missing')]), [200 * MiB, 5]);
  });
  it('starts none for a simple trace: its reader thread gets a smaller heap once its input is known', () => {
    const dir = tempRun({});
    const p = join(dir, 'trace-1234');
    sparse(p, 300 * MiB);
    const fd = openSync(p, 'r+');
    writeSync(fd, Buffer.alloc(8, 0xff), 0, 8, 0);
    closeSync(fd);
    assert.deepEqual(namedSizes(['check', p]), [0]);
  });
});
