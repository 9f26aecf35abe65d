// How much trace an input holds (bytes.ts traceBytesEstimate), which decides whether it gets a
// reader thread: a gzip file counts as what its trailer says it holds, never less than four times
// its size; a plain file as its size.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { traceBytesEstimate } from '../src/ingest/bytes.js';
import { ROOT } from './helpers.js';

describe('traceBytesEstimate', () => {
  it('gzip: the uncompressed size from the trailer (a real log compresses far more than 4x); plain: the size', async () => {
    const log = readFileSync(join(ROOT, 'traces/10.0.13/c-postcopy-preempt-pre72-2/dst.log'));
    const d = mkdtempSync(join(tmpdir(), 'migtrace-size-'));
    const gz = join(d, 'dst.log.gz');
    writeFileSync(gz, gzipSync(log));
    const size = statSync(gz).size;
    assert.ok(log.length > 5 * size, 'the real log compresses more than 5x');
    assert.equal(await traceBytesEstimate(gz, size), log.length);
    assert.equal(await traceBytesEstimate(join(ROOT, 'traces/10.0.13/c-postcopy-preempt-pre72-2/dst.log'), log.length), log.length);
    // Two members (concatenated gzip): the trailer holds only the last one's size; four times the size is the floor.
    const two = join(d, 'two.gz');
    writeFileSync(two, Buffer.concat([gzipSync(log), gzipSync(Buffer.from('x\n'))]));
    assert.equal(await traceBytesEstimate(two, statSync(two).size), statSync(two).size * 4);
  });
});
