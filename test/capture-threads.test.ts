// Per-thread files and twin runs (issue 14): QEMU >= 10.1 writes its default log without thread
// ids, and a process writes either that log or per-thread files (`-d tid -D dir/t-%d.log`), never
// both. So `migtrace capture` captures the same scenario twice on such a QEMU: the default log,
// then a twin with per-thread files of both processes in one folder. Unit tests of the argv, the
// summaries and the twin decision here; the real captures (Debian 12's QEMU, and QEMU 11.1 when
// its chroot exists) are system tests: test/system/capture-threads.test.ts.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildQemuArgv, THREAD_FILE_PATTERN, THREADS_DIR, type SideArgvSpec } from '../src/capture/argv.js';
import { summarizeThreadFiles, summarizeTraceLog } from '../src/capture/summary.js';
import { needsThreadFiles, twinDir } from '../src/capture/twin.js';
import { threadFilesMode } from '../src/cli/commands/capture.js';

function spec(side: 'src' | 'dst'): SideArgvSpec {
  return {
    side,
    qemu: ['chroot', 'CHROOT', '/usr/bin/qemu-system-x86_64'],
    workdir: '/mig-work/run',
    kernel: '/mig-work/run/dirtier.elf',
    wsMib: 40,
    memMib: 64,
    machine: 'pc',
    globals: [],
    incoming: side === 'dst',
  };
}

describe('per-thread files: argv', () => {
  test('-d tid -D <one pattern> instead of the process log; nothing else changes', () => {
    const pattern = `/mig-work/run/${THREADS_DIR}/${THREAD_FILE_PATTERN}`;
    assert.equal(pattern, '/mig-work/run/threads/t-%d.log');
    for (const side of ['src', 'dst'] as const) {
      const plain = buildQemuArgv(spec(side));
      const argv = buildQemuArgv({ ...spec(side), threadFiles: pattern });
      const d = plain.indexOf('-D');
      assert.equal(plain[d + 1], `/mig-work/run/${side}.log`);
      assert.deepEqual(argv, [...plain.slice(0, d), '-d', 'tid', '-D', pattern, ...plain.slice(d + 2)]);
      // Exactly one -D: QEMU keeps only the last, so a second one would silently drop the first.
      assert.equal(argv.filter((a) => a === '-D').length, 1);
      assert.equal(argv[argv.indexOf('-msg') + 1], 'timestamp=on', 'timestamps stay: they merge the processes');
    }
  });
});

describe('per-thread files: summaries', () => {
  test('ISO-prefixed lines (QEMU >= 10.1) are trace lines without a TID; error messages are not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mt-iso-'));
    try {
      writeFileSync(
        join(dir, 'src.log'),
        [
          '2026-12-04T19:02:03.945867Z source_return_path_thread_entry ',
          '2026-12-04T19:02:03.946711Z source_return_path_thread_pong 0x1',
          '2026-12-04T19:02:05.990001Z migrate_set_state new state completed',
          '2026-12-04T19:02:06.000001Z qemu-system-x86_64: Unable to write to socket: Broken pipe',
          'qemu-system-x86_64:/mig-work/x/events.txt:31: warning: trace event \'multifd_send\' does not exist',
          '12@1795635178.785387:migrate_set_state new state active',
          '',
        ].join('\n'),
      );
      const s = await summarizeTraceLog(join(dir, 'src.log'));
      assert.equal(s?.lines, 6);
      assert.equal(s?.non_trace_lines, 2);
      assert.deepEqual(s?.prefixes, { tid: 1, iso: 3, bare: 0 });
      assert.deepEqual(s?.events, { migrate_set_state: 2, source_return_path_thread_entry: 1, source_return_path_thread_pong: 1 });
      assert.deepEqual(s?.lines_per_tid, { '12': 1 }, 'only the TID@ line has a thread id');
      // A per-thread file: every trace line is the file's thread.
      const t = await summarizeTraceLog(join(dir, 'src.log'), 4242);
      assert.deepEqual(t?.lines_per_tid, { '12': 1, '4242': 3 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a threads/ folder: per file, per TID from the name, per process from the sampled TIDs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mt-thr-'));
    try {
      writeFileSync(join(dir, 't-101.log'), '2026-12-04T19:02:03.945867Z source_return_path_thread_entry \n2026-12-04T19:02:03.946711Z source_return_path_thread_pong 0x1\n');
      writeFileSync(join(dir, 't-202.log'), '2026-12-04T19:02:05.985762Z postcopy_preempt_thread_entry \n');
      writeFileSync(join(dir, 't-303.log'), '2026-12-04T19:02:05.975879Z qio_task_thread_run Task thread run task=0x1\n');
      writeFileSync(join(dir, 'notes.txt'), 'not a thread file\n');
      const procs: Record<number, string> = { 101: 'src', 202: 'dst' };
      const s = await summarizeThreadFiles(dir, (tid) => procs[tid]);
      assert.equal(s?.files, 3);
      assert.equal(s?.lines, 4);
      assert.deepEqual(s?.lines_per_tid, { '101': 2, '202': 1, '303': 1 });
      assert.deepEqual(s?.lines_per_process, { dst: 1, src: 2, unknown: 1 }, 'a thread the sampling never saw is unknown, not guessed');
      assert.deepEqual(s?.process_per_file, { 't-101.log': 'src', 't-202.log': 'dst', 't-303.log': 'unknown' });
      assert.equal(await summarizeThreadFiles(join(dir, 'none'), () => undefined), null);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('twin runs: when and where', () => {
  test('a twin when either side is QEMU >= 10.1 (no thread ids in its default log)', () => {
    assert.equal(needsThreadFiles({ src: '11.1.3', dst: '11.1.3' }), true);
    assert.equal(needsThreadFiles({ src: '10.1.0', dst: '10.1.0' }), true);
    assert.equal(needsThreadFiles({ src: '7.2.22', dst: '11.1.3' }), true, 'a cross-version pair with one >= 10.1 side');
    assert.equal(needsThreadFiles({ src: '10.0.13', dst: '10.0.13' }), false);
    assert.equal(needsThreadFiles({ src: '7.2.22', dst: '7.2.22' }), false);
    assert.equal(needsThreadFiles({ src: null, dst: null }), false, 'QEMU never ran: no twin');
  });

  test('the twin goes to pt-<name> beside the run, or where --threads-out says', () => {
    assert.equal(twinDir('/x/traces/11.1.3/cap-postcopy-preempt-1'), '/x/traces/11.1.3/pt-cap-postcopy-preempt-1');
    assert.equal(twinDir('/x/runs/a/', undefined), '/x/runs/pt-a');
    assert.equal(twinDir('/x/runs/a', '/y/b'), '/y/b');
  });

  test('--thread-files: unset = auto, --thread-files = on, --no-thread-files = off', () => {
    assert.equal(threadFilesMode({}), 'auto');
    assert.equal(threadFilesMode({ 'thread-files': true }), 'on');
    assert.equal(threadFilesMode({ 'thread-files': false }), 'off');
  });
});
