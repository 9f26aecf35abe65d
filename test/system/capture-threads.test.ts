// System test: real twin captures (issue 14) with Debian 12's QEMU (7.2 has `-d tid` too) and,
// when the chroot exists, with QEMU 11.1 (skipped, saying why, otherwise). The unit tests of the
// argv, the summaries and the twin decision are in test/capture-threads.test.ts.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCaptureWithTwin } from '../../src/capture/twin.js';
import { which } from '../../src/capture/preflight.js';
import { guestElfPath } from '../../src/capture/guest.js';

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
