// Each rule on minimal synthetic traces: where it fires, where it stays silent, where it must say
// inconclusive. Real-trace cases are in e2e.test.ts.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildCatalog, loadCatalog, parseCatalog, type Catalog } from '../src/model/catalog.js';
import { analyzeRun } from '../src/replay/run.js';
import { RULES } from '../src/rules/index.js';
import type { RunResult } from '../src/types.js';
import { logLines, tempRun } from './helpers.js';
import { evidenceText } from '../src/report/evidence.js';

const catalog = loadCatalog();
const MAIN = 100, MIG = 101, RP = 102, LISTEN = 201, FAULT = 202, PRE = 203, DMAIN = 200;

async function analyze(files: { src?: string; dst?: string }, stuckAfterMs = 1000, cat: Catalog = catalog): Promise<RunResult> {
  const dir = tempRun(Object.fromEntries(Object.entries(files).map(([k, v]) => [`${k}.log`, v as string])));
  const inputs = Object.keys(files).map((k) => ({ path: join(dir, `${k}.log`), side: k as 'src' | 'dst' }));
  return analyzeRun({ name: 't', inputs }, { rules: RULES, catalog: cat, stuckAfterMs, maxUnparsedSamples: 5 });
}

function outcome(r: RunResult, rule: string): string {
  if (r.findings.some((f) => f.rule === rule)) return `finding:${evidenceText(r.findings.find((f) => f.rule === rule)!.evidence)}`;
  if (r.inconclusive.some((i) => i.rule === rule)) return 'inconclusive';
  if (r.notApplicable.some((i) => i.rule === rule)) return 'not-applicable';
  return 'clean';
}

interface SrcOpts {
  version?: 'old' | 'new' | 'none';
  channelBeforePong?: boolean;
  writesInside?: number;
  writesAfter?: number;
  proxyOnly?: boolean;
  complete?: boolean;
  /** Compat mode whose first PONG came just before the channel, both still in setup (a real run did). */
  pongFirstInSetup?: boolean;
}

/** A source trace: setup, postcopy start, completion window, rp exit (§D.1 / §D.2 shapes). */
function src(o: SrcOpts = {}): string {
  const e: Array<[number, number, string]> = [
    [MAIN, 0.0, 'open_return_path_on_source '],
    [RP, 0.001, 'source_return_path_thread_entry '],
  ];
  if (o.pongFirstInSetup) e.push([RP, 0.0011, 'source_return_path_thread_pong 0x1']);
  if (o.channelBeforePong || o.pongFirstInSetup) e.push([MAIN, 0.0015, 'postcopy_preempt_new_channel ']);
  e.push([MIG, 0.0019, 'migrate_set_state new state active'], [MIG, 0.002, 'migration_thread_setup_complete ']);
  if (o.version === 'old') e.push([MIG, 0.003, 'migrate_pending pending size 1 max 2 (pre = 0 compat=0 post=1)']);
  if (o.version !== 'old' && o.version !== 'none') e.push([MIG, 0.003, 'migrate_pending_exact exact pending size 1 (pre = 0 post=1)']);
  if (!o.pongFirstInSetup) e.push([RP, 0.005, 'source_return_path_thread_pong 0x1']);
  if (o.channelBeforePong === false) e.push([MAIN, 1.0, 'postcopy_preempt_new_channel ']);
  e.push([MIG, 1.001, 'postcopy_start '], [MIG, 1.002, 'postcopy_preempt_enabled 1']);
  // In 7.2 the migration thread sends urgent pages itself (§0.1); from 8.0 the rp thread does.
  const W = o.version === 'old' ? MIG : RP;
  const write = (t: number): Array<[number, number, string]> =>
    o.proxyOnly
      ? [[RP, t, 'ram_save_queue_pages pc.ram: start: 0x1000 len: 0x1000'], [RP, t + 0.00001, 'source_return_path_thread_loop_top ']]
      : [[W, t, 'postcopy_preempt_send_host_page ramblock pc.ram offset 0x1'], [RP, t + 0.00001, 'source_return_path_thread_loop_top ']];
  e.push([MIG, 1.1, 'migration_completion_postcopy_end ']);
  for (let i = 0; i < (o.writesInside ?? 0); i++) e.push(...write(1.101 + i * 0.0001));
  e.push([MIG, 1.2, 'savevm_section_end ram, section_id 1 -> 0']);
  if (o.complete !== false) {
    e.push([MIG, 1.2001, 'migration_completion_postcopy_end_after_complete '], [MIG, 1.2002, 'migration_return_path_end_before ']);
    for (let i = 0; i < (o.writesAfter ?? 0); i++) e.push(...write(1.21 + i * 0.0001));
    e.push([RP, 1.3, 'source_return_path_thread_shut 0x0'], [RP, 1.3001, 'source_return_path_thread_end '], [MIG, 1.31, 'migrate_set_state new state completed']);
  }
  return logLines(e);
}

interface DstOpts {
  after?: 'exit' | 'pause' | 'incoming-pause-then-pause' | 'nothing';
  exitAfterMs?: number;
  traceGoesOnS?: number;
}

/** A destination trace: preempt/listen/fault threads, the cleanup and what the preempt thread does after it (§D.2, §D.4). */
function dst(o: DstOpts = {}): string {
  const e: Array<[number, number, string]> = [
    [DMAIN, 0.0, 'migration_socket_incoming_accepted '],
    [DMAIN, 0.001, 'ram_load_start '],
    [FAULT, 1.0, 'postcopy_ram_fault_thread_entry '],
    [PRE, 1.0001, 'postcopy_preempt_thread_entry '],
    [LISTEN, 1.0002, 'migrate_set_state new state postcopy-active'],
    [LISTEN, 1.0003, 'postcopy_ram_listen_thread_start '],
    [PRE, 1.05, 'ram_load_postcopy_loop chan=1 addr=0x1000 flags=0x8'],
    [LISTEN, 1.25, 'qemu_loadvm_state_section 0'],
    [LISTEN, 1.2501, 'postcopy_ram_listen_thread_exit '],
    [LISTEN, 1.2502, 'postcopy_ram_incoming_cleanup_entry '],
  ];
  const t = 1.2502 + (o.exitAfterMs ?? 3) / 1000;
  switch (o.after ?? 'exit') {
    case 'exit':
      e.push([PRE, t, 'postcopy_preempt_thread_exit '], [LISTEN, t + 0.0001, 'postcopy_ram_incoming_cleanup_join '], [LISTEN, t + 0.001, 'migrate_send_rp_message 1: len 4']);
      break;
    case 'pause':
      e.push([PRE, t, 'postcopy_pause_fast_load ']);
      break;
    case 'incoming-pause-then-pause':
      e.push([LISTEN, t - 0.001, 'postcopy_pause_incoming '], [LISTEN, t - 0.0005, 'migrate_set_state new state postcopy-paused'], [PRE, t, 'postcopy_pause_fast_load ']);
      break;
    case 'nothing':
      break;
  }
  e.push([DMAIN, 1.2502 + (o.traceGoesOnS ?? 2), 'migration_cancel ']);
  return logLines(e);
}

describe('qemufile-concurrent-access', () => {
  const R = 'qemufile-concurrent-access';
  it('fires with interleaved evidence: compat-mode EOS window with rp writes inside', async () => {
    const r = await analyze({ src: src({ channelBeforePong: true, writesInside: 3, writesAfter: 2 }) });
    assert.equal(outcome(r, R), 'finding:interleaved');
    const f = r.findings[0]!;
    assert.equal(f.details?.ownerWritesInside, 3);
    assert.equal(f.locations[0]!.event, 'migration_completion_postcopy_end_after_complete');
    assert.equal(f.locations[0]!.role, 'migration');
    assert.equal(f.locations[1]!.role, 'rp');
    assert.equal(f.locations[1]!.tid, RP);
    assert.equal(r.mode.compatPre72, true);
  });
  it('fires with after-eos evidence when the owner writes only after the EOS', async () => {
    const r = await analyze({ src: src({ channelBeforePong: true, writesAfter: 2 }) });
    assert.equal(outcome(r, R), 'finding:after-eos');
    assert.equal(r.findings[0]!.details?.ownerWritesAfter, 2);
  });
  it('fires with ownership evidence when the owner was alive but logged no write nearby', async () => {
    assert.equal(outcome(await analyze({ src: src({ channelBeforePong: true }) }), R), 'finding:ownership');
  });
  it('uses ram_save_queue_pages as the write proxy when send_host_page is filtered out (§G.6)', async () => {
    const r = await analyze({ src: src({ channelBeforePong: true, writesInside: 2, proxyOnly: true }) });
    assert.equal(outcome(r, R), 'finding:interleaved');
    assert.match(String(r.findings[0]!.details?.writeEvidence), /proxy/);
  });
  it('is silent for a 7.2 source: the migration thread is the only writer', async () => {
    const r = await analyze({ src: src({ version: 'old', channelBeforePong: true, writesInside: 3 }) });
    assert.equal(outcome(r, R), 'clean');
    assert.equal(r.mode.compatPre72, false);
  });
  it('is silent in new mode (channel after the first PONG): no EOS', async () => {
    const r = await analyze({ src: src({ channelBeforePong: false, writesInside: 3, writesAfter: 3 }) });
    assert.equal(outcome(r, R), 'clean');
    assert.equal(r.mode.compatPre72, false);
  });
  it('is inconclusive when nothing tells compat from new mode', async () => {
    const r = await analyze({ src: src({ writesInside: 3 }).replace(/.*postcopy_preempt_new_channel.*\n/g, '') });
    assert.equal(outcome(r, R), 'inconclusive');
    assert.equal(r.verdict, 'inconclusive');
  });
  it('without thread ids, tells the threads apart by event names and says so', async () => {
    const bare = src({ channelBeforePong: true, writesInside: 3 }).replace(/^\d+@([\d.]+):/gm, '');
    const r = await analyze({ src: bare });
    assert.equal(outcome(r, R), outcome(await analyze({ src: src({ channelBeforePong: true, writesInside: 3 }) }), R));
    const f = r.findings.find((x) => x.rule === R)!;
    assert.equal(f.threads, 'event names (no thread ids)');
    assert.deepEqual(f.locations.slice(0, 2).map((l) => [l.tid, l.role]), [[null, 'migration'], [null, 'rp']]);
  });
  it('compat mode is where the channel is created (during setup), not whether a PONG came first', async () => {
    const r = await analyze({ src: src({ pongFirstInSetup: true, writesInside: 2 }) });
    assert.equal(r.mode.compatPre72, true, JSON.stringify(r.mode.evidence));
    assert.equal(outcome(r, R), 'finding:interleaved');
    assert.equal(r.findings.find((f) => f.rule === R)!.mode, 'compat');
    const fresh = await analyze({ src: src({ channelBeforePong: false, writesInside: 2 }) });
    assert.equal(fresh.mode.compatPre72, false, 'a channel created after setup, at postcopy_start, is new mode');
    assert.equal(outcome(fresh, R), 'clean');
  });
  it('is inconclusive when the trace ends inside the EOS window', async () => {
    const r = await analyze({ src: src({ channelBeforePong: true, writesInside: 2, complete: false }) });
    assert.equal(outcome(r, R), 'inconclusive');
    assert.deepEqual(r.inconclusive.find((i) => i.rule === R)!.missing, ['migration_completion_postcopy_end_after_complete']);
  });
});

describe('preempt-quit-as-network-failure', () => {
  const R = 'preempt-quit-as-network-failure';
  it('fires when the preempt thread pauses after the cleanup asked it to quit', async () => {
    const r = await analyze({ dst: dst({ after: 'pause' }) });
    assert.equal(outcome(r, R), 'finding:pause-after-quit, cleanup hung');
    const f = r.findings.find((x) => x.rule === R)!;
    assert.equal(f.locations[0]!.role, 'preempt');
    assert.equal(f.locations[1]!.event, 'postcopy_ram_incoming_cleanup_entry');
    assert.equal(f.locations[1]!.role, 'listen');
    assert.equal(outcome(r, 'preempt-quit-stuck'), 'clean', 'the stuck rule must not repeat it');
  });
  it('is silent on a willing quit (exit, no pause)', async () => {
    assert.equal(outcome(await analyze({ dst: dst({ after: 'exit' }) }), R), 'clean');
  });
  it('is silent when a genuine destination pause came first; that is a network failure', async () => {
    const r = await analyze({ dst: dst({ after: 'incoming-pause-then-pause' }) });
    assert.equal(outcome(r, R), 'clean');
    assert.equal(outcome(r, 'postcopy-network-failure'), 'finding:channel-failure');
  });
  it('does not apply to a <= 7.2 destination (no QUIT mechanism)', async () => {
    // No destination-only event proves <= 7.2 in the shipped catalog; a user catalog row can (--catalog).
    const extra = parseCatalog('event,match,side,role,identifies,qemufile,access,window,versions,signal,ref\nold_dst_marker,,dst,*,,,none,point,<=7.2,fingerprint,test\n', 'extra.csv');
    const cat = buildCatalog([{ file: 'builtin', rows: [...catalog.byEvent.values()].flat() }, { file: 'extra.csv', rows: extra }]);
    const old = dst({ after: 'pause' }).replace('ram_load_start ', 'old_dst_marker ').replace('migration_cancel ', 'migrate_fd_cancel ');
    const r = await analyze({ dst: old }, 1000, cat);
    assert.equal(r.qemu.dst.range, '<=7.2');
    assert.equal(outcome(r, R), 'not-applicable');
  });
});

describe('preempt-quit-stuck', () => {
  const R = 'preempt-quit-stuck';
  it('fires when the preempt thread never exits and the trace goes on past --stuck-after', async () => {
    assert.equal(outcome(await analyze({ dst: dst({ after: 'nothing', traceGoesOnS: 2 }) }), R), 'finding:never-exited');
  });
  it('is inconclusive when the trace ends before --stuck-after', async () => {
    assert.equal(outcome(await analyze({ dst: dst({ after: 'nothing', traceGoesOnS: 0.5 }) }), R), 'inconclusive');
  });
  it('is silent when the thread exits a few ms after the cleanup starts', async () => {
    assert.equal(outcome(await analyze({ dst: dst({ after: 'exit', exitAfterMs: 3 }) }), R), 'clean');
  });
  it('is silent when the preempt thread paused with a genuine destination pause (it waits for recovery)', async () => {
    assert.equal(outcome(await analyze({ dst: dst({ after: 'incoming-pause-then-pause' }) }), R), 'clean');
  });
  it('reports a slow exit beyond --stuck-after', async () => {
    assert.equal(outcome(await analyze({ dst: dst({ after: 'exit', exitAfterMs: 3 }) }, 1), R), 'finding:slow-exit');
  });
});

describe('postcopy-network-failure', () => {
  const R = 'postcopy-network-failure';
  it('is info, so a run with only it is clean', async () => {
    const r = await analyze({ dst: dst({ after: 'incoming-pause-then-pause' }) });
    assert.equal(r.findings.find((f) => f.rule === R)?.severity, 'info');
    assert.deepEqual(r.findings.map((f) => f.rule), [R]);
    assert.notEqual(r.verdict, 'findings', 'an info finding alone never makes a run "findings"');
  });
  it('is silent with no pause', async () => {
    assert.equal(outcome(await analyze({ dst: dst({ after: 'exit' }) }), R), 'clean');
  });
});

describe('preempt-quit-too-early (#1886)', () => {
  const R = 'preempt-quit-too-early';
  const withReqs = (after: 'resolved' | 'outstanding') => {
    const base = dst({ after: 'exit' }).split('\n');
    const at = base.findIndex((l) => l.includes('postcopy_ram_incoming_cleanup_entry'));
    const add = logLines([[FAULT, 1.2, 'postcopy_page_req_add new page req 0x7f00 total 1']]).trim();
    const del = logLines([[PRE, 1.25025, 'postcopy_page_req_del resolved page req 0x7f00 total 0']]).trim();
    base.splice(at, 0, add);
    if (after === 'resolved') base.splice(at + 2, 0, del); // resolved after the cleanup started, before the exit
    return base.join('\n');
  };
  it('fires when the preempt thread exits with a request outstanding', async () => {
    const r = await analyze({ dst: withReqs('outstanding') });
    assert.equal(outcome(r, R), 'finding:outstanding-at-exit');
    assert.equal(r.findings.find((f) => f.rule === R)!.details?.outstandingAtExit, 1);
  });
  it('is silent when the request is resolved before the exit (the cf02f29e1e wait)', async () => {
    assert.equal(outcome(await analyze({ dst: withReqs('resolved') }), R), 'clean');
  });
  it('is inconclusive when page requests were not traced', async () => {
    const r = await analyze({ dst: dst({ after: 'exit' }) });
    assert.equal(outcome(r, R), 'inconclusive');
    assert.deepEqual(r.inconclusive.find((i) => i.rule === R)?.missing, ['postcopy_page_req_add', 'postcopy_page_req_del']);
  });
});

describe('postcopy-split-brain', () => {
  const R = 'postcopy-split-brain';
  const srcFailing = (fail: boolean) =>
    logLines([
      [MIG, 0.001, 'migration_thread_setup_complete '],
      [MIG, 1.0, 'postcopy_start '],
      [MIG, 1.001, 'migrate_set_state new state postcopy-active'],
      ...(fail ? ([[MIG, 1.3, 'migrate_set_state new state failed']] as Array<[number, number, string]>) : []),
      [MAIN, 3, 'migration_cancel '],
    ]);
  const dstRunning = logLines([
    [DMAIN, 0.0, 'migration_socket_incoming_accepted '],
    [LISTEN, 1.0002, 'migrate_set_state new state postcopy-active'],
    [LISTEN, 1.0003, 'postcopy_ram_listen_thread_start '],
    [DMAIN, 1.0004, 'loadvm_postcopy_handle_run '],
    [LISTEN, 1.31, 'migrate_set_state new state postcopy-paused'],
    [DMAIN, 3, 'migration_cancel '],
  ]);
  it('fires when the source fails after the destination started the guest', async () => {
    const r = await analyze({ src: srcFailing(true), dst: dstRunning });
    assert.equal(outcome(r, R), 'finding:source-failed-after-dst-run');
    assert.equal(r.findings.find((f) => f.rule === R)!.locations[1]!.event, 'loadvm_postcopy_handle_run');
  });
  it('is silent when the source does not fail', async () => {
    assert.equal(outcome(await analyze({ src: srcFailing(false), dst: dstRunning }), R), 'clean');
  });
  it('is inconclusive without the destination trace', async () => {
    assert.equal(outcome(await analyze({ src: srcFailing(true) }), R), 'inconclusive');
  });
  it('ignores a "failed" the source logs while shutting down on QMP quit', async () => {
    const quitting = srcFailing(false).replace(/.*migration_cancel.*\n/, '') + logLines([[MAIN, 1.29, 'migration_cancel '], [MIG, 1.3, 'migrate_set_state new state failed']]);
    assert.equal(outcome(await analyze({ src: quitting, dst: dstRunning }), R), 'clean');
  });
});

describe('preempt-channel-before-main (5655aab079)', () => {
  const R = 'preempt-channel-before-main';
  it('warns when a >= 8.0 source creates the channel before the first PONG, compat unconfirmed', async () => {
    const r = await analyze({ src: src({ channelBeforePong: true }) });
    assert.equal(outcome(r, R), 'finding:channel-before-pong');
    assert.equal(r.findings.find((f) => f.rule === R)!.severity, 'warning');
  });
  it('is silent in new mode', async () => {
    assert.equal(outcome(await analyze({ src: src({ channelBeforePong: false }) }), R), 'clean');
  });
  it('does not apply to a 7.2 source', async () => {
    assert.equal(outcome(await analyze({ src: src({ version: 'old', channelBeforePong: true }) }), R), 'not-applicable');
  });
});

describe('preempt-channel-not-ready-at-listen (7afbdada7e)', () => {
  const R = 'preempt-channel-not-ready-at-listen';
  const d = (channelFirst: boolean) =>
    logLines([
      [DMAIN, 0.0, 'migration_socket_incoming_accepted '],
      [DMAIN, 0.001, 'ram_load_start '],
      ...((channelFirst ? [[DMAIN, 0.9, 'postcopy_preempt_new_channel ']] : []) as Array<[number, number, string]>),
      [DMAIN, 0.95, 'loadvm_postcopy_handle_listen enter'],
      ...((channelFirst ? [] : [[DMAIN, 0.96, 'postcopy_preempt_new_channel ']]) as Array<[number, number, string]>),
      [PRE, 1.0001, 'postcopy_preempt_thread_entry '],
      [LISTEN, 1.0003, 'postcopy_ram_listen_thread_start '],
      [DMAIN, 3, 'migration_cancel '],
    ]);
  it('fires when LISTEN comes before the preempt channel', async () => {
    assert.equal(outcome(await analyze({ dst: d(false) }), R), 'finding:channel-after-listen');
  });
  it('is silent when the channel came first', async () => {
    assert.equal(outcome(await analyze({ dst: d(true) }), R), 'clean');
  });
});

describe('recovery-hang (7aa6070d09, f8c543e808)', () => {
  const R = 'recovery-hang';
  const s = (pausesAgain: boolean) =>
    logLines([
      [MIG, 0.001, 'migration_thread_setup_complete '],
      [RP, 0.002, 'source_return_path_thread_entry '],
      [MIG, 1.0, 'postcopy_start '],
      [MIG, 1.001, 'migrate_set_state new state postcopy-active'],
      [MIG, 1.1, 'migrate_set_state new state postcopy-paused'],
      [MAIN, 1.5, 'migrate_set_state new state postcopy-recover'],
      [RP + 10, 1.501, 'source_return_path_thread_entry '],
      [RP + 10, 1.6, 'source_return_path_thread_bad_end '],
      ...((pausesAgain ? [[MIG, 1.61, 'migrate_set_state new state postcopy-paused']] : []) as Array<[number, number, string]>),
      [MAIN, 4, 'migration_cancel '],
    ]);
  it('fires when the return path fails during recovery and the migration never pauses again', async () => {
    assert.equal(outcome(await analyze({ src: s(false) }), R), 'finding:no-pause-after-rp-failure');
  });
  it('is silent when the migration goes back to postcopy-paused', async () => {
    assert.equal(outcome(await analyze({ src: s(true) }), R), 'clean');
  });
});

describe('migration-stuck', () => {
  const R = 'migration-stuck';
  const s = (idleS: number) =>
    logLines([
      [MIG, 0.001, 'migration_thread_setup_complete '],
      [MIG, 0.002, 'migrate_set_state new state active'],
      [MIG, 0.5, 'migrate_pending_exact exact pending size 1 (pre = 1 post=0)'],
      [MAIN, 0.5 + idleS, 'migration_cancel '],
    ]);
  it('fires when the migration is silent for --stuck-after while working and a later event shows time went on', async () => {
    const r = await analyze({ src: s(2) });
    assert.equal(outcome(r, R), 'finding:silent-while-active');
    const f = r.findings.find((x) => x.rule === R)!;
    assert.deepEqual(f.locations.map((l) => l.event), ['migrate_pending_exact', 'migration_cancel'], 'both ends of the silence');
    assert.equal(f.details!.silentMs, 2000);
  });
  it('fires when nothing at all follows the silence in the trace, but the other process logs on (idle at the end)', async () => {
    const dst = logLines([[900, 0.001, 'migrate_set_state new state active'], [900, 3, 'qemu_loadvm_state_section 4']]);
    const src = s(0).replace(/.*migration_cancel.*\n/, '');
    const r = await analyze({ src, dst });
    assert.equal(outcome(r, R), 'finding:idle-at-end');
  });
  it('reports a cancel that never reaches cancelled', async () => {
    const src = logLines([
      [MIG, 0.001, 'migration_thread_setup_complete '],
      [MIG, 0.002, 'migrate_set_state new state active'],
      [MIG, 0.5, 'migrate_pending_exact exact pending size 1 (pre = 1 post=0)'],
      [MAIN, 0.6, 'migration_cancel '],
      [MAIN, 0.6001, 'migrate_set_state new state cancelling'],
    ]);
    const dst = logLines([[900, 0.001, 'migrate_set_state new state active'], [900, 3, 'qemu_loadvm_state_section 4']]);
    const r = await analyze({ src, dst });
    assert.equal(outcome(r, R), 'finding:cancel-never-completed');
    assert.equal(r.findings.find((f) => f.rule === R)!.locations[0]!.note, 'cancel requested: state cancelling');
  });
  it('is inconclusive when the trace just ends soon after the last event', async () => {
    assert.equal(outcome(await analyze({ src: s(0.2) }), R), 'inconclusive');
  });
  it('is silent once the migration completed', async () => {
    const done = s(2).replace('migration_cancel ', 'migrate_set_state new state completed');
    assert.equal(outcome(await analyze({ src: done }), R), 'clean');
  });
});

describe('qemufile-nonowner-close (b3b101157d, 639decf529, 7478fb0df9, ef796ee93b)', () => {
  const R = 'qemufile-nonowner-close';
  const base: Array<[number, number, string]> = [
    [MAIN, 0.0, 'open_return_path_on_source '],
    [RP, 0.001, 'source_return_path_thread_entry '],
    [MIG, 0.002, 'migration_thread_setup_complete '],
    [MIG, 1.0, 'postcopy_start '],
    [MIG, 1.001, 'migrate_set_state new state postcopy-active'],
  ];
  const join = (closeBeforeExit: boolean) =>
    logLines([
      ...base,
      [MIG, 1.2, 'migration_return_path_end_before '],
      ...((closeBeforeExit ? [[MIG, 1.21, 'qemu_file_fclose '], [MIG, 1.211, 'qemu_file_fclose ']] : []) as Array<[number, number, string]>),
      [RP, 1.3, 'source_return_path_thread_shut 0x0'],
      [RP, 1.301, 'source_return_path_thread_end '],
      ...((closeBeforeExit ? [] : [[MIG, 1.31, 'qemu_file_fclose '], [MIG, 1.311, 'qemu_file_fclose ']]) as Array<[number, number, string]>),
      [MIG, 1.32, 'migration_return_path_end_after '],
      [MIG, 1.33, 'migrate_set_state new state completed'],
    ]);
  it('fires when the joiner closes the return-path files before the thread ended', async () => {
    const r = await analyze({ src: join(true) });
    assert.equal(outcome(r, R), 'finding:close-before-rp-exit');
    const f = r.findings.find((x) => x.rule === R)!;
    assert.equal(f.locations[0]!.role, 'migration');
    assert.equal(f.locations[1]!.role, 'rp');
  });
  it('is silent when the files are released after the return-path thread ended (8.2+)', async () => {
    assert.equal(outcome(await analyze({ src: join(false) }), R), 'clean');
  });
  it('fires when the main-thread cleanup closes while the return-path thread lives', async () => {
    const s = logLines([...base, [MAIN, 1.5, 'migration_cleanup '], [MAIN, 1.51, 'qemu_file_fclose '], [RP, 1.6, 'source_return_path_thread_end ']]);
    assert.equal(outcome(await analyze({ src: s }), R), 'finding:cleanup-while-rp-alive');
  });
  it('fires when the old return-path thread closes after the resume re-opened the return path (<= 8.1)', async () => {
    const s = logLines([
      ...base,
      [MIG, 1.1, 'migrate_set_state new state postcopy-paused'],
      [MAIN, 1.5, 'open_return_path_on_source '],
      [RP, 1.51, 'qemu_file_fclose '],
      [RP, 1.52, 'migrate_set_state new state postcopy-active'],
    ]);
    assert.equal(outcome(await analyze({ src: s }), R), 'finding:old-rp-closes-new-file');
  });
});
