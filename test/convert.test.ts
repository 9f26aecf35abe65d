// `migtrace convert`: any input → the normalized event stream (csv, jsonl, log), merged in time
// order and filtered; what it writes reads back to the same events, and `check` over it decides
// the same.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { bin, checkJson, cli, ROOT, type CliResult } from './helpers.js';
import { readAll, SELFBUILT } from './helpers-formats.js';
import { evidenceText } from '../src/report/evidence.js';

const RACY = 'traces/10.0.13/c-postcopy-preempt-pre72-2';
const tmp = () => mkdtempSync(join(tmpdir(), 'migtrace-convert-'));
const dataLines = (s: string) => s.split('\n').filter(Boolean);
const runConvert = (args: string[]): Promise<CliResult> => cli(['convert', ...args]);

describe('migtrace convert', () => {
  it('--to log reproduces a log file byte for byte; --to csv/jsonl read back to the same events', async () => {
    const src = join(RACY, 'src.log');
    const log = await runConvert([src, '--to', 'log', '-q']);
    assert.equal(log.code, 0, log.stderr);
    assert.equal(log.stdout, readFileSync(join(ROOT, src), 'utf8'));
    const dir = tmp();
    const original = (await readAll(join(ROOT, src))).map((r) => (r.kind === 'event' ? [r.name, r.args, r.tid, r.ts] : r.kind));
    for (const to of ['csv', 'jsonl']) {
      const out = join(dir, `src.${to}`);
      const r = await runConvert([src, '--to', to, '-o', out]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /src\.log: log, src, 5278 events/);
      const back = (await readAll(out)).map((x) => (x.kind === 'event' ? [x.name, x.args, x.tid, x.ts] : x.kind));
      assert.deepEqual(back, original, to);
    }
  });

  it('merges inputs in time order with the side of each; check over the result gives the same findings', async () => {
    const dir = tmp();
    const out = join(dir, 'both.jsonl');
    const r = await runConvert([join(RACY, 'src.log'), join(RACY, 'dst.log'), '--to', 'jsonl', '-o', out, '-q']);
    assert.equal(r.code, 0, r.stderr);
    const recs = dataLines(readFileSync(out, 'utf8')).map((l) => JSON.parse(l) as { ts: number; side: string });
    assert.equal(recs.length, 21205);
    // Each input keeps its own order (threads may be a few µs apart in it); across inputs, time decides.
    assert.ok(recs.every((x, i) => i === 0 || x.ts >= recs[i - 1]!.ts - 0.001), 'time order');
    const firstDst = recs.findIndex((x) => x.side === 'dst');
    const lastSrc = recs.map((x) => x.side).lastIndexOf('src');
    assert.ok(firstDst < lastSrc, 'interleaved, not concatenated');
    assert.deepEqual([...new Set(recs.map((x) => x.side))].sort(), ['dst', 'src']);
    const orig = (await checkJson(RACY)).report;
    const conv = (await checkJson(out)).report;
    const key = (rep: typeof orig) => rep.runs[0]!.findings.map((f) => `${f.rule}/${evidenceText(f.evidence)}`).sort();
    assert.deepEqual(key(conv), key(orig));
  });

  it('filters: event globs, thread ids, a relative time window, a side', async () => {
    const both = [join(RACY, 'src.log'), join(RACY, 'dst.log')];
    const ev = await runConvert([...both, '--to', 'csv', '--events', 'postcopy_preempt_*,migrate_set_state', '-q']);
    const rows = dataLines(ev.stdout).slice(1).map((l) => l.split(','));
    assert.ok(rows.length > 400);
    assert.ok(rows.every((c) => c[3] === 'migrate_set_state' || c[3]!.startsWith('postcopy_preempt_')));
    const tid = await runConvert([...both, '--to', 'log', '--tid', '22585', '-q']);
    assert.ok(dataLines(tid.stdout).length > 400 && dataLines(tid.stdout).every((l) => l.startsWith('22585@')));
    const win = await runConvert([...both, '--to', 'jsonl', '--from', '+1', '--to-time', '+1.5', '-q']);
    const ts = dataLines(win.stdout).map((l) => (JSON.parse(l) as { ts: number }).ts);
    const first = Number(/@(\d+\.\d+):/.exec(readFileSync(join(ROOT, RACY, 'dst.log'), 'utf8'))![1]);
    assert.ok(ts.length > 0 && ts.every((t) => t >= first + 1 - 1e-6 && t <= first + 1.5 + 1e-6), 'inside the window');
    const side = await runConvert([...both, '--to', 'jsonl', '--side', 'src', '-q']);
    assert.equal(dataLines(side.stdout).length, 5278);
  });

  it('simple → jsonl with the pid; --pid cuts one process out; -o .gz compresses; - reads standard input', async () => {
    const dir = tmp();
    const out = join(dir, 'run.jsonl.gz');
    const r = await runConvert([join(SELFBUILT, 'src.simple'), join(SELFBUILT, 'dst.simple'), '--to', 'jsonl', '-o', out, '-q']);
    assert.equal(r.code, 0, r.stderr);
    const lines = dataLines(gunzipSync(readFileSync(out)).toString('utf8'));
    assert.equal(lines.length, 12429);
    // Standard input is the process's: read by the bin in a child process.
    const one = bin(['convert', '-', '--to', 'csv', '--pid', '8619', '-q'], gunzipSync(readFileSync(out)));
    assert.equal(one.code, 0, one.stderr);
    const rows = dataLines(one.stdout).slice(1);
    assert.equal(rows.length, 1129);
    assert.ok(rows.every((l) => l.split(',')[2] === '8619'));
  });

  it('usage and input errors: exit 2 with the reason', async () => {
    const bad = await runConvert([join(RACY, 'src.log'), '--to', 'csv', '--from', 'yesterday']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--from takes seconds/);
    const missing = await runConvert(['no/such/file', '--to', 'csv']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no\/such\/file: no such file or directory/);
    const to = await runConvert([join(RACY, 'src.log'), '--to', 'xml']);
    assert.equal(to.code, 2);
  });
});

describe('convert to standard output', () => {
  // A pipe takes what its reader has read; the rest waits in the process, and the bin's exit would
  // drop it. A small conversion is one write the stream accepts at once (under its high-water mark):
  // convert must not be done before that write is out.
  it('is done only once every byte reached the stream (a slow pipe loses nothing at exit)', async () => {
    const { Writable } = await import('node:stream');
    const { convert } = await import('../src/convert/convert.js');
    const { loadCatalog } = await import('../src/model/catalog.js');
    let delivered = 0;
    const slow = new Writable({
      write(chunk: Buffer, _enc, cb) {
        setTimeout(() => {
          delivered += chunk.length;
          cb();
        }, 20);
      },
    });
    const { writeOut } = await import('../src/cli/output.js');
    const src = join(ROOT, 'traces/10.0.13/a-precopy-1/src.log');
    // What the convert command hands it: standard output as cli/output.ts writes it.
    const summary = await convert({ inputs: [src], to: 'jsonl', catalog: loadCatalog([]) }, undefined, { write: (t) => writeOut(t, slow), closed: () => false });
    assert.ok(summary.written > 50, `${summary.written} records`);
    assert.equal(slow.writableLength, 0, 'nothing still queued when convert is done');
    assert.ok(delivered > 1000, `${delivered} bytes delivered`);
  });
});
