import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newScratch, parseInto, parseLogLine } from '../src/ingest/log-format.js';

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
