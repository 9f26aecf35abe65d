// Per-thread files and twin runs (issue 14): QEMU >= 10.1 writes its default log without thread
// ids, and a process writes either that log or per-thread files (`-d tid -D dir/t-%d.log`), never
// both. So `migtrace capture` captures the same scenario twice on such a QEMU: the default log,
// then a twin with per-thread files of both processes in one folder. Unit tests of the argv, the
// summaries and the twin decision; real captures with Debian 12's QEMU (7.2 has `-d tid` too) and,
// when the chroot exists, with QEMU 11.1 (skipped, saying why, otherwise).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildQemuArgv, THREAD_FILE_PATTERN, THREADS_DIR, type SideArgvSpec } from '../src/capture/argv.js';
import { summarizeThreadFiles, summarizeTraceLog } from '../src/capture/summary.js';
import { needsThreadFiles, runCaptureWithTwin, twinDir } from '../src/capture/twin.js';
import { checkUserfaultfd, which } from '../src/capture/preflight.js';
import { guestElfPath } from '../src/capture/guest.js';
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

// ---------------------------------------------------------------- real captures

const SYSTEM_QEMU = '/usr/bin/qemu-system-x86_64';
/** The QEMU 11.1 chroot docs/capture.md builds (capture/setup-chroot.sh --suite trixie-backports). */
const CHROOT_11 = process.env['MIGTRACE_CHROOT_11'] ?? '/var/lib/migtrace/trixie-11';

interface Meta {
  log_form: string;
  twin?: string;
  twin_of?: string;
  pids: Record<string, number>;
  cmdline: Record<string, string[]>;
  logs: Record<string, { lines: number; prefixes: Record<string, number>; lines_per_process?: Record<string, number>; process_per_file?: Record<string, string> }>;
  src_query_migrate: { status: string };
  dst_query_migrate: { status: string };
}
const readMeta = (dir: string): Meta => JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Meta;

function cannotRun(chroot?: string): string | null {
  if (!chroot && !existsSync(SYSTEM_QEMU)) return `${SYSTEM_QEMU} is absent (bash capture/install-qemu.sh installs it)`;
  if (chroot && !existsSync(join(chroot, 'usr/bin/qemu-system-x86_64'))) return `no QEMU in ${chroot} (bash capture/setup-chroot.sh --suite trixie-backports --dir ${chroot})`;
  if (chroot && process.getuid?.() !== 0) return 'a chroot needs root';
  if (!existsSync(guestElfPath()) && (!which('gcc') || !which('ld'))) return 'no gcc/ld to build the guest (capture/guest/build.sh)';
  return null;
}

/** The twin's threads/: files of both processes, one per thread, each named by its TID. */
function checkThreadFolder(twin: string, m: Meta, linePrefix: (tid: string) => RegExp): void {
  const files = readdirSync(join(twin, 'threads')).sort();
  assert.ok(files.length >= 4, `thread files: ${files.join(' ')}`);
  for (const f of files) assert.match(f, /^t-\d+\.log$/);
  // The main thread's TID is the process id: both processes wrote into the one folder.
  for (const side of ['src', 'dst']) assert.ok(files.includes(`t-${m.pids[side]}.log`), `${side}'s main thread file`);
  for (const f of files) {
    const tid = /^t-(\d+)\.log$/.exec(f)![1]!;
    const first = readFileSync(join(twin, 'threads', f), 'utf8').split('\n')[0] ?? '';
    assert.match(first, linePrefix(tid), `${f}: ${first}`);
  }
  const per = m.logs['threads']!.lines_per_process!;
  assert.ok((per['src'] ?? 0) > 0 && (per['dst'] ?? 0) > 0, JSON.stringify(per));
  for (const side of ['src', 'dst']) {
    const argv = m.cmdline[side]!;
    assert.deepEqual(argv.slice(argv.indexOf('-d'), argv.indexOf('-d') + 3).slice(0, 2), ['-d', 'tid']);
    assert.match(argv[argv.indexOf('-D') + 1]!, /\/threads\/t-%d\.log$/);
  }
  assert.equal(m.cmdline['src']![m.cmdline['src']!.indexOf('-D') + 1]!.replace(/.*\/threads\//, ''), 't-%d.log');
}

describe('twin captures, real QEMU', () => {
  test('Debian 12 QEMU 7.2, --thread-files: the run, then its twin with per-thread files', { timeout: 90_000 }, async (t) => {
    const why = cannotRun() ?? null;
    if (why) {
      console.log(`capture twin (7.2) skipped: ${why}`);
      return t.skip(why);
    }
    const root = mkdtempSync(join(tmpdir(), 'mt-twin72-'));
    try {
      const out = join(root, 'cap-precopy-1');
      const rs = await runCaptureWithTwin({ scenario: 'precopy', outDir: out, qemu: SYSTEM_QEMU, settleMs: 1000 }, { threadFiles: 'on' });
      assert.equal(rs.length, 2, rs.map((r) => r.outcome).join('; '));
      const [first, twin] = rs;
      assert.ok(first!.ok && twin!.ok, `${first!.outcome}; ${twin!.outcome}`);
      assert.equal(twin!.outDir, join(root, 'pt-cap-precopy-1'));
      assert.deepEqual(twin!.logFiles, ['threads']);
      const m1 = readMeta(out);
      const m2 = readMeta(twin!.outDir);
      assert.equal(m1.log_form, 'per-process-log');
      assert.equal(m2.log_form, 'per-thread-files');
      assert.equal(m1.twin, '../pt-cap-precopy-1');
      assert.equal(m2.twin_of, '../cap-precopy-1');
      assert.ok(!existsSync(join(twin!.outDir, 'src.log')) && !existsSync(join(twin!.outDir, 'dst.log')), 'no process log in the twin');
      // QEMU <= 10.0: a thread file's lines carry the same TID@ prefix, equal to the file's TID.
      checkThreadFolder(twin!.outDir, m2, (tid) => new RegExp(`^${tid}@\\d+\\.\\d{6}:\\w+`));
      assert.equal(m2.src_query_migrate.status, 'completed');
      assert.equal(m2.dst_query_migrate.status, 'completed');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('QEMU 11.1 in its chroot: the twin comes by itself, the default log has no thread ids', { timeout: 90_000 }, async (t) => {
    const why = cannotRun(CHROOT_11);
    if (why) {
      console.log(`capture twin (11.1) skipped: ${why}`);
      return t.skip(why);
    }
    const root = mkdtempSync(join(tmpdir(), 'mt-twin11-'));
    try {
      mkdirSync(root, { recursive: true });
      const out = join(root, 'cap-precopy-1');
      const rs = await runCaptureWithTwin({ scenario: 'precopy', outDir: out, chroot: CHROOT_11, settleMs: 1000 }, { threadFiles: 'auto' });
      assert.equal(rs.length, 2, `a twin by default on ${rs[0]!.versions.src}: ${rs.map((r) => r.outcome).join('; ')}`);
      assert.ok(rs.every((r) => r.ok));
      const m1 = readMeta(out);
      // The default log: ISO timestamps, no TID anywhere.
      assert.ok(m1.logs['src']!.prefixes['iso']! > 0 && m1.logs['src']!.prefixes['tid'] === 0, JSON.stringify(m1.logs['src']!.prefixes));
      assert.match(readFileSync(join(out, 'src.log'), 'utf8'), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z migrate_set_state new state completed$/m);
      const m2 = readMeta(rs[1]!.outDir);
      checkThreadFolder(rs[1]!.outDir, m2, () => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z \w+/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
