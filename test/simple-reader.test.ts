// The `simple` reader's record accounting, checked against records counted here independently
// (a framing walk of the file written in the test), in this thread and on a reader thread; and its
// compiled printer (formats/simple-decode.ts) against formatPrintf for every conversion it prints
// itself, over random values.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compileFormat, formatPrintf } from '../src/ingest/formats/printf.js';
import { formatByName, newCounters, type InputCounters, type TraceRecord } from '../src/ingest/trace-input.js';
import { readInWorker } from '../src/ingest/worker-read.js';
import { ROOT } from './helpers.js';

const RUN = join(ROOT, 'traces/10.0.13-selfbuilt/c-postcopy-preempt-compat-simple-1');

interface Counted {
  records: number;
  mappings: number;
  events: Array<{ rec: number; tsNs: bigint; pid: number }>;
  drops: number;
}

/** Every record of a little-endian simple trace, walked here without the reader's code. */
function countRecords(b: Buffer): Counted {
  assert.equal(b.readBigUInt64LE(8), 0xf2b177cb0aa429b4n, 'a little-endian simple trace');
  const out: Counted = { records: 1, mappings: 0, events: [], drops: 0 };
  let o = 24;
  while (o < b.length) {
    const type = b.readBigUInt64LE(o);
    out.records++;
    if (type === 0n) {
      out.mappings++;
      o += 20 + b.readUInt32LE(o + 16);
    } else {
      assert.equal(type, 1n, `record type at byte ${o}`);
      if (b.readBigUInt64LE(o + 8) === 0xfffffffffffffffen) out.drops++;
      else out.events.push({ rec: out.records, tsNs: b.readBigUInt64LE(o + 16), pid: b.readUInt32LE(o + 28) });
      o += 8 + b.readUInt32LE(o + 24);
    }
  }
  assert.equal(o, b.length, 'records end at the end of the file');
  return out;
}

async function readInline(path: string): Promise<{ records: TraceRecord[]; counters: InputCounters }> {
  const counters = newCounters(path);
  const records: TraceRecord[] = [];
  for await (const batch of formatByName('simple').read(path, 0, 'dst', counters, { maxSamples: 10 })) records.push(...batch);
  return { records, counters };
}

async function readThread(path: string): Promise<{ records: TraceRecord[]; counters: InputCounters }> {
  const counters = newCounters(path);
  const records: TraceRecord[] = [];
  for await (const batch of readInWorker({ path, input: 0, side: 'dst', format: 'simple', patterns: [] }, counters, { maxSamples: 10 })) records.push(...batch);
  return { records, counters };
}

function assertAccounting(c: InputCounters, n: Counted, unparsed: number, what: string): void {
  assert.equal(c.events, n.events.length, `${what}: events`);
  assert.equal(c.blank, 1 + n.mappings, `${what}: header and mapping records`);
  assert.equal(c.messages, n.drops, `${what}: dropped-event records`);
  assert.equal(c.unparsed, unparsed, `${what}: unparsed`);
  assert.equal(c.lines, n.records + unparsed, `${what}: every record counted once`);
  assert.equal(c.lines, c.events + c.blank + c.messages + c.unparsed, `${what}: the counts add up`);
}

describe('simple reader: record accounting', () => {
  for (const side of ['src', 'dst'] as const) {
    it(`${side}.simple of the real compat run: events, mappings and unparsed as counted independently, in this thread and on a reader thread`, async () => {
      const path = join(RUN, `${side}.simple`);
      const n = countRecords(readFileSync(path));
      assert.ok(n.mappings > 1000 && n.events.length > 900, 'a real trace with QEMU’s mapping records');
      for (const [what, r] of [
        ['inline', await readInline(path)],
        ['reader thread', await readThread(path)],
      ] as const) {
        assertAccounting(r.counters, n, 0, `${side} ${what}`);
        const evs = r.records.filter((x) => x.kind === 'event');
        assert.deepEqual(
          evs.map((e) => [e.line, e.ts, e.pid]),
          n.events.map((e) => [e.rec, Number(e.tsNs) / 1000, e.pid]),
          `${side} ${what}: each event is its record (number, time, process)`,
        );
      }
    });
  }

  it('a damaged stretch in the middle is one unparsed record; a truncated tail another; nothing else is lost', async () => {
    const b = readFileSync(join(RUN, 'dst.simple'));
    const n = countRecords(b);
    // Cut between two event records in the middle (found by the independent walk) and at the end.
    let o = 24;
    let k = 0;
    let cut = 0;
    while (o < b.length) {
      const len = b.readBigUInt64LE(o) === 0n ? 20 + b.readUInt32LE(o + 16) : 8 + b.readUInt32LE(o + 24);
      if (++k === n.mappings + 5000) cut = o;
      o += len;
    }
    const damaged = Buffer.concat([b.subarray(0, cut), Buffer.alloc(13, 0xab), b.subarray(cut), b.subarray(cut, cut + 20)]);
    const dir = mkdtempSync(join(tmpdir(), 'migtrace-simple-acct-'));
    copyFileSync(join(RUN, 'trace-events-all'), join(dir, 'trace-events-all'));
    writeFileSync(join(dir, 'dst.simple'), damaged);
    for (const [what, r] of [
      ['inline', await readInline(join(dir, 'dst.simple'))],
      ['reader thread', await readThread(join(dir, 'dst.simple'))],
    ] as const) {
      assert.equal(r.counters.events, n.events.length, what);
      assert.equal(r.counters.unparsed, 2, what);
      assert.equal(r.counters.lines, n.records + 2, what);
      assert.equal(r.counters.lines, r.counters.events + r.counters.blank + r.counters.messages + r.counters.unparsed, what);
    }
  });
});

// ---- the compiled printer -----------------------------------------------------------------------

/** A one-event trace with `fmt`'s declaration: mapping 1 = ev, events with the given arguments. */
function trace(args: Array<{ type: string }>, events: Array<Array<bigint | string>>): Buffer {
  const parts: Buffer[] = [];
  const u64 = (v: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt.asUintN(64, v));
    parts.push(b);
  };
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    parts.push(b);
  };
  u64(0xffffffffffffffffn);
  u64(0xf2b177cb0aa429b4n);
  u64(4n);
  u64(0n);
  u64(1n);
  u32(2);
  parts.push(Buffer.from('ev'));
  events.forEach((vals, i) => {
    const payload = vals.map((v, j) => {
      if (args[j]!.type.includes('char')) {
        const s = Buffer.from(v as string, 'utf8');
        const b = Buffer.alloc(4 + s.length);
        b.writeUInt32LE(s.length);
        s.copy(b, 4);
        return b;
      }
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(BigInt.asUintN(64, v as bigint));
      return b;
    });
    u64(1n);
    u64(1n);
    u64(BigInt(1000 * (i + 1)));
    u32(24 + payload.reduce((a, p) => a + p.length, 0));
    u32(77);
    parts.push(...payload);
  });
  return Buffer.concat(parts);
}

const CONVS: Array<[type: string, conv: string]> = [
  ['int', '%d'],
  ['int', '%i'],
  ['int64_t', '%" PRId64 "'],
  ['unsigned', '%u'],
  ['uint64_t', '%" PRIu64 "'],
  ['unsigned', '%x'],
  ['unsigned', '%X'],
  ['uint64_t', '0x%" PRIx64 "'],
  ['unsigned', '%08x'],
  ['uint64_t', '%016" PRIx64 "'],
  ['unsigned', '%02u'],
  ['uint64_t', '%04" PRIu64 "'],
  ['unsigned', '%0200x'], // wider than the record's bytes allow for without the padding counted
  ['void *', '%p'],
  ['const char *', '%s'],
  ['int', '%5d'], // not compiled: formatPrintf prints it, the same way as before
  ['uint8_t', '%hhu'],
];

describe('simple reader: the compiled printer prints what formatPrintf prints', () => {
  it('text longer than the records (wide zero padding) fits: the batch text grows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'migtrace-simple-wide-'));
    writeFileSync(join(dir, 'trace-events-all'), 'ev(unsigned a) "a=%0200x"\n');
    const n = 3000;
    writeFileSync(join(dir, 't.simple'), trace([{ type: 'unsigned' }], Array.from({ length: n }, (_, i) => [BigInt(i)])));
    const want = Array.from({ length: n }, (_, i) => `ev a=${i.toString(16).padStart(200, '0')}`);
    for (const r of [await readInline(join(dir, 't.simple')), await readThread(join(dir, 't.simple'))]) {
      assert.deepEqual(
        r.records.map((e) => (e.kind === 'event' ? e.raw : '')),
        want,
      );
    }
  });

  it('every conversion, random 64-bit values and strings (empty is NULL), in this thread and on a reader thread', async () => {
    const value = fc.oneof(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.constantFrom(0n, 1n, 0xffffffffn, 0x80000000n, 0x1fffffffffffffn, 0x20000000000000n, (1n << 64n) - 1n, 1n << 63n));
    const text = fc.oneof(fc.string({ unit: 'grapheme-ascii', maxLength: 12 }), fc.constantFrom('', 'pc.ram', 'é✓', 'a  '));
    const sample = fc.sample(
      fc.tuple(
        fc.uniqueArray(fc.integer({ min: 0, max: CONVS.length - 1 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.tuple(value, value, value, value, text), { minLength: 1, maxLength: 8 }),
      ),
      { numRuns: 60, seed: 18 },
    );
    for (const [convIdx, rows] of sample) {
      const convs = convIdx.map((i) => CONVS[i]!);
      const decl = `ev(${convs.map(([t], j) => `${t} a${j}`).join(', ')}) "${convs.map(([, c], j) => `a${j}=${c}`).join(' ')}"\n`;
      const fmt = convs.map(([, c], j) => `a${j}=${c.replace(/" PRI([a-z])64 "/, 'l$1')}`).join(' ');
      const vals = rows.map((r) => convs.map(([t], j) => (t.includes('char') ? r[4] : r[j]!)));
      const dir = mkdtempSync(join(tmpdir(), 'migtrace-simple-printf-'));
      writeFileSync(join(dir, 'trace-events-all'), decl);
      writeFileSync(join(dir, 't.simple'), trace(convs.map(([type]) => ({ type })), vals));
      const want = vals.map((v) => `ev ${formatPrintf(compileFormat(fmt), v.map((x) => (typeof x === 'string' ? (x === '' ? '(null)' : x) : x)))}`.trimEnd());
      for (const r of [await readInline(join(dir, 't.simple')), await readThread(join(dir, 't.simple'))]) {
        const evs = r.records.filter((x): x is Extract<TraceRecord, { kind: 'event' }> => x.kind === 'event');
        assert.deepEqual(
          evs.map((e) => e.raw),
          want,
          decl,
        );
        assert.deepEqual(
          evs.map((e) => e.args),
          want.map((w) => w.slice(3)),
          decl,
        );
      }
    }
  });
});
