import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { newScratch, parseInto, parseLogLine } from '../src/ingest/log-format.js';
import { RecordDecoder, RecordEncoder } from '../src/ingest/record-codec.js';
import { formatByName, newCounters, type InputCounters, type InputReadOptions, type TraceRecord } from '../src/ingest/trace-input.js';
import { ROOT, tempRun } from './helpers.js';

describe('parseLogLine (log backend, §F.1)', () => {
  it('parses TID@sec.usec:event args', () => {
    assert.deepEqual(parseLogLine('22585@1795635181.950341:postcopy_preempt_send_host_page ramblock pc.ram offset 0x176d'), {
      kind: 'event', name: 'postcopy_preempt_send_host_page', args: 'ramblock pc.ram offset 0x176d', tid: 22585, ts: 1795635181950341,
    });
  });
  it('drops the trailing space of empty-format events', () => {
    const p = parseLogLine('22587@1795635181.989219:migration_completion_postcopy_end_after_complete ');
    assert.equal(p.kind, 'event');
    assert.equal(p.kind === 'event' && p.args, '');
  });
  it('parses bare lines (no -msg timestamp=on) without tid or time', () => {
    assert.deepEqual(parseLogLine('qemu_loadvm_state_section 0'), { kind: 'event', name: 'qemu_loadvm_state_section', args: '0', tid: null, ts: null });
  });
  it('parses the QEMU >= 10.1 ISO prefix as an event without tid', () => {
    const p = parseLogLine('2025-07-21T18:43:28.089815Z migrate_set_state new state active');
    assert.equal(p.kind, 'event');
    if (p.kind === 'event') {
      assert.equal(p.tid, null);
      assert.equal(p.ts, Date.UTC(2025, 6, 21, 18, 43, 28) * 1000 + 89815);
    }
  });
  it('keeps error_report lines as messages, with or without a timestamp', () => {
    const a = parseLogLine('2026-11-25T19:33:12.690141Z qemu-system-x86_64: Detected IO failure for postcopy. Migration paused.');
    assert.equal(a.kind, 'message');
    assert.equal(a.kind === 'message' && a.text, 'Detected IO failure for postcopy. Migration paused.');
    assert.equal(a.kind === 'message' && a.program, 'qemu-system-x86_64');
    const b = parseLogLine('qemu-system-x86_64: Unable to read from socket: Connection reset by peer');
    assert.equal(b.kind, 'message');
    assert.equal(b.kind === 'message' && b.ts, null);
  });
  it('reads the proposed prog(TID:name): prefix', () => {
    const p = parseLogLine('qemu-system-x86_64(772366:mig/src/main): migration_completion_postcopy_end ');
    assert.equal(p.kind === 'event' && p.tid, 772366);
    assert.equal(p.kind === 'event' && p.threadName, 'mig/src/main');
  });
  it('counts garbage as unparsed, with a reason', () => {
    for (const g of ['12345@17956:postcopy_start', '2261', '@@@', '### build step 17: ok ###', '\u0000\ufffd junk', 'hello world', '22@1.5:']) {
      const p = parseLogLine(g);
      assert.equal(p.kind, 'unparsed', JSON.stringify(g));
    }
  });
  it("says a cleaned line's arguments are not a piece of it (argsAt -1: the reader-thread codec sends them as a string)", () => {
    const s = newScratch();
    for (const line of ['12@1.000001:migrate_set_state \x1b[31mnew state active\x1b[0m', '\x1b[32m12@1.000001:migrate_set_state new state active', 'step 3\r12@1.000001:migrate_set_state new state active', 'CI: 12@1.000001:migrate_set_state new state active']) {
      s.argsAt = 5;
      assert.equal(parseInto(line, s), 'event', JSON.stringify(line));
      assert.equal(s.args, 'new state active');
      assert.equal(s.argsAt, -1, JSON.stringify(line));
    }
    assert.equal(parseInto('12@1.000001:migrate_set_state new state active', s), 'event');
    assert.equal(s.argsAt, 30, 'a line read as it is: where its arguments start');
  });
  it('treats whitespace-only lines as blank', () => {
    assert.equal(parseLogLine('   ').kind, 'blank');
    assert.equal(parseLogLine('').kind, 'blank');
  });
});

describe('the log format read from bytes (the replay, reader threads) gives what the string parser gives', () => {
  // A real run as QEMU >= 10.1 writes it (ISO prefix, no TID; no fraction on a whole second), with
  // lines the byte path must leave to the string parser or read as it does.
  const iso = (us: number) => `${new Date(Math.floor(us / 1000)).toISOString().slice(0, 19)}${us % 1e6 ? `.${String(us % 1e6).padStart(6, '0')}` : ''}Z`;
  const real = readFileSync(join(ROOT, 'traces/10.0.13/c-postcopy-preempt-pre72-2/src.log'), 'utf8').split('\n').filter(Boolean);
  const lines = real.map((l) => {
    const m = /^\d+@(\d+)\.(\d{6}):/.exec(l)!;
    return `${iso(Number(m[1]) * 1e6 + Number(m[2]))} ${l.slice(m[0].length)}`;
  });
  lines.splice(
    50,
    0,
    '2026-12-04T18:23:34Z migration_completion_end ', // whole second, empty arguments
    '2024-02-29T23:59:59.999999Z migrate_set_state new state active', // leap day
    '2023-02-29T00:00:00.000001Z migrate_set_state new state active', // no such day: Date.UTC's 1 March
    '2026-13-01T24:60:60.5Z migrate_set_state new state setup', // out of range: Date.UTC's reading
    '0050-01-01T00:00:00.123456789Z migrate_set_state a', // two-digit year, nine fraction digits
    '2026-12-04T18:23:34.486448 migrate_set_state new state active', // no Z
    '2026-12-04T18:23:34.1234567890Z migrate_set_state x', // ten fraction digits
    '2026-12-04T18:23:34.486448Z qemu-system-x86_64: Detected IO failure for postcopy. Migration paused.',
    '2026-12-04T18:23:34.486448Z migrate_set_state new state é',
    '2026-12-04T18:23:34.486448Z migrate_set_state \x1b[31mnew state active\x1b[0m',
    '2026-12-04T18:23:34.486448Z qemu-system-x86_64(42:mig/src/main): migration_thread_setup_complete ',
    '77@1795635181.950341:migrate_set_state new state active', // a TID line among them
    '78@1795635181.950342:migrate_set_state \x1b[32mnew state active\x1b[0m',
    'migrate_set_state new state active', // bare
    '',
    '2026-12-04T18:23:34.486448Z',
  );
  const dir = tempRun({ 'src.log': `${lines.join('\n')}\n` });
  const path = join(dir, 'src.log');
  const log = formatByName('log');

  async function read(opts: Partial<InputReadOptions>, encoded: boolean): Promise<{ records: TraceRecord[]; counters: InputCounters }> {
    const counters = newCounters(path);
    const o: InputReadOptions = { maxSamples: 100, ...opts };
    const records: TraceRecord[] = [];
    if (encoded) {
      const dec = new RecordDecoder(0);
      for await (const b of log.readEncoded!(path, 0, 'src', counters, o, new RecordEncoder())) records.push(...dec.decode(b));
    } else for await (const b of log.read(path, 0, 'src', counters, o)) records.push(...b);
    return { records, counters };
  }

  /** Fields as the string parser gives them: a line left in the file is read at its offset. */
  const file = readFileSync(path);
  function norm(r: TraceRecord): TraceRecord {
    if (r.kind !== 'event') return r;
    const { at, argsAt: _a, rowsMask: _m, ...rest } = r;
    if (at !== undefined && at >= 0) {
      const text = file.toString('latin1', at, file.indexOf(10, at));
      assert.equal(rest.raw, '');
      assert.equal(text, lines[r.line - 1], `line ${r.line} at its offset`);
      return { ...rest, raw: text };
    }
    return rest;
  }

  for (const tid of [undefined, 4242]) {
    it(`same records and counts${tid === undefined ? '' : ', a per-thread file stamped with its TID'}`, async () => {
      const opt = tid === undefined ? {} : { tid };
      const strings = await read(opt, false);
      assert.ok(strings.records.every((r) => r.kind !== 'event' || r.raw !== ''), 'the string path keeps every line');
      for (const encoded of [false, true]) {
        const bytes = await read({ ...opt, textLater: true }, encoded);
        assert.ok(bytes.records.filter((r) => r.kind === 'event' && r.raw === '').length > real.length * 0.9, 'most lines were read as bytes');
        assert.deepEqual(bytes.records.map(norm), strings.records.map(norm));
        assert.deepEqual(bytes.counters, strings.counters);
      }
      const events = strings.records.filter((r) => r.kind === 'event');
      const isoEvents = events.filter((r) => r.kind === 'event' && r.line > 50 && r.line <= 55);
      assert.deepEqual(isoEvents.map((r) => r.kind === 'event' && r.ts), [Date.UTC(2026, 11, 4, 18, 23, 34) * 1000, Date.UTC(2024, 1, 29, 23, 59, 59) * 1000 + 999999, Date.UTC(2023, 2, 1) * 1000 + 1, Date.UTC(2026, 12, 1, 24, 60, 60) * 1000 + 500000, Date.UTC(1950, 0, 1) * 1000 + 123456]);
      assert.equal(strings.counters.eventsWithoutTid, tid === undefined ? events.length - 3 : 0, 'only the TID lines and the prog(TID) line have one of their own');
      assert.equal(strings.counters.unparsed, 3);
    });
  }
});
