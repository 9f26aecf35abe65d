// The scenario scripts: the QMP sequence each scenario drives once the first destination and the
// source run — capabilities, migrate, the postcopy switchover, a pause or kill fault and its
// recovery, or migrate-twice's cancelled attempt followed by a fresh destination. Every step waits
// with a timeout and throws, in plain words, when the migration does not go the scenario's way.
import { join } from 'node:path';
import { sideFiles } from './argv.js';
import { FINISHED, IN_POSTCOPY, PAUSED, STARTED, eventCount, eventTime, lastStatus, qmpStep, statusesSeen, waitForGuestHeartbeat, waitStatus } from './monitor.js';
import { prepareKill, type PreparedKill } from './netfault.js';
import { pickFreePort } from './preflight.js';
import { connectQmp, startFirstPair, startProcess, stderrTail } from './processes.js';
import { QmpError } from './qmp.js';
import type { ExitInfo } from './qemu.js';
import { errText, sleep, type CaptureSession } from './session.js';

const uri = (port: number): string => `tcp:127.0.0.1:${port}`;

/** Runs the scenario to its end; sets s.outcome and result.ok when it went the intended way. */
export async function runScenario(s: CaptureSession): Promise<void> {
  await startFirstPair(s);
  await setUpFirstPair(s);
  // Migrate a guest whose whole working set is written, not one still in its first sweep:
  // untouched pages are zero pages, cheap to send, and the migration would converge in precopy.
  await s.guard(waitForGuestHeartbeat(join(s.plans['src']!.hostDir, sideFiles('src').serial), 15_000, s.rec));
  s.outcome = s.scenario.twice ? await migrateTwice(s) : await migrateOnce(s);
  s.result.ok = true;
  s.rec.step('sleep', { secs: s.settleMs / 1000 });
  await s.guard(sleep(s.settleMs));
}

/** Capabilities of both, the source's parameters, and the destination listening. */
async function setUpFirstPair(s: CaptureSession): Promise<void> {
  const firstDst = s.dstNames[0]!;
  for (const name of ['src', firstDst]) s.finals[`${name}_capabilities`] = await qmpStep(s, name, 'query-migrate-capabilities');
  for (const name of [firstDst, 'src']) await setCaps(s, name);
  const params = s.opts.params;
  if (params && Object.keys(params).length > 0) {
    try {
      await qmpStep(s, 'src', 'migrate-set-parameters', params);
    } catch (e) {
      throw new Error(`parameters refused by src: ${errText(e)}`);
    }
  }
  await qmpStep(s, firstDst, 'migrate-incoming', { uri: uri(s.port) });
  s.ports[firstDst] = s.port;
}

/** migrate-set-capabilities; a refusal is reported as such (postcopy-ram refused = no userfaultfd). */
async function setCaps(s: CaptureSession, name: string): Promise<void> {
  const caps = s.scenario.caps.map((capability) => ({ capability, state: true }));
  try {
    await qmpStep(s, name, 'migrate-set-capabilities', { capabilities: caps });
  } catch (e) {
    if (!(e instanceof QmpError)) throw e;
    const hint = /postcopy|userfault/i.test(e.desc) ? ' (postcopy needs userfaultfd on the destination; see docs/capture.md)' : '';
    throw new Error(`capability refused by ${name} (QEMU ${s.result.versions[s.sideOf(name)]}): ${s.scenario.caps.join(', ')}: ${e.desc}${hint}`);
  }
}

async function migrateOnce(s: CaptureSession): Promise<string> {
  await migrateToCompletion(s, 'dst', s.port);
  return s.scenario.fault === 'none' ? 'completed' : `completed after ${s.scenario.fault} fault and recovery`;
}

// ---- migrate-twice

async function migrateTwice(s: CaptureSession): Promise<string> {
  const first = await cancelledAttempt(s);
  await secondAttempt(s);
  const end = first['src_end'] as string;
  return `first migration ${end === 'cancelled' ? 'cancelled' : `ended ${end} after migrate_cancel`} (${first['outcome'] as string}); second migration completed`;
}

/** The first attempt, to dst1, cancelled during precopy; what dst1 did then. */
async function cancelledAttempt(s: CaptureSession): Promise<Record<string, unknown>> {
  const srcSince = eventCount(s, 'src');
  const dst1Since = eventCount(s, 'dst1');
  const end = await cancelDuringPrecopy(s, srcSince);
  const exit1 = await waitDst1Exit(s, dst1Since);
  const attempt: Record<string, unknown> = {
    dst: 'dst1',
    port: s.port,
    fault: 'migrate_cancel',
    cancel_after_s: s.faultAfterMs / 1000,
    src_statuses: statusesSeen(s, 'src', srcSince),
    dst_statuses: statusesSeen(s, 'dst1', dst1Since),
  };
  if (exit1) {
    const tail = stderrTail(s.stderrPathOf(s.plans['dst1']!));
    attempt['dst_exit'] = exit1;
    attempt['dst_stderr_tail'] = tail;
    s.rec.note(`dst1 QEMU exited (${exit1.signal ?? `code ${exit1.code}`}) after the source cancelled, as expected${tail ? `: ${tail}` : ''}`);
  } else {
    await quitDst1(s, attempt);
  }
  attempt['src_end'] = end;
  attempt['outcome'] = `${end}; dst1 ${exit1 ? `exited (${exit1.signal ?? `code ${exit1.code}`})` : 'did not exit by itself (quit)'}`;
  s.attempts.push(attempt);
  return attempt;
}

/** migrate to dst1, then migrate_cancel `faultAfterMs` into precopy; the source's final status. */
async function cancelDuringPrecopy(s: CaptureSession, srcSince: number): Promise<string> {
  await qmpStep(s, 'src', 'migrate', { uri: uri(s.port) });
  s.timings['migrate_sent'] = s.rec.now();
  const st0 = await waitStatus(s, 'src', STARTED, 30_000, srcSince);
  if (st0 !== 'active') throw new Error(`src: migration to dst1 is ${st0} right after migrate, not active`);
  s.rec.step('sleep', { secs: s.faultAfterMs / 1000, why: 'precopy before migrate_cancel' });
  await s.guard(sleep(s.faultAfterMs));
  const before = lastStatus(s, 'src');
  if (before !== 'active') {
    throw new Error(`src: migration to dst1 is ${before} after ${s.faultAfterMs} ms, not in precopy; the cancel must come during precopy (use a smaller --fault-after-ms or a larger --ws)`);
  }
  // QEMU's default on a cancelled incoming migration: dst1 fails the load and exits 1
  // ("load of migration failed"). That is part of the scenario, not a failure of the capture.
  s.exitExpected.add('dst1');
  s.timings['cancel_sent'] = s.rec.now();
  await qmpStep(s, 'src', 'migrate_cancel');
  const c = await waitStatus(s, 'src', FINISHED, 30_000, srcSince);
  if (c === 'completed') throw new Error('src: migration to dst1 completed although migrate_cancel was sent during precopy');
  s.timings['src_cancelled'] = eventTime(s, 'src', c, srcSince);
  if (c === 'failed') {
    // Real QEMU behaviour (seen on 7.2 in ~1 of 4 runs): migrate_cancel shuts the return path
    // down before it sets `cancelling`, the return-path thread's error makes the migration
    // thread set `failed` first, and the cancel is lost. The attempt still ended; go on.
    s.rec.note('src reported failed, not cancelled, after migrate_cancel: the return path error raced the cancel (QEMU sets cancelling only after shutting the return path down)');
  } else {
    s.rec.say('src cancelled the migration to dst1');
  }
  return c;
}

/** dst1's exit (expected: 1, load of migration failed), or null if it still runs after 10 s. */
async function waitDst1Exit(s: CaptureSession, dst1Since: number): Promise<ExitInfo | null> {
  const d1 = s.live['dst1']!;
  const w = s.rec.step('wait-exit', { side: 'dst1', timeout: 10, why: 'dst1 is expected to exit 1 (load of migration failed)' });
  const t0 = Date.now();
  const exit1 = d1.proc.exitInfo ?? (await s.guard(Promise.race([d1.proc.exit, sleep(10_000).then(() => null)])));
  Object.assign(w, { elapsed: (Date.now() - t0) / 1000, exit: exit1, seen: statusesSeen(s, 'dst1', dst1Since) });
  return exit1;
}

/** Not what the issue describes for default settings, but not wrong either: record dst1's state,
 *  then quit it, so that the second migration goes to a fresh destination only. */
async function quitDst1(s: CaptureSession, attempt: Record<string, unknown>): Promise<void> {
  s.rec.note(`dst1 QEMU still runs 10 s after the source cancelled (status ${lastStatus(s, 'dst1') ?? 'unknown'}); quitting it`);
  for (const [cmd, key] of [['query-migrate', 'query_migrate'], ['query-status', 'query_status']] as const) {
    s.finals[`dst1_${key}`] = await qmpStep(s, 'dst1', cmd, undefined, 3000).catch((e: unknown) => ({ error: errText(e) }));
  }
  await qmpStep(s, 'dst1', 'quit', undefined, 3000).catch(() => {});
  const exit = await Promise.race([s.live['dst1']!.proc.exit, sleep(5000).then(() => null)]);
  attempt['dst_exit'] = exit ?? 'still running after quit (stopped at the end)';
  attempt['dst_quit'] = true;
}

/** The second attempt: a fresh dst2, on a new port, through postcopy-preempt to completion. */
async function secondAttempt(s: CaptureSession): Promise<void> {
  const dst2 = s.plans['dst2']!;
  await startProcess(s, dst2);
  await connectQmp(s, dst2);
  const port2 = await pickFreePort();
  s.ports['dst2'] = port2;
  s.rec.say(`started dst2 pid ${s.live['dst2']!.proc.pid}; migration port ${port2}`);
  s.finals['dst2_capabilities'] = await qmpStep(s, 'dst2', 'query-migrate-capabilities');
  await setCaps(s, 'dst2');
  await qmpStep(s, 'dst2', 'migrate-incoming', { uri: uri(port2) });
  const srcSince2 = eventCount(s, 'src');
  await migrateToCompletion(s, 'dst2', port2);
  s.attempts.push({ dst: 'dst2', port: port2, src_statuses: statusesSeen(s, 'src', srcSince2), dst_statuses: statusesSeen(s, 'dst2'), outcome: 'completed' });
}

// ---- one migration, with the scenario's postcopy switchover and fault

/** One migration from the source to `dstName` (already listening on `to`), through the
 *  scenario's postcopy switchover and fault, to completion on both sides. Throws otherwise. */
async function migrateToCompletion(s: CaptureSession, dstName: string, to: number): Promise<void> {
  const since = { src: eventCount(s, 'src'), dst: eventCount(s, dstName) };
  await qmpStep(s, 'src', 'migrate', { uri: uri(to) });
  s.timings[s.scenario.twice ? 'migrate2_sent' : 'migrate_sent'] = s.rec.now();
  let st = await waitStatus(s, 'src', STARTED, 30_000, since.src);
  if (st === 'failed' || st === 'cancelled') throw new Error(`src: migration ${st} right after migrate`);
  if (s.scenario.postcopy) st = await postcopy(s, dstName, to, since.src);
  if (!FINISHED.includes(st)) st = await waitStatus(s, 'src', FINISHED, s.timeoutMs, since.src);
  const dstSt = await waitStatus(s, dstName, FINISHED, 30_000, since.dst);
  s.timings['src_completed'] = eventTime(s, 'src', 'completed', since.src);
  s.timings['dst_completed'] = eventTime(s, dstName, 'completed', since.dst);
  if (st !== 'completed' || dstSt !== 'completed') throw new Error(`migration ended src=${st}, ${dstName}=${dstSt}`);
  s.rec.say(`completed on both sides (src → ${dstName})`);
}

/** Precopy for precopyMs, migrate-start-postcopy, then the fault (and recovery) if any; the
 *  source's status after that. */
async function postcopy(s: CaptureSession, dstName: string, to: number, srcSince0: number): Promise<string> {
  s.rec.step('sleep', { secs: s.precopyMs / 1000 });
  await s.guard(sleep(s.precopyMs));
  if (statusesSeen(s, 'src', srcSince0).includes('completed')) throw new Error('src: migration completed in precopy; postcopy never started (use a larger --ws)');
  const since = eventCount(s, 'src');
  const dstSinceRun = eventCount(s, dstName);
  await qmpStep(s, 'src', 'migrate-start-postcopy');
  const st = await waitStatus(s, 'src', IN_POSTCOPY, 30_000, since);
  if (st !== 'postcopy-active' && st !== 'completed') throw new Error(`src: ${st} instead of postcopy-active`);
  s.timings['postcopy_active'] = eventTime(s, 'src', 'postcopy-active', since);
  s.rec.say(`postcopy-active`);
  const fault = s.scenario.twice ? 'none' : s.scenario.fault;
  if (fault !== 'pause' && fault !== 'kill') return st;
  return (await faultDuringPostcopy(s, dstName, to, fault, dstSinceRun)) ?? st;
}

/** The pause or kill fault once the destination runs the guest, both sides paused, then the
 *  recovery when the scenario has one (its final source status; null without recovery). */
async function faultDuringPostcopy(s: CaptureSession, dstName: string, to: number, fault: 'pause' | 'kill', dstSinceRun: number): Promise<string | null> {
  const killer = fault === 'kill' ? prepareKill(to) : null;
  s.pendingKill = killer;
  await waitDstResumed(s, dstName, dstSinceRun);
  s.rec.step('sleep', { secs: s.faultAfterMs / 1000 });
  await s.guard(sleep(s.faultAfterMs));
  const srcSince = eventCount(s, 'src');
  const dstSince = eventCount(s, dstName);
  if (lastStatus(s, 'src') === 'completed') {
    throw new Error(`the ${fault} fault came too late: postcopy had completed after ${s.faultAfterMs} ms; use a smaller --fault-after-ms`);
  }
  s.timings['fault_sent'] = s.rec.now();
  await injectFault(s, killer);
  await waitBothPaused(s, dstName, fault, srcSince, dstSince);
  s.rec.say('both sides postcopy-paused');
  return s.scenario.recover ? recover(s, dstName) : null;
}

/** The source says postcopy-active as soon as it has sent the package; a fault while the
 *  destination still loads the device state in it is fatal to the destination ("load of
 *  migration failed", exit 1), not a pause. Its RESUME (guest started) is the safe mark. */
async function waitDstResumed(s: CaptureSession, dstName: string, dstSinceRun: number): Promise<void> {
  const w = s.rec.step('wait-event', { side: dstName, event: 'RESUME', timeout: 10 });
  const t0 = Date.now();
  await s.guard(s.live[dstName]!.qmp!.waitForEvent((ev) => ev.event === 'RESUME', 10_000, dstSinceRun)).catch((e: unknown) => {
    w['error'] = errText(e);
    throw new Error(`${dstName}: no RESUME (guest start) within 10 s of postcopy-active: ${errText(e)}`);
  });
  w['elapsed'] = (Date.now() - t0) / 1000;
}

/** migrate-pause on the source, or (kill) the armed ss -K on the migration's connections. */
async function injectFault(s: CaptureSession, killer: PreparedKill | null): Promise<void> {
  if (!killer) {
    await qmpStep(s, 'src', 'migrate-pause');
    return;
  }
  const k = await killer.fire();
  s.pendingKill = null;
  s.kills.push(k);
  s.rec.step('kill-connections', { argv: k.argv, code: k.code, killed: k.killed, ms: k.ms, stdout: k.stdout, stderr: k.stderr });
  if (k.code !== 0) throw new Error(`ss -K failed (code ${k.code}): ${k.stderr.trim() || k.stdout.trim()}`);
  if (k.killed === 0) s.rec.note('ss -K matched no established connection (postcopy may already have finished)');
}

/** Both sides must reach postcopy-paused after the fault; anything else is said plainly. */
async function waitBothPaused(s: CaptureSession, dstName: string, fault: string, srcSince: number, dstSince: number): Promise<void> {
  const s1 = await waitStatus(s, 'src', PAUSED, 30_000, srcSince);
  const d1 = await waitStatus(s, dstName, PAUSED, 30_000, dstSince).catch((e: unknown) => dstNotPaused(s, dstName, fault, e));
  if (s1 === 'completed') {
    throw new Error(`the ${fault} fault came too late: the source completed (dst: ${d1}); use a smaller --fault-after-ms`);
  }
  if (s1 === 'postcopy-paused' && d1 === 'postcopy-paused') return;
  const splitBrain = s1 === 'failed' && d1 === 'postcopy-paused';
  // 10.0: a fault after the source sent everything fails the source while the
  // destination sits in postcopy-paused with its guest running (docs/capture.md).
  // Let both guests run a while first, so the serial logs show whether both copies live.
  if (splitBrain) {
    s.rec.step('sleep', { secs: s.settleMs / 1000, why: 'split brain: let both guests print heartbeats' });
    await s.guard(sleep(s.settleMs));
  }
  throw new Error(`after the ${fault} fault src is ${s1} and dst is ${d1}, not both postcopy-paused${splitBrain ? ' (the late-fault case: two live copies of the guest)' : ''}`);
}

/** A destination that exits here was hit before it could pause; say so plainly. Otherwise its
 *  last status (the wait's error is recorded). */
async function dstNotPaused(s: CaptureSession, dstName: string, fault: string, e: unknown): Promise<string | null> {
  const l = s.live[dstName]!;
  const info = l.proc.exitInfo ?? (await Promise.race([l.proc.exit, sleep(1000).then(() => null)]));
  if (info) {
    const tail = stderrTail(s.stderrPathOf(s.plans[dstName]!));
    throw new Error(`${dstName} QEMU exited (${info.signal ?? `code ${info.code}`}) after the ${fault} fault instead of pausing${tail ? `: ${tail}` : ''}`);
  }
  s.rec.error(errText(e));
  return lastStatus(s, dstName);
}

/** migrate-recover on the destination (a new port), migrate resume on the source; its final status. */
async function recover(s: CaptureSession, dstName: string): Promise<string> {
  s.rec.step('sleep', { secs: 0.5 });
  await s.guard(sleep(500));
  s.recoverPort = await pickFreePort();
  const srcSince2 = eventCount(s, 'src');
  await qmpStep(s, dstName, 'migrate-recover', { uri: uri(s.recoverPort) });
  s.timings['recover_sent'] = s.rec.now();
  await qmpStep(s, 'src', 'migrate', { uri: uri(s.recoverPort), resume: true });
  return waitStatus(s, 'src', FINISHED, s.timeoutMs, srcSince2);
}
