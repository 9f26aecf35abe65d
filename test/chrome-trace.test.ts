// `convert --to chrome-trace`: the analysed run as Trace Event Format JSON (the Google document
// "Trace Event Format", and Perfetto's notes on its JSON importer). Each output is loaded back and
// held to the format: the JSON Object Format's keys; per phase the required fields (X: dur; i: a
// scope; M: process_name/thread_name with args.name; s/f: id, both ends present, start before
// end, each end inside a complete slice of its thread, which Perfetto binds it to); ts in
// microseconds (checked against the trace line's own sec.usec); complete slices on a thread that
// nest, never overlap in part. Run on real traces with the race, with and without thread ids.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report } from '../src/types.js';
import { cli } from './helpers.js';

interface Ev {
  name: string;
  cat?: string;
  ph: string;
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  s?: string;
  id?: number;
  bp?: string;
  args?: Record<string, unknown>;
}

const RACE_10 = 'traces/10.0.13/c-postcopy-preempt-pre72-2';
const RACE_11_NO_TIDS = 'traces/11.1.3/c-postcopy-preempt-compat-1';
const PHASES = new Set(['X', 'i', 'M', 's', 'f']);
const METADATA = new Set(['process_name', 'process_sort_index', 'thread_name', 'thread_sort_index']);

async function chrome(run: string): Promise<{ doc: { traceEvents: Ev[]; displayTimeUnit: string; otherData: Record<string, unknown> }; stderr: string }> {
  const out = join(mkdtempSync(join(tmpdir(), 'migtrace-chrome-')), 'run.json');
  const r = await cli(['convert', run, '--to', 'chrome-trace', '-o', out]);
  assert.equal(r.code, 0, r.stderr);
  return { doc: JSON.parse(readFileSync(out, 'utf8')), stderr: r.stderr };
}

async function report(run: string): Promise<Report> {
  const r = await cli(['check', run, '-f', 'json', '-q']);
  return JSON.parse(r.stdout) as Report;
}

/** Every structural rule of the format this output relies on; returns the X slices per thread. */
function validate(events: Ev[]): Map<string, Ev[]> {
  const slices = new Map<string, Ev[]>();
  for (const e of events) {
    assert.ok(PHASES.has(e.ph), `phase ${e.ph}`);
    assert.equal(typeof e.name, 'string');
    assert.ok(Number.isInteger(e.pid) && Number.isInteger(e.tid), `pid/tid integers: ${JSON.stringify(e)}`);
    assert.ok(Number.isFinite(e.ts), 'ts a number');
    if (e.ph === 'X') {
      assert.ok(Number.isFinite(e.dur) && e.dur! >= 0, `X has dur >= 0: ${JSON.stringify(e)}`);
      const k = `${e.pid}:${e.tid}`;
      slices.set(k, [...(slices.get(k) ?? []), e]);
    }
    if (e.ph === 'i') assert.ok(['g', 'p', 't'].includes(e.s!), 'instant scope');
    if (e.ph === 'M') {
      assert.ok(METADATA.has(e.name), e.name);
      if (e.name.endsWith('_name')) assert.equal(typeof e.args?.name, 'string');
      else assert.ok(Number.isInteger(e.args?.sort_index));
    }
    if (e.ph === 's' || e.ph === 'f') {
      assert.ok(Number.isInteger(e.id) && typeof e.cat === 'string', 'flow id and cat');
      assert.equal(e.bp, 'e', 'binds to the enclosing slice');
    }
  }
  // Complete slices of one thread nest (Perfetto drops partial overlaps).
  for (const [k, list] of slices) {
    const sorted = [...list].sort((a, b) => a.ts - b.ts || b.dur! - a.dur!);
    const stack: Ev[] = [];
    for (const s of sorted) {
      while (stack.length && stack.at(-1)!.ts + stack.at(-1)!.dur! <= s.ts) stack.pop();
      const top = stack.at(-1);
      assert.ok(!top || s.ts + s.dur! <= top.ts + top.dur!, `${k}: '${s.name}' overlaps '${top?.name}' in part`);
      stack.push(s);
    }
  }
  // Every track that has events is named.
  const named = new Set(events.filter((e) => e.name === 'thread_name').map((e) => `${e.pid}:${e.tid}`));
  const pids = new Set(events.filter((e) => e.name === 'process_name').map((e) => e.pid));
  for (const e of events.filter((x) => x.ph !== 'M')) {
    assert.ok(named.has(`${e.pid}:${e.tid}`), `track ${e.pid}:${e.tid} has a thread_name`);
    assert.ok(pids.has(e.pid), `process ${e.pid} has a process_name`);
  }
  return slices;
}

/** Flows paired: one s and one f per id and name, s not after f, each end inside a slice of its track. */
function flows(events: Ev[], slices: Map<string, Ev[]>): Array<{ s: Ev; f: Ev; from: Ev; to: Ev }> {
  const byId = new Map<number, Ev[]>();
  for (const e of events.filter((x) => x.ph === 's' || x.ph === 'f')) byId.set(e.id!, [...(byId.get(e.id!) ?? []), e]);
  const innermost = (e: Ev): Ev => {
    const around = (slices.get(`${e.pid}:${e.tid}`) ?? []).filter((x) => x.ts <= e.ts && e.ts <= x.ts + x.dur!);
    assert.ok(around.length > 0, `flow end at ${e.ts} on ${e.pid}:${e.tid} lies in a slice`);
    return around.sort((a, b) => a.dur! - b.dur!)[0]!;
  };
  return [...byId.values()].map((pair) => {
    assert.deepEqual(pair.map((e) => e.ph).sort(), ['f', 's'], 'one start and one end');
    const s = pair.find((e) => e.ph === 's')!;
    const f = pair.find((e) => e.ph === 'f')!;
    assert.equal(s.name, f.name);
    assert.equal(s.cat, f.cat);
    assert.ok(s.ts <= f.ts, 'a flow goes forward in time');
    return { s, f, from: innermost(s), to: innermost(f) };
  });
}

/** `TID@sec.usec:` of a trace line, in µs, read from the file itself. */
function lineTimeUs(at: string): number {
  const [file, line] = [at.slice(0, at.lastIndexOf(':')), Number(at.slice(at.lastIndexOf(':') + 1))];
  const text = readFileSync(file, 'utf8').split('\n')[line - 1]!;
  const m = /^\d+@(\d+)\.(\d{6}):/.exec(text);
  assert.ok(m, `${at} has a sec.usec time: ${text}`);
  return Number(m[1]) * 1e6 + Number(m[2]);
}

describe('convert --to chrome-trace', () => {
  test('the 10.0 compat-mode race: a track per thread by TID, the EOS window, the finding with a flow between its two accesses', async () => {
    const [{ doc, stderr }, rep] = await Promise.all([chrome(RACE_10), report(RACE_10)]);
    assert.ok(Array.isArray(doc.traceEvents));
    assert.ok(['ms', 'ns'].includes(doc.displayTimeUnit));
    assert.equal(typeof doc.otherData, 'object');
    const ev = doc.traceEvents;
    const slices = validate(ev);
    const run = rep.runs[0]!;

    // One process per side, one track per thread the analysis identified, by its real TID.
    const names = new Map(ev.filter((e) => e.name === 'thread_name').map((e) => [`${e.pid}:${e.tid}`, String(e.args!.name)]));
    const procNames = new Map(ev.filter((e) => e.name === 'process_name').map((e) => [e.pid, String(e.args!.name)]));
    assert.match(procNames.get(1)!, /source/);
    assert.match(procNames.get(2)!, /destination/);
    for (const t of run.threads.filter((x) => x.tid !== null && x.role !== 'unknown')) {
      const pid = t.side === 'src' ? 1 : 2;
      assert.match(names.get(`${pid}:${t.tid}`) ?? '', new RegExp(`${t.role}.*${t.tid}`), `thread ${t.side} ${t.role} ${t.tid}`);
      assert.ok(slices.get(`${pid}:${t.tid}`)?.some((s) => s.cat === 'thread'), `lifetime slice of ${t.tid}`);
    }

    // The race: the finding's instant on the offending (migration) thread, a flow from the owner's
    // write (earlier) to the EOS (later), each end bound to the access slice of that trace line.
    const race = run.findings.find((f) => f.rule === 'qemufile-concurrent-access')!;
    const [eos, owner] = [race.locations[0]!, race.locations[1]!];
    const inst = ev.find((e) => e.ph === 'i' && e.cat === 'finding' && e.name === `error ${race.rule}`)!;
    assert.ok(inst, 'the finding is an instant');
    assert.equal(inst.tid, eos.tid);
    const pairs = flows(ev, slices);
    const flow = pairs.find((p) => p.s.name === race.rule)!;
    assert.ok(flow, 'a flow for the race');
    assert.equal(flow.from.args!.at, `${owner.file}:${owner.line}`);
    assert.equal(flow.to.args!.at, `${eos.file}:${eos.line}`);
    assert.equal(flow.from.tid, owner.tid);
    assert.equal(flow.to.tid, eos.tid);
    // ts in microseconds: the access slice starts at the trace line's own time.
    assert.equal(flow.to.ts, lineTimeUs(`${eos.file}:${eos.line}`));
    assert.equal(flow.from.ts, lineTimeUs(`${owner.file}:${owner.line}`));
    // The EOS window is a slice of the migration thread that ends at the EOS line.
    const win = slices.get(`1:${eos.tid}`)!.find((s) => s.cat === 'window' && s.args!.kind === 'eos')!;
    assert.ok(win, 'EOS window slice');
    assert.equal(win.ts + win.dur!, flow.to.ts);
    assert.ok(win.ts < flow.from.ts, 'the owner write lies inside the EOS window');
    // Every trace event is there as an instant, none left out silently.
    const instants = ev.filter((e) => e.ph === 'i' && e.cat !== 'finding').length;
    assert.match(String(doc.otherData.events), new RegExp(`^${instants} of ${instants} `));
    assert.match(stderr, new RegExp(`${instants} of ${instants} trace events as instants`));
  });

  test('11.1 without thread ids: tracks per role, the same structure, the race flow between two role tracks', async () => {
    const { doc } = await chrome(RACE_11_NO_TIDS);
    const slices = validate(doc.traceEvents);
    const pairs = flows(doc.traceEvents, slices);
    const race = pairs.find((p) => p.s.name === 'qemufile-concurrent-access');
    assert.ok(race, 'race flow');
    assert.notEqual(race.from.tid, race.to.tid, 'between two threads');
    const names = new Map(doc.traceEvents.filter((e) => e.name === 'thread_name').map((e) => [`${e.pid}:${e.tid}`, String(e.args!.name)]));
    // [after-eos] here: the EOS (migration thread) first, then the owner's write (rp thread).
    assert.match(names.get(`${race.from.pid}:${race.from.tid}`)!, /^migration /);
    assert.match(names.get(`${race.to.pid}:${race.to.tid}`)!, /^rp /);
    assert.match(String(race.from.args!.at), /src\.log:423$/);
  });

  test('per-thread files: each thread its track by the TID in its file name', async () => {
    const { doc } = await chrome('traces/11.1.3/pt-cap-postcopy-preempt-compat-1');
    const slices = validate(doc.traceEvents);
    const names = doc.traceEvents.filter((e) => e.name === 'thread_name').map((e) => String(e.args!.name));
    assert.ok(!names.some((n) => /no TID/.test(n)), names.join(', '));
    const race = flows(doc.traceEvents, slices).find((p) => p.s.name === 'qemufile-concurrent-access')!;
    assert.ok(race, 'race flow');
    // The TIDs are the numbers of the files the two accesses are in.
    for (const end of [race.from, race.to]) assert.equal(end.tid, Number(/t-(\d+)\.log:\d+$/.exec(String(end.args!.at))![1]));
  });

  test('filters that do not apply, standard input, and a folder of runs: exit 2, one line', async () => {
    for (const args of [
      ['convert', RACE_10, '--to', 'chrome-trace', '--events', 'postcopy_*'],
      ['convert', 'traces/10.0.13', '--to', 'chrome-trace'],
    ]) {
      const r = await cli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /^migtrace: error: /);
    }
  });
});
