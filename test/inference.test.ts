// Role, version and mode inference on real traces (§A.2, §G.1, §D.0).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadCatalog } from '../src/model/catalog.js';
import { analyzeRun } from '../src/replay/run.js';
import { RULES } from '../src/rules/index.js';
import type { RunResult } from '../src/types.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { makeTrace } from '../bench/make-trace.js';
import { ROOT, tempRun } from './helpers.js';

const catalog = loadCatalog();
const cache = new Map<string, Promise<RunResult>>();
function run(name: string, sides = true): Promise<RunResult> {
  const key = `${name}|${sides}`;
  if (!cache.has(key)) {
    const dir = join(ROOT, 'traces', name);
    const inputs = sides ? [{ path: join(dir, 'src.log'), side: 'src' as const }, { path: join(dir, 'dst.log'), side: 'dst' as const }] : [{ path: join(dir, 'dst.log') }, { path: join(dir, 'src.log') }];
    cache.set(key, analyzeRun({ name, inputs }, { rules: RULES, catalog, stuckAfterMs: 1000, maxUnparsedSamples: 5 }));
  }
  return cache.get(key)!;
}
const role = (r: RunResult, side: string, tid: number) => r.threads.find((t) => t.side === side && t.tid === tid)?.role;

describe('side inference', () => {
  it('tells source from destination by their exclusive events, whatever the argument order', async () => {
    const r = await run('10.0.13/c-postcopy-preempt-1', false);
    assert.equal(r.inputs[0]!.side, 'dst');
    assert.equal(r.inputs[1]!.side, 'src');
    assert.match(r.inputs[0]!.sideEvidence, /destination-only events/);
  });
});

describe('thread roles from anchor events (§A.2)', () => {
  it('10.0 pre72-2: TIDs match the /proc comm names in meta.json', async () => {
    const r = await run('10.0.13/c-postcopy-preempt-pre72-2');
    assert.equal(role(r, 'src', 22585), 'rp'); // mig/src/return
    assert.equal(role(r, 'src', 22587), 'migration'); // mig/src/main
    assert.equal(role(r, 'dst', 22588), 'fault'); // mig/dst/fault
    assert.equal(role(r, 'dst', 22589), 'preempt'); // mig/dst/preempt
    assert.equal(role(r, 'dst', 22590), 'listen'); // mig/dst/listen
  });
  it('a recovered 10.0 source has two return-path threads (new TID on resume, §A.2 item 4)', async () => {
    const r = await run('10.0.13/d-preempt-pause-recover-1');
    assert.deepEqual(r.threads.filter((t) => t.side === 'src' && t.role === 'rp').map((t) => t.tid), [22707, 22714]);
  });
  it('a recovered 7.2 source keeps one return-path thread', async () => {
    const r = await run('7.2.22/d-preempt-pause-recover-1');
    assert.equal(r.threads.filter((t) => t.side === 'src' && t.role === 'rp').length, 1);
  });
});

describe('version and mode (§G.1, §D.0)', () => {
  it('7.2: source <=7.2, migration-thread writer model, not compat', async () => {
    const r = await run('7.2.22/c-postcopy-preempt-1');
    assert.equal(r.qemu.src.range, '<=7.2');
    assert.equal(r.qemu.src.writerModel, 'migration-thread (<=7.2)');
    assert.deepEqual([r.mode.postcopy, r.mode.preempt, r.mode.compatPre72], [true, true, false]);
  });
  it('10.0 default: >=10.0, return-path writer, new mode, cleanup on the listen thread', async () => {
    const r = await run('10.0.13/c-postcopy-preempt-1');
    assert.equal(r.qemu.src.range, '>=10.0');
    assert.equal(r.qemu.src.writerModel, 'return-path-thread (>=8.0)');
    assert.equal(r.qemu.dst.cleanupThread, 'listen');
    assert.equal(r.mode.compatPre72, false);
  });
  it('10.0 with x-preempt-pre-7-2: compat mode, with the evidence named', async () => {
    const r = await run('10.0.13/c-postcopy-preempt-pre72-1');
    assert.equal(r.mode.compatPre72, true);
    assert.ok(r.mode.evidence.some((e) => /during setup, before the migration went active/.test(e.claim) && e.file?.endsWith('src.log')));
    assert.ok(r.mode.evidence.some((e) => /EOS received/.test(e.claim)));
  });
  it('postcopy without preempt', async () => {
    const r = await run('10.0.13/b-postcopy-1');
    assert.deepEqual([r.mode.postcopy, r.mode.preempt], [true, false]);
  });
  it('precopy: no postcopy', async () => {
    const r = await run('7.2.22/a-precopy-1');
    assert.equal(r.mode.postcopy, false);
  });
});

describe('episodes: each migration of a trace is judged on its own threads', () => {
  it('a precopy migration followed by a postcopy one: the first does not borrow the second\'s return-path thread', async () => {
    const a = join(ROOT, 'traces/10.0.13/a-precopy-1');
    const c = join(ROOT, 'traces/10.0.13/c-postcopy-preempt-pre72-2');
    const cat = (f: string) => Buffer.concat([readFileSync(join(a, f)), readFileSync(join(c, f))]);
    const dir = tempRun({ 'src.log': cat('src.log'), 'dst.log': cat('dst.log') });
    const r = await analyzeRun({ name: 'two', inputs: [{ path: join(dir, 'src.log'), side: 'src' }, { path: join(dir, 'dst.log'), side: 'dst' }] }, { rules: RULES, catalog: loadCatalog(), stuckAfterMs: 1000, maxUnparsedSamples: 20 });
    assert.equal(r.episodes?.length, 2);
    const [e1, e2] = r.episodes!;
    assert.ok(e1!.notApplicable.some((n) => n.rule === 'qemufile-nonowner-close' && /no source return-path thread/.test(n.reason)), JSON.stringify(e1!.notApplicable));
    assert.ok(!e2!.notApplicable.some((n) => n.rule === 'qemufile-nonowner-close'));
    assert.ok(!e1!.threads.some((t) => t.role === 'rp'));
    assert.deepEqual(e2!.threads.filter((t) => t.side === 'src' && t.role === 'rp').map((t) => t.tid), [22585]);
    assert.ok(e1!.threads.every((t) => !e2!.threads.some((u) => u.side === t.side && u.tid === t.tid)), 'no thread listed in both');
    assert.ok(r.findings.some((f) => f.rule === 'qemufile-concurrent-access' && f.episode === 2), 'the race is still found in the second');
  });
});

describe('a trace of many migrations: older ones are judged early, with the same result', () => {
  it('judging each migration once one later one has begun changes nothing but the note that says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'migtrace-many-'));
    const made = await makeTrace(join(ROOT, 'traces/10.0.13'), dir, 6 * 1048576);
    assert.ok(made.repetitions >= 5, `${made.repetitions} migrations`);
    const spec = { name: 'many', inputs: [{ path: made.src, side: 'src' as const }, { path: made.dst, side: 'dst' as const }] };
    const opts = { rules: RULES, catalog: loadCatalog(), stuckAfterMs: 1000, maxUnparsedSamples: 20 };
    const atEnd = await analyzeRun(spec, opts);
    const early = await analyzeRun(spec, { ...opts, keepOpen: 1 });
    assert.equal(atEnd.episodes?.length, made.repetitions);
    const note = early.dataQuality.notes.find((n) => n.startsWith('to keep memory bounded'));
    assert.match(note ?? '', new RegExp(`first ${made.repetitions - 1} migrations was judged once 1 later ones`));
    early.dataQuality.notes = early.dataQuality.notes.filter((n) => n !== note);
    assert.equal(JSON.stringify(early), JSON.stringify(atEnd));
    assert.ok(atEnd.findings.length > 0, 'the racy runs among them are found');
  });
});
