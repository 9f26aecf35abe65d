// The split of a test suite's log into tests and processes (assembly/qtest.ts), on lines as
// migration-test writes them (taken from traces/qtest), cut down to what each case needs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveRuns } from '../src/assembly/folders.js';
import { filesPerQemu, Planner } from '../src/assembly/qtest.js';
import { ROOT } from './helpers.js';

const START = (name: string) => `# starting QEMU: exec ./qemu-system-x86_64 -trace events=/root/qtest/events.txt -msg timestamp=on -machine q35 -name ${name},debug-threads=on -m 150M`;
const WARN = ["qemu-system-x86_64:/root/qtest/events.txt:31: warning: trace event 'multifd_send' does not exist", "qemu-system-x86_64:/root/qtest/events.txt:32: warning: trace event 'multifd_recv' does not exist"];
const probe = (pid: number, t: number) => [...WARN, `${pid}@${t}.000001:qio_channel_socket_new Socket new ioc=0x1`, `${pid}@${t}.000002:migration_cancel `];

function plan(lines: string[]) {
  const p = new Planner('t.log');
  lines.forEach((l, i) => p.line(i + 1, l));
  return p.finish();
}

describe('qtest stream split', () => {
  const test = (name: string, src: number, dst: number, t: number, result: string | null) => [
    `# Running ${name}`,
    ...probe(src - 10, t),
    ...probe(src - 5, t),
    START('source'),
    ...WARN,
    `${src}@${t}.1:qio_channel_socket_new Socket new ioc=0x2`,
    START('target'),
    ...WARN,
    `${dst}@${t}.2:qio_channel_socket_new Socket new ioc=0x3`,
    `${src + 1}@${t}.3:migration_thread_setup_complete `,
    `${dst + 1}@${t}.4:postcopy_ram_listen_thread_start `,
    ...(result ? [result] : []),
  ];

  it('TAP markers: tests, their pair by PID, probes left out, a hung test', () => {
    const lines = ['TAP version 14', START('source').replace('-machine q35', '-machine none'), ...probe(80, 99), ...test('/a', 100, 106, 100, 'ok 1 /a'), ...test('/b', 200, 206, 200, null)];
    const p = plan(lines)!;
    assert.equal(p.by, 'tap');
    assert.deepEqual(p.tests.map((t) => [t.name, t.result?.text ?? null]), [['/a', 'ok 1 /a'], ['/b', null]]);
    assert.equal(p.before.length, 1);
    const a = p.tests[0]!;
    assert.deepEqual(a.processes.map((x) => [x.kind, x.pid]), [['probe', 90], ['probe', 95], ['source', 100], ['target', 106]]);
    assert.equal(p.before[0]!.pid, 80);
    // Every trace line of the pair, and none of a probe, is the test's.
    const mine = lines.map((_, i) => i + 1).filter((n) => p.owner[n] === 0);
    assert.deepEqual(mine.map((n) => lines[n - 1]!.split('@')[0]), ['100', '106', '101', '107']);
    assert.equal(a.pairLines, 4);
    assert.equal(p.plan, null);
  });

  it('no TAP markers: each source start begins a migration; no markers at all: not split', () => {
    const lines = [...test('/a', 100, 106, 100, null), ...test('/b', 200, 206, 200, null)].filter((l) => !l.startsWith('# Running'));
    const p = plan(lines)!;
    assert.equal(p.by, 'start markers');
    assert.deepEqual(p.tests.map((t) => [t.name, t.pairLines]), [['migration 1', 4], ['migration 2', 4]]);
    assert.equal(plan(['100@1.1:migrate_set_state new state setup', '101@1.2:migration_thread_setup_complete ']), null);
  });

  it('no thread ids: probes by position, torn lines counted', () => {
    const iso = (s: string) => `2026-12-04T21:49:53.${s}Z`;
    const lines = [
      '# Running /a',
      ...WARN,
      `${iso('000001')} qio_channel_socket_new Socket new ioc=0x1`,
      `${iso('000002')} migration_cancel `,
      START('source'),
      ...WARN,
      `${iso('000003')} migrate_set_state new state setup`,
      START('target'),
      ...WARN,
      `${iso('000004')} ${iso('000005')} ram_load_start `,
      'savevm_section_end ram, section_id 2 -> 0',
      'ok 1 /a',
    ];
    const p = plan(lines)!;
    assert.equal(p.form, 'iso');
    assert.deepEqual(p.torn, { twoStamps: [13], noStamp: [14] });
    assert.deepEqual([...p.owner.slice(1, lines.length + 1)].map((o, i) => (o === 0 ? i + 1 : 0)).filter(Boolean), [9, 13, 14]);
  });
});

describe("what a suite's numbered -D files are, from its QEMU command lines", () => {
  // QEMU's util/log.c: with -d tid the %d of -D is the thread id, without it the PID.
  const cases: Array<[string, 'thread' | 'process' | null]> = [
    ['-msg timestamp=on -D /root/qtest/q11-processes/procs/q-%d.log', 'process'],
    ['-msg timestamp=on -d tid -D /root/qtest/q11-threads/threads/t-%d.log', 'thread'],
    ['-msg timestamp=on -d guest_errors,tid -D /tmp/t-%d.log', 'thread'],
    ['-msg timestamp=on -D /tmp/one.log', null],
    ['-msg timestamp=on', null],
  ];
  for (const [trace, want] of cases) {
    it(`${trace} → ${want}`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'migtrace-qtest-'));
      try {
        const log = join(dir, 'qtest.log');
        writeFileSync(log, ['TAP version 14', '# Running /x86_64/migration/postcopy/plain', `# starting QEMU: exec /usr/bin/qemu-system-x86_64 -trace events=/root/qtest/events.txt ${trace} -qtest unix:/tmp/qtest-1100.sock -name source,debug-threads=on`, ''].join('\n'));
        assert.equal(await filesPerQemu(log), want);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe("a suite's per-process files as a folder gives them", () => {
  const real = join(ROOT, 'traces/qtest/11.1.3-postcopy-processes');
  const procs = readdirSync(join(real, 'procs'));
  for (const layout of ['in procs/', 'beside the log'] as const) {
    it(`${layout}: one run, its files processes (no TID from the name)`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'migtrace-qtest-'));
      try {
        const into = layout === 'in procs/' ? join(dir, 'procs') : dir;
        mkdirSync(into, { recursive: true });
        copyFileSync(join(real, 'qtest.log'), join(dir, 'qtest.log'));
        for (const f of procs) copyFileSync(join(real, 'procs', f), join(into, f));
        const runs = await resolveRuns([dir]);
        assert.equal(runs.length, 1);
        assert.equal(runs[0]!.qtestLog, join(dir, 'qtest.log'));
        assert.equal(runs[0]!.qtestFiles, 'process');
        assert.equal(runs[0]!.inputs.length, procs.length);
        assert.ok(runs[0]!.inputs.every((i) => i.tid === undefined));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
  it('per-thread files stay threads (the log has -d tid)', async () => {
    const runs = await resolveRuns([join(ROOT, 'traces/qtest/11.1.3-postcopy-threads')]);
    assert.equal(runs[0]!.qtestFiles, 'thread');
    assert.ok(runs[0]!.inputs.every((i) => typeof i.tid === 'number'));
  });
});
