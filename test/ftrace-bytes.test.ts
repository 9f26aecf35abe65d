// ftrace lines scanned as bytes (formats/ftrace.ts scanFtraceBytes, the replay's reads) give the
// same events as the regex and parseInto (the reads that show every field): real QEMU runs written
// as tracefs prints them, the shapes of the format's own tests, and those lines with random bytes
// put in at random places (spaces, dashes, digits, brackets, CR, vertical tab, ESC, non-ASCII).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatByName, newCounters, type InputCounters, type TraceRecord } from '../src/ingest/trace-input.js';
import { readInWorker } from '../src/ingest/worker-read.js';
import { ftraceFile } from '../bench/variants.js';
import { ROOT } from './helpers.js';
import { FTRACE_SHAPES } from './helpers-formats.js';

type Ev = Extract<TraceRecord, { kind: 'event' }>;

async function readAll(path: string, textLater: boolean): Promise<{ records: TraceRecord[]; counters: InputCounters }> {
  const counters = newCounters(path);
  const records: TraceRecord[] = [];
  for await (const b of formatByName('ftrace').read(path, 0, 'src', counters, { maxSamples: 1000, textLater })) records.push(...b);
  return { records, counters };
}

async function readThread(path: string): Promise<{ records: TraceRecord[]; counters: InputCounters }> {
  const counters = newCounters(path);
  const records: TraceRecord[] = [];
  for await (const b of readInWorker({ path, input: 0, side: 'src', format: 'ftrace', patterns: [] }, counters, { maxSamples: 1000 })) records.push(...b);
  return { records, counters };
}

/**
 * What the replay uses of a record (the thread name and TGID it does not). A line left in the file
 * (raw '', at its offset) counts as the line there, and must read back as its own event
 * (TraceFormat.lineEvent, as replay/read-back.ts checks it).
 */
function keyOf(path: string): (r: TraceRecord) => unknown[] {
  const bytes = readFileSync(path);
  const lineEvent = formatByName('ftrace').lineEvent!;
  return (r) => {
    if (r.kind !== 'event') return ['message', r.text, r.program, r.ts, r.line, r.dropped ?? 0];
    let raw = r.raw;
    if (raw === '' && r.at !== undefined && r.at >= 0) {
      const nl = bytes.indexOf(10, r.at);
      raw = bytes.toString('utf8', r.at, nl < 0 ? bytes.length : nl).replace(/\r$/, '');
      assert.deepEqual(lineEvent(raw), { name: r.name, tid: r.tid }, `read back at ${r.at}: ${raw}`);
    }
    return ['event', r.name, r.args, r.tid, r.ts, r.line, raw, r.side];
  };
}

async function assertSame(path: string, what: string): Promise<number> {
  const full = await readAll(path, false);
  const key = keyOf(path);
  for (const other of [await readAll(path, true), await readThread(path)]) {
    assert.ok(other.records.some((r) => r.kind === 'event' && r.raw === ''), `${what}: lines left in the file`);
    assert.deepEqual(other.records.map(key), full.records.map(key), what);
    const { notes: n1, bytes: _b1, ...c1 } = other.counters;
    const { notes: n2, bytes: _b2, ...c2 } = full.counters;
    assert.deepEqual([c1, n1], [c2, n2], `${what}: counters`);
  }
  return full.records.filter((r): r is Ev => r.kind === 'event').length;
}

const SHAPES = [
  ...FTRACE_SHAPES,
  'a-1-2 [000] 1.2: tracing_mark_write: x_y a',
  'a-1 [000] 1.23 456.789: tracing_mark_write: x_y a',
  'a-1 [000] ..... 12345678901234567.5: tracing_mark_write: x_y a',
  'a-1 [000] .....\t1.000000001:\ttracing_mark_write:\tx_y\targs\t',
  'a-1 [000] ..... 1.5: tracing_mark_write:  x_y two spaces',
  'a-1 [000] ..... 1.5: tracing_mark_write:x_y no space',
  'a-1 [000] ..... 1.5: tracing_mark_write: xy no underscore',
  'é-1 [000] ..... 1.5: tracing_mark_write: x_y comm not ascii',
];

describe('ftrace: the byte path gives what the regex gives', () => {
  it('real QEMU 10.0.13 runs as tracefs prints them (both processes)', async () => {
    const d = mkdtempSync(join(tmpdir(), 'migtrace-ftrace-bytes-'));
    let events = 0;
    for (const side of ['src', 'dst']) {
      const out = join(d, `${side}.ftrace`);
      await ftraceFile(join(ROOT, `traces/10.0.13/c-postcopy-preempt-pre72-2/${side}.log`), out, 4242);
      events += await assertSame(out, side);
    }
    assert.ok(events > 5000);
  });

  it('the format’s shapes, and random bytes put into them', async () => {
    const d = mkdtempSync(join(tmpdir(), 'migtrace-ftrace-bytes-'));
    const real = readFileSync(join(ROOT, 'traces/10.0.13/c-postcopy-preempt-pre72-2/src.log'), 'utf8').split('\n').slice(0, 40);
    const marked = real.map((l, i) => l.replace(/^(\d+)@(\d+\.\d+):/, (_, tid: string, ts: string) => `${`qemu-${tid}`.padStart(22)} (   4242) [00${i % 2}] ..... ${ts}: tracing_mark_write: `));
    const base = [...SHAPES, ...marked];
    const junk = fc.constantFrom(' ', '\t', '-', '7', '[', ']', '(', ')', ':', '.', '#', 'x', '_', '\v', '\r', '\x1b', 'é', '-12 ');
    const edits = fc.sample(fc.array(fc.tuple(fc.nat(base.length - 1), fc.nat(200), junk), { minLength: 1, maxLength: 3 }), { numRuns: 300, seed: 6 });
    const lines = [...base];
    for (const e of edits) {
      let l = base[e[0]![0]]!;
      for (const [, at, s] of e) {
        const p = at % (l.length + 1);
        l = l.slice(0, p) + s + l.slice(p);
      }
      lines.push(l);
    }
    const p = join(d, 'mixed.ftrace');
    writeFileSync(p, `${lines.join('\n')}\n`);
    const events = await assertSame(p, 'mixed');
    assert.ok(events > 100, `${events} events`);
  });
});
