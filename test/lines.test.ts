import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitLines } from '../src/ingest/lines.js';

async function collect(chunks: Array<string | Buffer>, maxLineBytes?: number) {
  async function* src() {
    for (const c of chunks) yield typeof c === 'string' ? Buffer.from(c) : c;
  }
  const lines: string[] = [];
  const overlong: number[] = [];
  for await (const b of splitLines(src(), { maxLineBytes, batchLines: 2 })) {
    assert.equal(b.firstLine, lines.length + 1);
    lines.push(...b.lines);
    overlong.push(...b.overlong);
  }
  return { lines, overlong };
}

describe('splitLines', () => {
  it('splits across chunk boundaries and strips CR', async () => {
    const r = await collect(['a\r\nb', 'c\n', 'd']);
    assert.deepEqual(r.lines, ['a', 'bc', 'd']);
  });
  it('cuts overlong lines instead of buffering them, and counts them', async () => {
    const r = await collect(['x'.repeat(10), 'y'.repeat(10), '\nok\n'], 8);
    assert.deepEqual(r.lines, ['xxxxxxxx', 'ok']);
    assert.deepEqual(r.overlong, [1]);
  });
  it('never throws on invalid UTF-8', async () => {
    const r = await collect([Buffer.from([0x66, 0xff, 0xfe, 0x00, 0x0a, 0x67])]);
    assert.equal(r.lines.length, 2);
    assert.equal(r.lines[1], 'g');
  });
  it('yields nothing for an empty input', async () => {
    assert.deepEqual((await collect([])).lines, []);
  });
});
