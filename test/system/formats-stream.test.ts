// A system test (npm run test:system), for its size. Streaming: a generated ~200 MB trace is
// piped into a child process that reads it from standard input exactly as `check -` would
// (detection and side inference on the kept head, then the whole stream), sampling
// process.memoryUsage().rss. Memory must not grow with the input.
// Bigger or other inputs (a bench, not a test):
//   MIGTRACE_STREAM_MB=2000 MIGTRACE_STREAM_FORMAT=simple node --test dist/test/system/formats-stream.test.js
// (formats: log, simple, jsonl; simple repeats the self-built run's binary records).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers.js';
import { SELFBUILT } from '../helpers-formats.js';

const MB = Number(process.env.MIGTRACE_STREAM_MB ?? 200);
const FORMAT = process.env.MIGTRACE_STREAM_FORMAT ?? 'log';
const RSS_GROWTH_LIMIT = 64 << 20;

/** A head to send once and a body repeated until the size is reached, and events per body. */
function material(): { head: Buffer; body: Buffer; perBody: number } {
  if (FORMAT === 'simple') {
    const b = readFileSync(join(ROOT, SELFBUILT, 'dst.simple'));
    let o = 24;
    while (b.readUInt32LE(o) === 0) o += 20 + b.readUInt32LE(o + 16); // header and mappings
    let n = 0;
    for (let p = o; p < b.length; p += 8 + b.readUInt32LE(p + 24)) n++;
    return { head: b.subarray(0, o), body: b.subarray(o), perBody: n };
  }
  const log = readFileSync(join(ROOT, 'traces/10.0.13/c-postcopy-preempt-2/dst.log'));
  if (FORMAT === 'jsonl') {
    const lines = log
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const m = /^(\d+)@(\d+\.\d+):(\w+) ?(.*)$/.exec(l)!;
        return JSON.stringify({ ts: Number(m[2]), tid: Number(m[1]), event: m[3], args: m[4] });
      });
    return { head: Buffer.alloc(0), body: Buffer.from(`${lines.join('\n')}\n`), perBody: lines.length };
  }
  return { head: Buffer.alloc(0), body: log, perBody: log.toString('utf8').split('\n').filter(Boolean).length };
}

const CHILD = `
import { detectFormat, newCounters, withFormatOptions } from ${JSON.stringify(join(ROOT, 'dist/src/ingest/trace-input.js'))};
import { inferSide } from ${JSON.stringify(join(ROOT, 'dist/src/assembly/sides.js'))};
import { loadCatalog } from ${JSON.stringify(join(ROOT, 'dist/src/model/catalog.js'))};
const f = withFormatOptions(await detectFormat('-'), { traceEvents: ${JSON.stringify(join(ROOT, SELFBUILT, 'trace-events-all'))} });
const side = await inferSide('-', f, loadCatalog([]));
const c = newCounters('-');
let base = 0, max = 0;
for await (const b of f.read('-', 0, side.side, c, { maxSamples: 0 })) {
  const rss = process.memoryUsage().rss;
  if (!base && c.bytes >= 32 << 20) base = rss;
  if (rss > max) max = rss;
}
console.log(JSON.stringify({ format: f.name, side: side.side, events: c.events, bytes: c.bytes, base, max }));
`;

describe('streaming', () => {
  it(`reads a ${MB} MB ${FORMAT} trace from standard input with bounded memory`, async () => {
    const { head, body, perBody } = material();
    const reps = Math.ceil((MB * 1048576) / body.length);
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
    const t0 = Date.now();
    child.stdin.on('error', () => {}); // reported through the exit code
    if (head.length) child.stdin.write(head);
    for (let i = 0; i < reps; i++) {
      if (!child.stdin.write(body)) await new Promise((r) => child.stdin.once('drain', r));
    }
    child.stdin.end();
    const code = await exited;
    assert.equal(code, 0, err);
    const r = JSON.parse(out) as { format: string; side: string; events: number; bytes: number; base: number; max: number };
    const secs = (Date.now() - t0) / 1000;
    process.stderr.write(`# ${FORMAT}: ${(r.bytes / 1048576).toFixed(0)} MiB in ${secs.toFixed(1)} s, rss ${(r.base / 1048576).toFixed(0)} → max ${(r.max / 1048576).toFixed(0)} MiB\n`);
    assert.equal(r.format, FORMAT);
    assert.equal(r.side, 'dst');
    assert.equal(r.events, perBody * reps, 'every event read');
    assert.equal(r.bytes, head.length + body.length * reps);
    assert.ok(r.base > 0);
    assert.ok(r.max - r.base < RSS_GROWTH_LIMIT, `rss grew by ${((r.max - r.base) / 1048576).toFixed(0)} MiB while streaming (limit ${RSS_GROWTH_LIMIT >> 20} MiB)`);
  });
});
