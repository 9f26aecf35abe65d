// Tests of the capture tooling (issue 5): the QMP client against a fake QEMU on a unix socket,
// the argv builder per scenario, the trace event set, the summaries. The real captures with
// Debian 12's QEMU are system tests (test/system/capture.test.ts, npm run test:system).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { QmpClient, QmpClosedError, QmpError, QmpTimeoutError, type QmpMessage } from '../src/capture/qmp.js';
import { buildQemuArgv, type SideArgvSpec } from '../src/capture/argv.js';
import { SCENARIOS, SCENARIO_NAMES, scenarioGlobals, PREEMPT_PRE_7_2_GLOBAL } from '../src/capture/scenarios.js';
import { BROAD_GLOBS, FIREHOSES, deriveEventSet, parseCatalogEvents, readCatalogEvents } from '../src/capture/events.js';
import { parseQemuVersion } from '../src/capture/qemu.js';
import { catalogPath } from '../src/capture/paths.js';
import { guestVerdict, summarizeSerial, summarizeTraceLog } from '../src/capture/summary.js';
import { countSsSockets } from '../src/capture/netfault.js';
import { checkPortFree } from '../src/capture/preflight.js';
import { runCapture } from '../src/capture/capture.js';
import { parseParams } from '../src/cli/commands/capture.js';

// ---------------------------------------------------------------- fake QEMU QMP server

const GREETING = { QMP: { version: { qemu: { micro: 22, minor: 2, major: 7 }, package: 'fake' }, capabilities: ['oob'] } };

interface FakeQmp {
  path: string;
  server: Server;
  /** Commands received, in order. */
  received: QmpMessage[];
  sockets: Socket[];
  close(): Promise<void>;
}

/**
 * A QMP server speaking just enough: greeting on connect, then hands every parsed command to
 * `onCommand`, which writes whatever it likes (replies, events) through `send`.
 */
function fakeQmp(onCommand: (cmd: QmpMessage, send: (m: unknown) => void) => void, opts: { listenAfterMs?: number } = {}): Promise<FakeQmp> {
  const dir = mkdtempSync(join(tmpdir(), 'mt-qmp-'));
  const path = join(dir, 'q.sock');
  const received: QmpMessage[] = [];
  const sockets: Socket[] = [];
  const server = createServer((sock) => {
    sockets.push(sock);
    const send = (m: unknown): void => void sock.write(JSON.stringify(m) + '\r\n');
    send(GREETING);
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        const cmd = JSON.parse(line) as QmpMessage;
        received.push(cmd);
        if (cmd['execute'] === 'qmp_capabilities') send({ return: {}, id: cmd['id'] });
        else onCommand(cmd, send);
      }
    });
    sock.on('error', () => {});
  });
  const fake: FakeQmp = {
    path,
    server,
    received,
    sockets,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          r();
        });
      }),
  };
  return new Promise((resolve) => {
    const listen = (): void => void server.listen(path);
    if (opts.listenAfterMs) {
      setTimeout(listen, opts.listenAfterMs);
      resolve(fake);
    } else {
      server.listen(path, () => resolve(fake));
    }
  });
}

const ev = (event: string, data?: unknown): unknown => ({ event, data, timestamp: { seconds: 1, microseconds: 2 } });

describe('QmpClient', () => {
  test('reads the greeting and negotiates capabilities before any command', async () => {
    const transcript: Array<[string, QmpMessage]> = [];
    const fake = await fakeQmp((cmd, send) => send({ return: { status: 'running', running: true }, id: cmd['id'] }));
    try {
      const c = await QmpClient.connect(fake.path, { onMessage: (dir, msg) => transcript.push([dir, msg]) });
      assert.deepEqual(c.greeting, GREETING);
      assert.equal(fake.received[0]?.['execute'], 'qmp_capabilities');
      assert.deepEqual(await c.execute('query-status'), { status: 'running', running: true });
      // The transcript has both directions, greeting first.
      assert.deepEqual(transcript[0], ['<', GREETING]);
      assert.equal(transcript[1]?.[0], '>');
      assert.ok(transcript.some(([d, m]) => d === '>' && m['execute'] === 'query-status'));
      c.close();
    } finally {
      await fake.close();
    }
  });

  test('matches replies to commands by id, with events interleaved', async () => {
    const held: QmpMessage[] = [];
    const fake = await fakeQmp((cmd, send) => {
      held.push(cmd);
      if (held.length < 2) return;
      // Answer in reverse order, with events before, between and after the replies.
      send(ev('MIGRATION', { status: 'setup' }));
      send({ return: { which: held[1]?.['execute'] }, id: held[1]?.['id'] });
      send(ev('MIGRATION_PASS', { pass: 1 }));
      send({ return: { which: held[0]?.['execute'] }, id: held[0]?.['id'] });
      send(ev('MIGRATION', { status: 'active' }));
    });
    try {
      const c = await QmpClient.connect(fake.path);
      const seen: string[] = [];
      c.onEvent((e) => seen.push(e.event));
      const since = c.events.length;
      const [a, b] = await Promise.all([c.execute('query-migrate'), c.execute('query-status')]);
      assert.deepEqual(a, { which: 'query-migrate' });
      assert.deepEqual(b, { which: 'query-status' });
      const ids = fake.received.slice(1).map((m) => m['id']);
      assert.equal(new Set(ids).size, 2, 'every command carries its own id');
      // An event that arrived before the wait began still counts when `since` covers it.
      const active = await c.waitForEvent((e) => e.event === 'MIGRATION' && e.data?.['status'] === 'active', 1000, since);
      assert.equal(active.data?.['status'], 'active');
      assert.deepEqual(seen, ['MIGRATION', 'MIGRATION_PASS', 'MIGRATION']);
      assert.deepEqual(c.events[0]?.timestamp, { seconds: 1, microseconds: 2 });
      c.close();
    } finally {
      await fake.close();
    }
  });

  test('an error reply rejects with QmpError carrying class and desc', async () => {
    const fake = await fakeQmp((cmd, send) =>
      send({ error: { class: 'GenericError', desc: "Postcopy is not supported: Userfaultfd not available" }, id: cmd['id'] }),
    );
    try {
      const c = await QmpClient.connect(fake.path);
      await assert.rejects(c.execute('migrate-set-capabilities', { capabilities: [] }), (e: unknown) => {
        assert.ok(e instanceof QmpError);
        assert.equal(e.command, 'migrate-set-capabilities');
        assert.equal(e.errorClass, 'GenericError');
        assert.match(e.desc, /Userfaultfd/);
        return true;
      });
      c.close();
    } finally {
      await fake.close();
    }
  });

  test('a command with no answer times out; the late reply is ignored, later commands work', async () => {
    let first = true;
    const fake = await fakeQmp((cmd, send) => {
      if (first) {
        first = false;
        setTimeout(() => send({ return: { late: true }, id: cmd['id'] }), 150);
        return;
      }
      send({ return: { ok: true }, id: cmd['id'] });
    });
    try {
      const c = await QmpClient.connect(fake.path);
      const t0 = Date.now();
      await assert.rejects(c.execute('query-migrate', undefined, 60), QmpTimeoutError);
      assert.ok(Date.now() - t0 < 1000);
      await new Promise((r) => setTimeout(r, 200)); // the late reply arrives and matches nothing
      assert.deepEqual(await c.execute('query-status'), { ok: true });
      await assert.rejects(c.waitForEvent((e) => e.event === 'NEVER', 50), QmpTimeoutError);
      c.close();
    } finally {
      await fake.close();
    }
  });

  test('connect retries until the socket exists, and gives up at its timeout', async () => {
    const fake = await fakeQmp((cmd, send) => send({ return: {}, id: cmd['id'] }), { listenAfterMs: 150 });
    try {
      const c = await QmpClient.connect(fake.path, { connectTimeoutMs: 3000 });
      assert.ok(c.greeting);
      c.close();
    } finally {
      await fake.close();
    }
    await assert.rejects(QmpClient.connect(join(tmpdir(), 'mt-no-such.sock'), { connectTimeoutMs: 100 }), QmpTimeoutError);
  });

  test('a closed connection fails pending commands and waits', async () => {
    const fake = await fakeQmp(() => {
      /* never answers */
    });
    try {
      const c = await QmpClient.connect(fake.path);
      const pending = c.execute('quit', undefined, 5000);
      const waiting = c.waitForEvent(() => false, 5000);
      await new Promise((r) => setTimeout(r, 30));
      for (const s of fake.sockets) s.destroy();
      await assert.rejects(pending, QmpClosedError);
      await assert.rejects(waiting, QmpClosedError);
      await c.whenClosed();
      assert.equal(c.closed, true);
      await assert.rejects(c.execute('query-status'), QmpClosedError);
    } finally {
      await fake.close();
    }
  });
});

// ---------------------------------------------------------------- argv per scenario

const V72 = parseQemuVersion('QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)');
const V10 = parseQemuVersion('QEMU emulator version 10.0.13 (Debian 1:10.0.13+ds-0+deb13u1)');

function spec(side: 'src' | 'dst', scenario: (typeof SCENARIO_NAMES)[number], version = V10): SideArgvSpec {
  const s = SCENARIOS[scenario];
  return {
    side,
    qemu: ['chroot', 'CHROOT', 'qemu-system-x86_64'],
    workdir: '/mig-work/run',
    kernel: '/mig-work/run/dirtier.elf',
    wsMib: s.wsMib,
    memMib: 64,
    machine: 'pc',
    globals: scenarioGlobals(s, version),
    incoming: side === 'dst',
  };
}

describe('buildQemuArgv', () => {
  test('reproduces the shared compat run exactly (10.0.13/c-postcopy-preempt-pre72-2)', () => {
    const dir = '/mig-work/10.0.13-c-postcopy-preempt-pre72-2';
    const argv = buildQemuArgv({ ...spec('dst', 'postcopy-preempt-compat'), workdir: dir, kernel: `${dir}/dirtier.elf` });
    assert.deepEqual(argv, [
      'chroot', 'CHROOT', 'qemu-system-x86_64', '-name', 'dst,debug-threads=on', '-accel', 'tcg', '-M', 'pc', '-m', '64',
      '-display', 'none', '-nodefaults', '-kernel', `${dir}/dirtier.elf`, '-append', 'ws=40',
      '-serial', `file:${dir}/dst-serial.log`, '-qmp', `unix:${dir}/dst.qmp,server=on,wait=off`,
      '-trace', `events=${dir}/events.txt`, '-D', `${dir}/dst.log`, '-msg', 'timestamp=on',
      '-global', 'migration.x-preempt-pre-7-2=on', '-incoming', 'defer',
    ]);
  });

  for (const name of SCENARIO_NAMES) {
    test(`scenario ${name}`, () => {
      const src = buildQemuArgv(spec('src', name));
      const dst = buildQemuArgv(spec('dst', name));
      assert.deepEqual(src.slice(0, 3), ['chroot', 'CHROOT', 'qemu-system-x86_64']);
      assert.ok(!src.includes('-incoming'), 'the source is not incoming');
      assert.deepEqual(dst.slice(-2), ['-incoming', 'defer']);
      assert.ok(src.includes('src,debug-threads=on') && dst.includes('dst,debug-threads=on'));
      assert.equal(src[src.indexOf('-accel') + 1], 'tcg');
      assert.equal(src[src.indexOf('-msg') + 1], 'timestamp=on');
      assert.equal(src[src.indexOf('-D') + 1], '/mig-work/run/src.log');
      assert.equal(dst[dst.indexOf('-D') + 1], '/mig-work/run/dst.log');
      assert.equal(src[src.indexOf('-append') + 1], name === 'precopy' ? 'ws=4' : 'ws=40');
      const compat = name === 'postcopy-preempt-compat';
      assert.equal(src.includes(PREEMPT_PRE_7_2_GLOBAL), compat);
      assert.equal(dst.includes(PREEMPT_PRE_7_2_GLOBAL), compat);
      // 7.2 rejects the property; a 7.2 side gets no -global at all.
      assert.ok(!buildQemuArgv(spec('src', name, V72)).includes('-global'));
    });
  }

  test('scenario capabilities and faults', () => {
    for (const name of SCENARIO_NAMES) assert.ok(SCENARIOS[name].caps.includes('events'), `${name} turns on events`);
    assert.deepEqual(SCENARIOS.precopy.caps, ['events']);
    assert.ok(!SCENARIOS.postcopy.caps.includes('postcopy-preempt'));
    assert.equal(SCENARIOS['postcopy-preempt-pause-recover'].fault, 'pause');
    assert.equal(SCENARIOS['postcopy-preempt-kill-recover'].fault, 'kill');
    assert.ok(SCENARIOS['postcopy-preempt-kill-recover'].recover);
    for (const name of SCENARIO_NAMES) assert.equal(SCENARIOS[name].twice, name === 'migrate-twice', `${name}: twice`);
  });

  test('migrate-twice: a cancel during precopy, then postcopy-preempt, default mode', () => {
    const s = SCENARIOS['migrate-twice'];
    assert.equal(s.fault, 'cancel');
    assert.ok(s.postcopy && !s.recover && !s.compatPre72);
    assert.deepEqual(s.caps, ['postcopy-ram', 'postcopy-preempt', 'events']);
    // The cancel must land in precopy, after the migration is under way, before postcopy would start.
    assert.ok(s.faultAfterMs >= 200 && s.faultAfterMs < 2000, String(s.faultAfterMs));
    assert.deepEqual(scenarioGlobals(s, V10), []);
  });

  test('simpleTrace: the simple backend writes <name>.simple beside the log, as in the self-built run with .simple files', () => {
    const dir = '/mig-work/10.0.13-v0-c-postcopy-preempt-1';
    const meta = JSON.parse(readFileSync(fileURLToPath(new URL('../../traces/10.0.13-selfbuilt/c-postcopy-preempt-1/meta.json', import.meta.url)), 'utf8')) as { cmdline: Record<string, string[]> };
    for (const side of ['src', 'dst'] as const) {
      const argv = buildQemuArgv({ ...spec(side, 'postcopy-preempt'), workdir: dir, kernel: `${dir}/dirtier.elf`, simpleTrace: true });
      const recorded = meta.cmdline[side]!;
      assert.equal(argv[argv.indexOf('-trace') + 1], recorded[recorded.indexOf('-trace') + 1]);
      assert.equal(argv[argv.indexOf('-D') + 1], `${dir}/${side}.log`, 'the log is still written');
    }
    assert.equal(buildQemuArgv(spec('src', 'postcopy-preempt')).find((a) => a.includes('.simple')), undefined, 'no simple file unless asked');
  });

  test('a destination named dst1/dst2 (migrate-twice) has its own name and files', () => {
    const argv = buildQemuArgv({ ...spec('dst', 'migrate-twice'), name: 'dst2' });
    assert.ok(argv.includes('dst2,debug-threads=on'));
    assert.equal(argv[argv.indexOf('-D') + 1], '/mig-work/run/dst2.log');
    assert.equal(argv[argv.indexOf('-serial') + 1], 'file:/mig-work/run/dst2-serial.log');
    assert.equal(argv[argv.indexOf('-qmp') + 1], 'unix:/mig-work/run/dst2.qmp,server=on,wait=off');
    assert.deepEqual(argv.slice(-2), ['-incoming', 'defer']);
  });

  test('--combined-log: no -D (trace lines go to stderr), -msg timestamp=on stays', () => {
    for (const side of ['src', 'dst'] as const) {
      const plain = buildQemuArgv(spec(side, 'postcopy-preempt'));
      const argv = buildQemuArgv({ ...spec(side, 'postcopy-preempt'), combinedLog: true });
      assert.ok(!argv.includes('-D'), argv.join(' '));
      assert.equal(argv[argv.indexOf('-msg') + 1], 'timestamp=on');
      // Nothing else changes.
      const d = plain.indexOf('-D');
      assert.deepEqual(argv, [...plain.slice(0, d), ...plain.slice(d + 2)]);
    }
  });
});

// ---------------------------------------------------------------- event set

/** QEMU's reading of an events file: patterns in order, later lines win. */
function enabled(eventsText: string, name: string): boolean {
  let on = false;
  for (const raw of eventsText.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const neg = line.startsWith('-');
    const pat = new RegExp('^' + (neg ? line.slice(1) : line).split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
    if (pat.test(name)) on = !neg;
  }
  return on;
}

describe('event set', () => {
  test('parseCatalogEvents: first column, header and comments skipped, deduplicated', () => {
    const csv = [
      'event,match,side,role',
      '# a comment, with commas',
      'postcopy_preempt_enabled,^1,src,migration',
      'postcopy_preempt_enabled,^0,src,migration',
      '',
      '"qio_task_thread_start",,src,io-task',
      '   # indented comment',
      'ram_load_postcopy_loop,chan=1,dst,preempt',
    ].join('\n');
    assert.deepEqual(parseCatalogEvents(csv), ['postcopy_preempt_enabled', 'qio_task_thread_start', 'ram_load_postcopy_loop']);
  });

  test('the real catalog: every event enabled except the firehoses of the source version', () => {
    const catalog = readCatalogEvents(catalogPath());
    assert.ok(catalog.length > 20, 'catalog has events');
    assert.ok(!catalog.includes('event'), 'header skipped');
    const cases: Array<[typeof V10, string[]]> = [
      [V10, []],
      [V72, ['postcopy_preempt_send_host_page']],
    ];
    for (const [version, dropped] of cases) {
      const set = deriveEventSet({ catalogEvents: catalog, srcVersion: version });
      for (const e of catalog) {
        const want = !dropped.includes(e);
        assert.equal(enabled(set.text, e), want, `${e} ${want ? 'enabled' : 'disabled'} for a ${version?.major}.${version?.minor} source`);
      }
      assert.deepEqual(set.catalogExcluded, dropped.filter((e) => catalog.includes(e)));
      for (const f of FIREHOSES.filter((x) => !x.includes('*'))) assert.equal(enabled(set.text, f), false, `${f} disabled`);
      assert.equal(enabled(set.text, 'ram_load_postcopy_loop'), true, 'the EOS witness is kept');
      assert.equal(enabled(set.text, 'migration_pagecache_insert'), false);
      // Exclusions come after every positive line, or QEMU would re-enable them.
      const lines = set.text.split('\n').filter((l) => l && !l.startsWith('#'));
      const firstNeg = lines.findIndex((l) => l.startsWith('-'));
      assert.ok(lines.slice(firstNeg).every((l) => l.startsWith('-')));
    }
  });

  test('matches the shared runs: same globs and exclusions, plus catalog events no glob covers', () => {
    const set = deriveEventSet({ catalogEvents: ['qio_task_thread_start', 'migrate_set_state', 'vmstate_downtime_checkpoint'], srcVersion: V10 });
    assert.deepEqual(set.explicit, ['qio_task_thread_start', 'vmstate_downtime_checkpoint']);
    const patterns = set.text.split('\n').filter((l) => l && !l.startsWith('#') && !set.explicit.includes(l));
    assert.deepEqual(patterns, [...BROAD_GLOBS, ...FIREHOSES.map((f) => `-${f}`)]);
  });

  test('a 7.2 source with max-postcopy-bandwidth drops the rate-limit loop events', () => {
    const set = deriveEventSet({ catalogEvents: ['migrate_pending', 'savevm_section_end'], srcVersion: V72, rateLimitLoop: true });
    for (const e of ['migration_rate_limit_post', 'migrate_pending', 'savevm_state_iterate', 'savevm_section_end']) {
      assert.equal(enabled(set.text, e), false, e);
    }
    assert.deepEqual(set.catalogExcluded, ['migrate_pending', 'savevm_section_end']);
  });

  test('unknown source version is treated as pre-8.0 (the noisier one)', () => {
    const set = deriveEventSet({ catalogEvents: ['postcopy_preempt_send_host_page'], srcVersion: null });
    assert.equal(enabled(set.text, 'postcopy_preempt_send_host_page'), false);
  });
});

// ---------------------------------------------------------------- small helpers

describe('helpers', () => {
  test('parseQemuVersion', () => {
    assert.deepEqual(V72, { major: 7, minor: 2, micro: 22 });
    assert.deepEqual(V10, { major: 10, minor: 0, micro: 13 });
    assert.equal(parseQemuVersion('not qemu'), null);
  });

  test('serial and trace log summaries', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mt-sum-'));
    try {
      writeFileSync(join(dir, 's.log'), "dirtier: cmdline='x ws=40' mem_upper_kb=64384 ws_mb=40 pages=10240\nhb t=1 sweep=10 bad=0\nBAD page=0x00200000 expect=1 got=2\nhb t=2 sweep=20 bad=1\n");
      const s = summarizeSerial(join(dir, 's.log'));
      assert.deepEqual(s, { boot: "dirtier: cmdline='x ws=40' mem_upper_kb=64384 ws_mb=40 pages=10240", heartbeats: 2, last_heartbeat: ['2', '20', '1'], BAD_lines: 1 });
      assert.match(guestVerdict(null, s, true), /^INCONSISTENT/);
      assert.match(guestVerdict(null, { boot: null, heartbeats: 1, last_heartbeat: ['3', '9', '0'], BAD_lines: 0 }, true), /^consistent/);
      assert.match(guestVerdict(null, null, true), /no heartbeat/);
      writeFileSync(join(dir, 't.log'), '12@1795635178.785387:migrate_set_state new state active\n12@1795635178.785388:migrate_set_state new state completed\n2026-11-26T10:07:45.698585Z qemu-system-x86_64: Unable to read\n13@1795635178.785389:source_return_path_thread_entry \n');
      const t = await summarizeTraceLog(join(dir, 't.log'));
      assert.equal(t?.lines, 4);
      assert.equal(t?.non_trace_lines, 1);
      assert.deepEqual(t?.events, { migrate_set_state: 2, source_return_path_thread_entry: 1 });
      assert.deepEqual(t?.lines_per_tid, { '12': 2, '13': 1 });
      assert.equal(await summarizeTraceLog(join(dir, 'none.log')), null);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('ss output: sockets counted, header not', () => {
    const out = 'Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n0      469214     127.0.0.1:53700    127.0.0.1:42229       \n0      0          127.0.0.1:42229    127.0.0.1:34070       \n';
    assert.equal(countSsSockets(out), 2);
    assert.equal(countSsSockets(''), 0);
  });

  test('--param parsing', () => {
    assert.deepEqual(parseParams(['max-postcopy-bandwidth=1048576', 'tls-creds=x', 'flag=true']), {
      'max-postcopy-bandwidth': 1048576,
      'tls-creds': 'x',
      flag: true,
    });
    assert.throws(() => parseParams(['nonsense']), /name=value/);
  });

  test('a busy port is reported as such', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen({ host: '127.0.0.1', port: 0 }, () => r()));
    const addr = srv.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    try {
      await assert.rejects(checkPortFree(port), /port \d+ on 127\.0\.0\.1 is busy/);
    } finally {
      srv.close();
    }
  });

  test('a missing QEMU is reported with the way to install it, and nothing is started', async () => {
    const out = mkdtempSync(join(tmpdir(), 'mt-noqemu-'));
    try {
      const r = await runCapture({ scenario: 'precopy', outDir: out, qemu: 'qemu-system-x86_64-does-not-exist' });
      assert.equal(r.ok, false);
      assert.equal(r.preflight, 'qemu-missing');
      assert.match(r.errors.join('\n'), /not on PATH.*install-qemu\.sh/);
      const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8')) as { errors: string[]; pids: Record<string, unknown> };
      assert.equal(meta.errors.length, 1);
      assert.deepEqual(meta.pids, { dst: null, src: null });
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------- a hung migration, as captured

describe('a migration that hangs (traces/7.2.22/stuck-postcopy-preempt-multifd-1, 7.2 multifd + postcopy-preempt)', () => {
  const dir = join(fileURLToPath(new URL('../../', import.meta.url)), 'traces/7.2.22/stuck-postcopy-preempt-multifd-1');
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Record<string, any>;
  const steps = meta['steps'] as Array<Record<string, any>>;

  test('the scenario asks for multifd with postcopy-preempt', () => {
    assert.deepEqual(SCENARIOS['postcopy-preempt-multifd'].caps, ['postcopy-ram', 'postcopy-preempt', 'multifd', 'events']);
    assert.equal(meta['scenario'], 'postcopy-preempt-multifd');
  });

  test('the wait timed out, then the capture sent migrate_cancel and recorded that the source stayed cancelling', () => {
    const timeout = steps.findIndex((s) => s['kind'] === 'wait-status' && s['got'] === null && s['elapsed'] >= 30);
    assert.ok(timeout > 0, 'a status wait that ran out');
    const cancel = steps.findIndex((s) => s['kind'] === 'qmp' && s['cmd'] === 'migrate_cancel');
    assert.ok(cancel > timeout, 'migrate_cancel after the timeout');
    assert.deepEqual(steps[cancel + 1]?.['seen'], ['cancelling']);
    assert.ok((meta['notes'] as string[]).some((n) => /still cancelling after 5 s/.test(n)));
    assert.equal(meta['ok'], false);
    assert.match(meta['outcome'], /^failed: src: timed out after 30 s/);
    assert.equal(meta['hang_snapshots'].length, 2, 'the hung state, and the state after the cancel');
  });

  test('it stopped its own QEMUs only, by pid: the source quit, the unresponsive destination was killed', () => {
    assert.deepEqual(meta['exits']['src'], { code: 0, signal: null, how: 'exited' });
    assert.equal(meta['exits']['dst']['how'], 'SIGKILL');
    assert.ok(steps.some((s) => s['side'] === 'dst' && s['cmd'] === 'quit' && /no answer/.test(s['error'])), 'dst did not answer quit');
    assert.deepEqual(meta['exit_codes'], { dst: null, src: 0 });
  });
});
