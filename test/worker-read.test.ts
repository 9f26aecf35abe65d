// Parsing on a worker thread (ingest/read-worker.ts) must be invisible in the result: the codec
// rebuilds every record field for field, and a run analysed with its inputs read on worker threads
// gives the same RunResult, to the byte, as reading them in the main thread.
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { resolveRuns } from '../src/assembly/folders.js';
import { RecordDecoder, RecordEncoder } from '../src/ingest/record-codec.js';
import { readLinesAt } from '../src/ingest/read-back.js';
import { chooseWorkerInputs } from '../src/ingest/worker-read.js';
import type { TraceRecord } from '../src/ingest/records.js';
import { InputError, newCounters } from '../src/ingest/records.js';
import { argsUse, loadCatalog, matchersOf, patternsOf, rowsFor, rowsForMask } from '../src/model/catalog.js';
import { LOG_FORMAT } from '../src/ingest/formats/log.js';
import { analyzeRun, type RunSpec } from '../src/replay/run.js';
import { RULES } from '../src/rules/index.js';
import { inlineAndOnThreads, ROOT, tempRun } from './helpers.js';

const catalog = loadCatalog();
const opts = { rules: RULES, catalog, stuckAfterMs: 1000, maxUnparsedSamples: 20 };

describe('record codec', () => {
  const raw1 = '123@1700000000.000001:migrate_set_state new state active ';
  const records: TraceRecord[] = [
    // a log line: args a piece of raw (trailing blank trimmed)
    { kind: 'event', name: 'migrate_set_state', side: 'src', args: 'new state active', tid: 123, ts: 1700000000000001, input: 1, line: 4, raw: raw1, argsAt: 40 },
    // a cleaned line: args not a piece of raw
    { kind: 'event', name: 'migrate_set_state', side: null, args: 'new state setup', tid: null, ts: null, input: 1, line: 5, raw: '\x1b[32mx\x1b[0m', argsAt: -1 },
    // a binary/CSV record: no argsAt, pid and thread name, non-ASCII
    { kind: 'event', name: 'qemu_file_fclose', side: 'dst', args: 'é ✓', tid: 7, ts: 0, input: 1, line: 6, raw: 'qemu_file_fclose é ✓', pid: 99, thread: 'live_migration' },
    { kind: 'message', text: 'Detected IO failure for postcopy. Migration paused.', program: 'qemu-system-x86_64', ts: 12.5, input: 1, line: 7 },
    { kind: 'message', text: 'lost events', program: null, ts: null, input: 1, line: 8, dropped: 3 },
    { kind: 'event', name: 'empty_args_event', side: 'src', args: '', tid: 1, ts: 2, input: 1, line: 9, raw: '1@0.000002:empty_args_event ', argsAt: 0 },
  ];
  assert.equal(raw1.slice(40, 40 + 'new state active'.length), 'new state active');

  it('rebuilds every field of events and messages, names carried across batches', () => {
    const enc = new RecordEncoder();
    const dec = new RecordDecoder(1);
    const b1 = enc.encode(records.slice(0, 3));
    const b2 = enc.encode(records.slice(3));
    assert.deepEqual(b1.names, ['migrate_set_state', 'qemu_file_fclose']);
    assert.deepEqual(b2.names, ['empty_args_event'], 'a name crosses the boundary once');
    const back = [...dec.decode(b1), ...dec.decode(b2)];
    const norm = (r: TraceRecord) => {
      if (r.kind !== 'event') return r;
      const { rowsMask, at, ...rest } = r;
      assert.ok(rowsMask === undefined || rowsMask === -1, 'no catalog patterns given: nothing matched');
      assert.ok(at === undefined || at === -1, 'records given as records keep their line');
      return { ...rest, argsAt: r.argsAt === undefined || r.argsAt < 0 ? -1 : r.argsAt };
    };
    assert.deepEqual(back.map(norm), records.map(norm));
  });

  it("matches the catalog's conditional rows on the reader's side: the replay gets the same rows", () => {
    const ev = (name: string, args: string, line: number): TraceRecord => {
      const raw = `9@1.000001:${name} ${args}`;
      return { kind: 'event', name, side: 'dst', args, tid: 9, ts: 1000001, input: 0, line, raw, argsAt: raw.length - args.length };
    };
    const recs = [
      ev('ram_load_postcopy_loop', 'chan=0 addr=0x1000 flags=0x8', 1),
      ev('ram_load_postcopy_loop', 'chan=1 addr=0x2000 flags=0x10', 2), // the preempt channel's EOS
      ev('ram_load_postcopy_loop', 'chan=1 addr=0x3000 flags=0x8', 3),
      ev('migrate_send_rp_message', '1: len 8', 4),
      ev('migrate_send_rp_message', '7: len 12', 5), // no row matches
      ev('qemu_file_fclose', '', 6), // unconditional
    ];
    const enc = new RecordEncoder(matchersOf(patternsOf(catalog)));
    const back = new RecordDecoder(0).decode(enc.encode(recs));
    const masks = back.map((r) => (r.kind === 'event' ? r.rowsMask : undefined));
    assert.deepEqual(masks.slice(0, 5).map((m) => (m ?? -1) >= 0), [true, true, true, true, true]);
    assert.equal(masks[5], -1, 'an event without patterns carries no mask');
    for (const r of back) {
      if (r.kind !== 'event') continue;
      const want = rowsFor(catalog, r.name, r.args);
      const got = r.rowsMask !== undefined && r.rowsMask >= 0 ? rowsForMask(catalog, r.name, r.rowsMask) : rowsFor(catalog, r.name, r.args);
      assert.equal(got, want, `${r.name} ${r.args}: the same rows`);
    }
    assert.notEqual(rowsFor(catalog, 'ram_load_postcopy_loop', 'chan=1 addr=0x2000 flags=0x10'), rowsFor(catalog, 'ram_load_postcopy_loop', 'chan=1 addr=0x3000 flags=0x8'), 'the EOS page has a row of its own');
    assert.equal(rowsFor(catalog, 'migrate_send_rp_message', '7: len 12').length, 0);
  });

  it('sends arguments inside the line as offsets, others as strings', () => {
    const b = new RecordEncoder().encode(records.slice(0, 3));
    // raw1 alone for the first; raw + args for the cleaned line; raw + args + thread for the third
    assert.equal(b.strs.length, 1 + 2 + 3);
  });
});

/**
 * One run of each kind: each QEMU version, TID-less 11.1, the combined and twice-migrated logs, a
 * cross-version pair, the self-built reverts, a stuck run and the never-started one. Every real run:
 * test/system/worker-read-corpus.test.ts.
 */
const KINDS = [
  '7.2.22/cap-never-started-1',
  '7.2.22/stuck-postcopy-preempt-multifd-1',
  '10.0.13/c-postcopy-preempt-pre72-2',
  '10.0.13/combined-postcopy-preempt-compat-1',
  '10.0.13/twice-postcopy-preempt-1',
  '10.0.13/e-split-brain-1',
  '10.0.13-selfbuilt/c-postcopy-preempt-revert-6621883f93-2',
  '11.1.3/c-postcopy-preempt-compat-1',
  '11.1.3/combined-postcopy-preempt-compat-1',
  'cross/10.0.13-to-7.2.22-postcopy-preempt-1',
].map((r) => join(ROOT, 'traces', r));

describe('inputs read on worker threads', () => {
  it('give the same result as reading inline, for a run of each kind', async () => {
    for (const dir of KINDS) {
      const [spec] = await resolveRuns([dir]);
      const [a, b] = await inlineAndOnThreads(spec!, opts);
      assert.equal(b, a, dir);
    }
  });

  it('same for the binary simple traces of the self-built run (a format that is not line-based)', async () => {
    const dir = join(ROOT, 'traces/10.0.13-selfbuilt/c-postcopy-preempt-1');
    const spec: RunSpec = { name: 'simple', inputs: [{ path: join(dir, 'src.simple'), side: 'src' }, { path: join(dir, 'dst.simple'), side: 'dst' }] };
    const [a, b] = await inlineAndOnThreads(spec, opts);
    assert.equal(b, a);
    assert.ok(JSON.parse(a).stats.events > 1000);
  });

  it('same for gzip input and for damaged lines (counts, samples and notes included)', async () => {
    const src = readFileSync(join(ROOT, 'traces/10.0.13/c-postcopy-preempt-pre72-2/src.log'), 'utf8').split('\n');
    src.splice(100, 0, 'garbage \x00\xff line', `${'x'.repeat(2 << 20)}`, '\x1b[31m' + src[100]!);
    const dir = tempRun({ 'src.log.gz': gzipSync(src.join('\n')), 'dst.log': readFileSync(join(ROOT, 'traces/10.0.13/c-postcopy-preempt-pre72-2/dst.log')) });
    const spec: RunSpec = { name: 'gz', inputs: [{ path: join(dir, 'src.log.gz'), side: 'src' }, { path: join(dir, 'dst.log'), side: 'dst' }] };
    const [a, b] = await inlineAndOnThreads(spec, opts);
    assert.equal(b, a);
    const r = JSON.parse(a);
    assert.equal(r.dataQuality.perInput[0].overlong, 1);
    assert.equal(r.verdict, 'findings');
  });

  it('an input error inside the reader thread is the same input error, not a crash or a hang', async () => {
    // A gzip file corrupt after its first part: the reader fails part-way through.
    const gz = gzipSync(readFileSync(join(ROOT, 'traces/10.0.13/c-postcopy-preempt-pre72-2/src.log')));
    gz.fill(0x55, 2000, 2400);
    const dir = tempRun({ 'src.log.gz': gz });
    const spec: RunSpec = { name: 'bad', inputs: [{ path: join(dir, 'src.log.gz'), side: 'src', format: 'log' }] };
    const inline = await analyzeRun(spec, { ...opts, readers: 'inline' }).then(() => null, (e: Error) => e);
    const worker = await analyzeRun(spec, { ...opts, readers: 'worker' }).then(() => null, (e: Error) => e);
    assert.ok(inline instanceof InputError, `inline: ${inline}`);
    assert.ok(worker instanceof InputError, `worker: ${worker}`);
    assert.equal(worker.message, inline.message);
    assert.match(worker.message, /src\.log\.gz: gzip data is corrupt/);
  });
});

describe('arguments made into strings only where the replay reads them', () => {
  it('the catalog says which: named fields and what a rule reads (fields), conditional rows (match), others never', () => {
    const use = argsUse(catalog, new Set(RULES.flatMap((r) => r.readsArgs ?? [])));
    assert.equal(use.get('migrate_set_state'), 'fields', '(?<state>...)');
    assert.equal(use.get('postcopy_page_req_del'), 'fields', '(?<total>...)');
    assert.equal(use.get('migrate_error'), 'fields', 'postcopy-network-failure reads the error text');
    assert.equal(use.get('ram_load_postcopy_loop'), catalog.byEvent.get('ram_load_postcopy_loop'), 'only which of its rows apply (chan=0, chan=1, the EOS page)');
    assert.equal(use.get('qemu_file_fclose'), undefined);
  });

  it("a plain file's line on a reader thread: args only for the events the replay reads, or conditional ones without a mask", async () => {
    const path = join(tempRun({ 'src.log': ['1@1.000001:migrate_set_state new state active', '1@1.000002:qemu_file_fclose f 0x1', '1@1.000003:ram_load_postcopy_loop chan=0 addr=0x1 flags=0x8', ''].join('\n') }), 'src.log');
    const use = argsUse(catalog, new Set());
    const read = async (patterns: boolean) => {
      const enc = new RecordEncoder(patterns ? matchersOf(patternsOf(catalog)) : new Map());
      const dec = new RecordDecoder(0, use);
      const out: TraceRecord[] = [];
      for await (const b of LOG_FORMAT.readEncoded!(path, 0, 'src', newCounters(path), { maxSamples: 1, textLater: true }, enc)) out.push(...dec.decode(b));
      return out.map((r) => (r.kind === 'event' ? r.args : '?'));
    };
    assert.deepEqual(await read(true), ['new state active', '', '']);
    assert.deepEqual(await read(false), ['new state active', '', 'chan=0 addr=0x1 flags=0x8'], 'no mask from the reader: the replay matches the rows itself');
    // Read on this thread: the same arguments, the conditional rows matched on the bytes.
    const inline: TraceRecord[] = [];
    for await (const b of LOG_FORMAT.read(path, 0, 'src', newCounters(path), { maxSamples: 1, textLater: true, argsUse: use })) inline.push(...b);
    assert.deepEqual(inline.map((r) => (r.kind === 'event' ? [r.args, r.rowsMask] : '?')), [['new state active', -1], ['', -1], ['', 1]]);
  });

  it("a rule that reads an event's argument text itself says so (readsArgs), and only such a rule", () => {
    for (const rule of RULES) {
      // Its own source, comments left out: `.args` is the argument text (fields go through ev.field).
      const src = readFileSync(join(ROOT, 'src/rules', `${rule.id}.ts`), 'utf8').replace(/\/\/.*$/gm, '');
      assert.equal(/\.args\b/.test(src), (rule.readsArgs?.length ?? 0) > 0, rule.id);
    }
  });

  it("a rule's readsArgs is what keeps the text it reports: without it the result differs, read inline or on a thread", async () => {
    const dir = join(ROOT, 'traces/10.0.13/d-preempt-pause-recover-1');
    const spec: RunSpec = { name: 'pause', inputs: [{ path: join(dir, 'src.log'), side: 'src' }, { path: join(dir, 'dst.log'), side: 'dst' }] };
    const [inline, worker] = await inlineAndOnThreads(spec, opts);
    assert.equal(worker, inline);
    const told = /"note":"source error: Postcopy migration is paused by the user"/;
    assert.match(inline, told);
    const undeclared = RULES.map((r) => (r.readsArgs ? { ...r, readsArgs: undefined } : r));
    for (const readers of ['inline', 'worker'] as const) {
      const without = JSON.stringify(await analyzeRun(spec, { ...opts, rules: undeclared, readers }));
      assert.doesNotMatch(without, told, readers);
    }
  });
});

describe('lines left in their file by a reader thread, read back when reported', () => {
  it('reads the line at each offset as splitLines gives it: CR dropped, cut past what a location shows', async () => {
    const long = 'é'.repeat(700); // 1400 bytes
    const text = `first line\r\nsecond\n${long}\nlast without newline\r`;
    const dir = tempRun({ 'f.log': text });
    const at = (s: string) => Buffer.byteLength(text.slice(0, text.indexOf(s)));
    const got = await readLinesAt(join(dir, 'f.log'), [at('second'), at('first'), at(long), at('last'), at('second')]);
    assert.equal(got.get(at('first')), 'first line');
    assert.equal(got.get(at('second')), 'second');
    assert.equal(got.get(at('last')), 'last without newline');
    const cut = got.get(at(long)) as string;
    assert.ok(cut.startsWith('é'.repeat(300)) && cut.length > 300, 'enough for the 300 characters a location shows');
    const missing = await readLinesAt(join(dir, 'nope.log'), [0]);
    assert.match(String((missing.get(0) as Error).message), /ENOENT/);
  });

  it("a run's locations read back from the file are the lines; a file changed before they are read back says so", async () => {
    const real = join(ROOT, 'traces/10.0.13/c-postcopy-preempt-pre72-2');
    const dir = tempRun({ 'src.log': readFileSync(join(real, 'src.log')), 'dst.log': readFileSync(join(real, 'dst.log')) });
    const spec: RunSpec = { name: 'changed', inputs: [{ path: join(dir, 'src.log'), side: 'src' }, { path: join(dir, 'dst.log'), side: 'dst' }] };
    const inline = await analyzeRun(spec, { ...opts, readers: 'inline' });
    const texts = (r: typeof inline) => r.findings.flatMap((f) => f.locations.map((l) => l.text));
    assert.ok(texts(inline).length > 0);
    // Each is the line its file:line names (read back from the file, not kept from the read).
    const fileLines = new Map(['src.log', 'dst.log'].map((f) => [join(dir, f), readFileSync(join(dir, f), 'utf8').split('\n')]));
    for (const l of inline.findings.flatMap((f) => f.locations)) assert.equal(l.text, fileLines.get(l.file)?.[l.line - 1]?.trimEnd(), `${l.file}:${l.line}`);
    // Rewritten after the last batch was read, before the report: every line shifts by 3 bytes.
    let rewritten = false;
    const worker = await analyzeRun(spec, {
      ...opts,
      readers: 'worker',
      onProgress: (done, total) => {
        if (done < total || rewritten) return;
        rewritten = true;
        for (const f of ['src.log', 'dst.log']) writeFileSync(join(dir, f), `xx\n${readFileSync(join(real, f), 'utf8')}`);
      },
    });
    assert.ok(rewritten);
    assert.deepEqual(worker.findings.map((f) => f.rule), inline.findings.map((f) => f.rule), 'the analysis itself is the same');
    const wt = texts(worker);
    assert.equal(wt.length, texts(inline).length);
    assert.ok(wt.some((t) => t === '(line not read back: the file changed after it was analysed)'), wt.join('\n'));
    assert.ok(!wt.some((t, i) => t !== texts(inline)[i] && !t?.startsWith('(line not read back')), 'never a wrong line');
  });
});

describe('which inputs get a reader thread', () => {
  const MiB = 1048576;
  it('auto: the largest inputs of 96 MiB or more, one per spare core; the others stay on the replay thread', () => {
    assert.deepEqual([...chooseWorkerInputs([200 * MiB, 900 * MiB, 4 * MiB], 'auto', 1)], [1], 'the largest only');
    assert.deepEqual([...chooseWorkerInputs([200 * MiB, 900 * MiB, 4 * MiB], 'auto', 3)].sort(), [0, 1]);
    assert.deepEqual([...chooseWorkerInputs([16 * MiB, 119 * MiB], 'auto', 1)], [1], 'the bench slice: the destination only');
    assert.deepEqual([...chooseWorkerInputs([900 * MiB], 'auto', 0)], [], 'no spare core: none');
    assert.deepEqual([...chooseWorkerInputs([95 * MiB], 'auto', 4)], [], 'smaller inputs stay');
    assert.deepEqual([...chooseWorkerInputs([96 * MiB], 'auto', 4)], [0]);
  });
  it('inline: none; worker: every input but standard input (size 0)', () => {
    assert.deepEqual([...chooseWorkerInputs([900 * MiB], 'inline', 4)], []);
    assert.deepEqual([...chooseWorkerInputs([1, 0, 5], 'worker', 0)], [0, 2]);
  });
});

describe("a reader thread's format, loaded by name", () => {
  it('gives every format of trace-input.ts FORMATS, the same object, and refuses other names', async () => {
    const { FORMATS } = await import('../src/ingest/trace-input.js');
    const { loadFormat, LOADABLE_FORMATS } = await import('../src/ingest/format-modules.js');
    assert.deepEqual([...LOADABLE_FORMATS].sort(), FORMATS.map((f) => f.name).sort());
    for (const f of FORMATS) assert.equal(await loadFormat(f.name), f, f.name);
    await assert.rejects(loadFormat('nope'), InputError);
  });
});
