// One capture: start a destination and a source QEMU on loopback, drive them over QMP through the
// scenario (precopy, postcopy, preempt, compat, pause/kill + recovery), and write src.log,
// dst.log, meta.json, events.txt, qmp-*.jsonl, *-serial.log and *-stderr.txt into the output
// directory, in the layout of the shared runs (traces/README.md). Every wait has a timeout; on
// failure what was seen is recorded, only the processes started here are stopped (by pid), the
// sockets and work directories are removed, and the result says what happened.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, posix, resolve } from 'node:path';
import { buildQemuArgv, EVENTS_FILE, sideFiles } from './argv.js';
import { CHROOT_WORK, enterChroot, type ChrootHandle } from './chroot.js';
import { deriveEventSet, readCatalogEvents, type EventSet } from './events.js';
import { ensureGuest } from './guest.js';
import { prepareKill, type KillResult, type PreparedKill } from './netfault.js';
import { catalogPath } from './paths.js';
import {
  checkPortFree,
  checkSocketPath,
  checkUserfaultfd,
  pickFreePort,
  PreflightError,
  resolveQemu,
} from './preflight.js';
import { QmpClient, QmpClosedError, QmpError, type QmpEvent } from './qmp.js';
import {
  formatVersion,
  hangSnapshot,
  parseQemuVersion,
  qemuVersion,
  spawnQemu,
  stopQemu,
  ThreadSampler,
  versionAtLeast,
  type ExitInfo,
} from './qemu.js';
import { Recorder, Transcript } from './record.js';
import { scenarioGlobals, SCENARIOS, type ScenarioName } from './scenarios.js';
import { guestVerdict, summarizeSerial, summarizeTraceLog, type LogSummary, type SerialSummary } from './summary.js';
import { buildMeta } from './meta.js';
import type { Live, SidePlan } from './plan.js';
import type { Side } from './types.js';

export interface CaptureOptions {
  scenario: ScenarioName;
  outDir: string;
  /** QEMU for both sides (default `qemu-system-x86_64` on PATH, or inside the chroot). */
  qemu?: string;
  srcQemu?: string;
  dstQemu?: string;
  /** Run QEMU inside this chroot (both sides unless overridden per side; '' = none). */
  chroot?: string;
  srcChroot?: string;
  dstChroot?: string;
  machine?: string;
  /** Delay between postcopy-active and the fault (pause/kill scenarios). */
  faultAfterMs?: number;
  /** Precopy time before migrate-start-postcopy. */
  precopyMs?: number;
  wsMib?: number;
  memMib?: number;
  port?: number;
  /** Longest wait for the migration to finish once started. */
  timeoutMs?: number;
  /** After completion, before the final queries: lets the destination guest print heartbeats. */
  settleMs?: number;
  /** migrate-set-parameters on the source (e.g. max-postcopy-bandwidth). */
  params?: Record<string, unknown>;
  /** Extra QEMU arguments for both sides, appended as they are (e.g. `-L /usr/share/qemu` for a
   *  self-built binary without its firmware). */
  qemuArgs?: string[];
  signal?: AbortSignal;
  /** Progress lines (the CLI prints them on stderr). */
  log?: (line: string) => void;
}

export interface CaptureResult {
  outDir: string;
  scenario: ScenarioName;
  /** The migration went the way the scenario intends (completed, fault seen, recovered). */
  ok: boolean;
  /** One line: what happened. */
  outcome: string;
  status: Record<Side, string | null>;
  versions: Record<Side, string | null>;
  errors: string[];
  wallMs: number;
  logLines: Record<Side, number | null>;
  guest: string;
  /** Set when the capture could not even start (QEMU missing, no userfaultfd, busy port...). */
  preflight?: PreflightError['kind'];
}

const DEFAULTS = {
  qemu: 'qemu-system-x86_64',
  machine: 'pc',
  precopyMs: 2000,
  memMib: 64,
  timeoutMs: 60_000,
  settleMs: 1500,
};

/** Terminal MIGRATION statuses and what each scenario step waits for. */
const STARTED = ['active', 'postcopy-active', 'completed', 'failed', 'cancelled'];
const IN_POSTCOPY = ['postcopy-active', 'completed', 'failed', 'cancelled'];
const PAUSED = ['postcopy-paused', 'completed', 'failed', 'cancelled'];
const FINISHED = ['completed', 'failed', 'cancelled'];



class CaptureAbort extends Error {}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function errText(e: unknown): string {
  if (e instanceof QmpError) return `${e.command}: ${e.errorClass}: ${e.desc}`;
  return e instanceof Error ? e.message : String(e);
}

/** Runs one capture into opts.outDir. Never throws for a migration problem: see `ok`/`errors`. */
export async function runCapture(opts: CaptureOptions): Promise<CaptureResult> {
  const scenario = SCENARIOS[opts.scenario];
  const outDir = resolve(opts.outDir);
  const rec = new Recorder(opts.log);
  const wallStart = Date.now();
  const machine = opts.machine ?? DEFAULTS.machine;
  const memMib = opts.memMib ?? DEFAULTS.memMib;
  const wsMib = opts.wsMib ?? scenario.wsMib;
  const faultAfterMs = opts.faultAfterMs ?? scenario.faultAfterMs;
  const precopyMs = opts.precopyMs ?? DEFAULTS.precopyMs;
  const timeoutMs = opts.timeoutMs ?? DEFAULTS.timeoutMs;
  const settleMs = opts.settleMs ?? DEFAULTS.settleMs;

  const result: CaptureResult = {
    outDir,
    scenario: opts.scenario,
    ok: false,
    outcome: 'not started',
    status: { src: null, dst: null },
    versions: { src: null, dst: null },
    errors: rec.errors,
    wallMs: 0,
    logLines: { src: null, dst: null },
    guest: 'not run',
  };

  if (existsSync(join(outDir, 'meta.json'))) {
    rec.error(`${outDir} already holds a capture (meta.json); choose a new --out`);
    result.outcome = 'not run: output directory already holds a capture';
    result.preflight = 'output';
    return result;
  }
  mkdirSync(outDir, { recursive: true });

  const chrootHandles = new Map<string, ChrootHandle>();
  const workDirs = new Set<string>();
  const plans: Partial<Record<Side, SidePlan>> = {};
  const live: Partial<Record<Side, Live>> = {};
  const sampler = new ThreadSampler();
  const qmpEvents: Record<Side, QmpEvent[]> = { src: [], dst: [] };
  const finals: Record<string, unknown> = {};
  const exitCodes: Partial<Record<Side, ExitInfo & { how: string }>> = {};
  const hangSnapshots: unknown[] = [];
  const kills: KillResult[] = [];
  const timings: Record<string, number | null> = {};
  let eventSet: EventSet | null = null;
  let port = 0;
  let recoverPort: number | null = null;
  let expectExit = false;
  let guestBuilt = false;
  let pendingKill: PreparedKill | null = null;

  // A QEMU that dies, or a Ctrl-C, must end any wait at once instead of at its timeout.
  let failFast: (e: Error) => void = () => {};
  const failFastPromise = new Promise<never>((_r, rej) => (failFast = rej));
  failFastPromise.catch(() => {});
  const onAbort = (): void => failFast(new CaptureAbort(`aborted (${String(opts.signal?.reason ?? 'signal')})`));
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  // Only while the scenario runs: the final queries, quit and stop must go ahead regardless.
  let guarding = true;
  const guard = <T>(p: Promise<T>): Promise<T> => (guarding ? Promise.race([p, failFastPromise]) : p);

  const qmpStep = async <T = unknown>(side: Side, cmd: string, args?: Record<string, unknown>, timeout = 10_000): Promise<T> => {
    const l = live[side];
    const step = rec.step('qmp', { side, cmd, args: args ?? {} });
    if (!l?.qmp) throw new Error(`${side}: no QMP connection for ${cmd}`);
    try {
      const ret = await guard(l.qmp.execute<T>(cmd, args, timeout));
      step['ret'] = ret;
      return ret;
    } catch (e) {
      step['error'] = errText(e);
      throw e;
    }
  };

  /** Waits until `side` reports one of `want` (MIGRATION events, with a query-migrate poll as a
   *  fallback), counting events from index `since`. */
  const waitStatus = async (side: Side, want: string[], timeout: number, since: number): Promise<string> => {
    const l = live[side];
    if (!l?.qmp) throw new Error(`${side}: no QMP connection`);
    const qmp = l.qmp;
    const step = rec.step('wait-status', { side, want, timeout: timeout / 1000 });
    const start = Date.now();
    const seen: string[] = [];
    let idx = since;
    let lastPoll = Date.now();
    try {
      for (;;) {
        for (; idx < qmp.events.length; idx++) {
          const ev = qmp.events[idx];
          const st = ev?.event === 'MIGRATION' ? ev.data?.['status'] : undefined;
          if (typeof st !== 'string') continue;
          seen.push(st);
          if (want.includes(st)) {
            Object.assign(step, { seen, got: st, elapsed: (Date.now() - start) / 1000 });
            return st;
          }
        }
        const left = start + timeout - Date.now();
        if (left <= 0) break;
        await guard(qmp.waitForEvent((ev) => ev.event === 'MIGRATION', Math.min(left, 500), idx).catch((e: unknown) => {
          if (e instanceof QmpClosedError) throw new Error(`${side}: QMP connection closed while waiting for ${want.join('/')}`);
          return null;
        }));
        if (Date.now() - lastPoll >= 2000) {
          lastPoll = Date.now();
          // Events should suffice; the poll is for a QEMU whose events we somehow missed.
          const r = await qmp.execute<{ status?: string }>('query-migrate', undefined, 1500).catch(() => null);
          if (r?.status && want.includes(r.status) && qmp.events.length === idx) {
            seen.push(`${r.status} (polled)`);
            Object.assign(step, { seen, got: r.status, elapsed: (Date.now() - start) / 1000 });
            return r.status;
          }
        }
      }
    } catch (e) {
      Object.assign(step, { seen, got: null, elapsed: (Date.now() - start) / 1000, error: errText(e) });
      throw e;
    }
    Object.assign(step, { seen, got: null, elapsed: (Date.now() - start) / 1000 });
    throw new Error(`${side}: timed out after ${timeout / 1000} s waiting for ${want.join('/')}; saw ${seen.join(' → ') || 'no status change'}`);
  };

  const lastStatus = (side: Side): string | null => {
    const evs = live[side]?.qmp?.events ?? [];
    for (let i = evs.length - 1; i >= 0; i--) {
      const st = evs[i]?.event === 'MIGRATION' ? evs[i]?.data?.['status'] : undefined;
      if (typeof st === 'string') return st;
    }
    return null;
  };
  const eventTime = (side: Side, status: string): number | null => {
    const ev = live[side]?.qmp?.events.find((e) => e.event === 'MIGRATION' && e.data?.['status'] === status);
    return ev?.timestamp ? ev.timestamp.seconds + ev.timestamp.microseconds / 1e6 : null;
  };

  let outcome = '';
  try {
    // ---- preflight: everything that can be checked before starting anything
    const sideChroot = (side: Side): string | null => {
      const v = side === 'src' ? (opts.srcChroot ?? opts.chroot) : (opts.dstChroot ?? opts.chroot);
      return v ? resolve(v) : null;
    };
    for (const side of ['dst', 'src'] as const) {
      const chroot = sideChroot(side);
      const qemuCmd = resolveQemu((side === 'src' ? opts.srcQemu : opts.dstQemu) ?? opts.qemu ?? DEFAULTS.qemu, chroot);
      if (chroot && !chrootHandles.has(chroot)) {
        try {
          chrootHandles.set(chroot, await enterChroot(chroot));
        } catch (e) {
          throw new PreflightError('chroot', errText(e));
        }
      }
      const version = await qemuVersion(qemuCmd).catch((e: unknown) => {
        throw new PreflightError('qemu-missing', errText(e));
      });
      plans[side] = { side, chroot, qemuCmd, version, parsed: parseQemuVersion(version), hostDir: '', qemuDir: '', globals: [], argv: [] };
      result.versions[side] = formatVersion(parseQemuVersion(version));
    }
    const src = plans.src!;
    const dst = plans.dst!;
    rec.say(`QEMU ${result.versions.src} (src) → ${result.versions.dst} (dst), scenario ${scenario.name}`);

    if (scenario.compatPre72 && !versionAtLeast(src.parsed, 8, 0) && !versionAtLeast(dst.parsed, 8, 0)) {
      throw new PreflightError(
        'unsupported',
        `${scenario.name} needs QEMU >= 8.0 on at least one side: x-preempt-pre-7-2 does not exist in ${result.versions.src} ` +
          '(use --chroot with the Debian 13 QEMU 10.0, capture/setup-chroot-10.0.sh)',
      );
    }
    if (scenario.postcopy) {
      const uffd = checkUserfaultfd();
      if (!uffd.ok) throw new PreflightError('userfaultfd', `${uffd.reason}; postcopy scenarios need it (precopy does not)`);
    }
    if (opts.port !== undefined) {
      await checkPortFree(opts.port);
      port = opts.port;
    } else {
      port = await pickFreePort();
    }
    const guest = await ensureGuest();
    guestBuilt = guest.built;
    if (guest.built) rec.note(`built the guest: ${guest.path}`);

    // ---- event set, from the catalog and the source's version
    eventSet = deriveEventSet({
      catalogEvents: readCatalogEvents(catalogPath()),
      srcVersion: src.parsed,
      rateLimitLoop:
        !versionAtLeast(src.parsed, 8, 0) && scenario.caps.includes('postcopy-preempt') && opts.params?.['max-postcopy-bandwidth'] !== undefined,
    });
    writeFileSync(join(outDir, EVENTS_FILE), eventSet.text);

    // ---- work directories: short paths (unix sockets), inside the chroot when there is one
    const dirByRoot = new Map<string, { hostDir: string; qemuDir: string }>();
    const id = `${basename(outDir).replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 40)}-${process.pid}-${Date.now() % 100000}`;
    for (const plan of [dst, src]) {
      const key = plan.chroot ?? '';
      let d = dirByRoot.get(key);
      if (!d) {
        if (plan.chroot) {
          const qemuDir = posix.join(CHROOT_WORK, id);
          d = { hostDir: join(plan.chroot, qemuDir), qemuDir };
          mkdirSync(d.hostDir, { recursive: true });
        } else {
          const hostDir = mkdtempSync(join(tmpdir(), 'migtrace-'));
          d = { hostDir, qemuDir: hostDir };
        }
        workDirs.add(d.hostDir);
        dirByRoot.set(key, d);
        copyFileSync(guest.path, join(d.hostDir, 'dirtier.elf'));
        writeFileSync(join(d.hostDir, EVENTS_FILE), eventSet.text);
      }
      plan.hostDir = d.hostDir;
      plan.qemuDir = d.qemuDir;
      checkSocketPath(join(d.hostDir, sideFiles(plan.side).qmp));
      plan.globals = scenarioGlobals(scenario, plan.parsed);
      plan.argv = buildQemuArgv({
        side: plan.side,
        qemu: plan.qemuCmd,
        workdir: plan.qemuDir,
        kernel: posix.join(plan.qemuDir, 'dirtier.elf'),
        wsMib,
        memMib,
        machine,
        globals: plan.globals,
        incoming: plan.side === 'dst',
        extra: opts.qemuArgs ?? [],
      });
    }

    // ---- start: destination first (it waits for migrate-incoming), then the source
    for (const plan of [dst, src]) {
      rec.step('start', { side: plan.side, argv: plan.argv });
      const proc = await spawnQemu(plan.side, plan.argv, join(plan.hostDir, sideFiles(plan.side).stderr));
      if (proc.spawnError) throw new Error(`${plan.side}: could not start ${plan.argv[0]}: ${proc.spawnError.message}`);
      live[plan.side] = { side: plan.side, proc, qmp: null };
      sampler.add(plan.side, proc.pid, plan.chroot ? basename(plan.qemuCmd[0] ?? 'chroot') : null);
      void proc.exit.then((info) => {
        if (expectExit) return;
        const tail = stderrTail(join(plan.hostDir, sideFiles(plan.side).stderr));
        failFast(new Error(`${plan.side} QEMU (pid ${proc.pid}) exited unexpectedly (${info.signal ?? `code ${info.code}`})${tail ? `: ${tail}` : ''}`));
      });
    }
    sampler.start(20);
    for (const plan of [dst, src]) {
      const transcript = new Transcript(join(outDir, `qmp-${plan.side}.jsonl`), plan.side);
      const l = live[plan.side]!;
      const ac = new AbortController();
      void l.proc.exit.then(() => ac.abort('QEMU exited'));
      l.qmp = await guard(
        QmpClient.connect(join(plan.hostDir, sideFiles(plan.side).qmp), {
          connectTimeoutMs: 15_000,
          defaultTimeoutMs: 10_000,
          signal: ac.signal,
          onMessage: (dir, msg, t) => transcript.write(dir, msg, t),
        }),
      );
      const client = l.qmp;
      client.onEvent((ev) => qmpEvents[plan.side].push(ev));
    }
    rec.say(`started dst pid ${live.dst!.proc.pid}, src pid ${live.src!.proc.pid}; migration port ${port}`);

    // ---- capabilities: a refusal is reported as such (postcopy-ram refused = no userfaultfd)
    for (const side of ['src', 'dst'] as const) finals[`${side}_capabilities`] = await qmpStep(side, 'query-migrate-capabilities');
    const caps = scenario.caps.map((capability) => ({ capability, state: true }));
    for (const side of ['dst', 'src'] as const) {
      try {
        await qmpStep(side, 'migrate-set-capabilities', { capabilities: caps });
      } catch (e) {
        if (!(e instanceof QmpError)) throw e;
        const hint = /postcopy|userfault/i.test(e.desc) ? ' (postcopy needs userfaultfd on the destination; see docs/capture.md)' : '';
        throw new Error(`capability refused by ${side} (QEMU ${result.versions[side]}): ${scenario.caps.join(', ')}: ${e.desc}${hint}`);
      }
    }
    if (opts.params && Object.keys(opts.params).length > 0) {
      try {
        await qmpStep('src', 'migrate-set-parameters', opts.params);
      } catch (e) {
        throw new Error(`parameters refused by src: ${errText(e)}`);
      }
    }

    // ---- migrate
    await qmpStep('dst', 'migrate-incoming', { uri: `tcp:127.0.0.1:${port}` });
    // Migrate a guest whose whole working set is written, not one still in its first sweep:
    // untouched pages are zero pages, cheap to send, and the migration would converge in precopy.
    await guard(waitForGuestHeartbeat(join(src.hostDir, sideFiles('src').serial), 15_000, rec));
    const srcSince0 = live.src!.qmp!.events.length;
    await qmpStep('src', 'migrate', { uri: `tcp:127.0.0.1:${port}` });
    timings['migrate_sent'] = rec.now();
    let st = await waitStatus('src', STARTED, 30_000, srcSince0);
    if (st === 'failed' || st === 'cancelled') throw new Error(`src: migration ${st} right after migrate`);

    if (scenario.postcopy) {
      rec.step('sleep', { secs: precopyMs / 1000 });
      await guard(sleep(precopyMs));
      if (lastStatus('src') === 'completed') throw new Error('src: migration completed in precopy; postcopy never started (use a larger --ws)');
      const since = live.src!.qmp!.events.length;
      const dstSinceRun = live.dst!.qmp!.events.length;
      await qmpStep('src', 'migrate-start-postcopy');
      st = await waitStatus('src', IN_POSTCOPY, 30_000, since);
      if (st !== 'postcopy-active' && st !== 'completed') throw new Error(`src: ${st} instead of postcopy-active`);
      rec.say(`postcopy-active`);

      if (scenario.fault !== 'none') {
        // The source says postcopy-active as soon as it has sent the package; a fault while the
        // destination still loads the device state in it is fatal to the destination ("load of
        // migration failed", exit 1), not a pause. Its RESUME (guest started) is the safe mark.
        const killer = scenario.fault === 'kill' ? prepareKill(port) : null;
        pendingKill = killer;
        const w = rec.step('wait-event', { side: 'dst', event: 'RESUME', timeout: 10 });
        const t0 = Date.now();
        await guard(live.dst!.qmp!.waitForEvent((ev) => ev.event === 'RESUME', 10_000, dstSinceRun)).catch((e: unknown) => {
          w['error'] = errText(e);
          throw new Error(`dst: no RESUME (guest start) within 10 s of postcopy-active: ${errText(e)}`);
        });
        w['elapsed'] = (Date.now() - t0) / 1000;
        rec.step('sleep', { secs: faultAfterMs / 1000 });
        await guard(sleep(faultAfterMs));
        const srcSince = live.src!.qmp!.events.length;
        const dstSince = live.dst!.qmp!.events.length;
        if (lastStatus('src') === 'completed') {
          throw new Error(`the ${scenario.fault} fault came too late: postcopy had completed after ${faultAfterMs} ms; use a smaller --fault-after-ms`);
        }
        timings['fault_sent'] = rec.now();
        if (scenario.fault === 'pause') {
          await qmpStep('src', 'migrate-pause');
        } else {
          const k = await killer!.fire();
          pendingKill = null;
          kills.push(k);
          rec.step('kill-connections', { argv: k.argv, code: k.code, killed: k.killed, ms: k.ms, stdout: k.stdout, stderr: k.stderr });
          if (k.code !== 0) throw new Error(`ss -K failed (code ${k.code}): ${k.stderr.trim() || k.stdout.trim()}`);
          if (k.killed === 0) rec.note('ss -K matched no established connection (postcopy may already have finished)');
        }
        const s1 = await waitStatus('src', PAUSED, 30_000, srcSince);
        const d1 = await waitStatus('dst', PAUSED, 30_000, dstSince).catch(async (e: unknown) => {
          // A destination that exits here was hit before it could pause; say so plainly.
          const info = live.dst!.proc.exitInfo ?? (await Promise.race([live.dst!.proc.exit, sleep(1000).then(() => null)]));
          if (info) {
            const tail = stderrTail(join(dst.hostDir, sideFiles('dst').stderr));
            throw new Error(`dst QEMU exited (${info.signal ?? `code ${info.code}`}) after the ${scenario.fault} fault instead of pausing${tail ? `: ${tail}` : ''}`);
          }
          rec.error(errText(e));
          return lastStatus('dst');
        });
        if (s1 === 'completed') {
          throw new Error(`the ${scenario.fault} fault came too late: the source completed (dst: ${d1}); use a smaller --fault-after-ms`);
        }
        if (s1 !== 'postcopy-paused' || d1 !== 'postcopy-paused') {
          // 10.0: a fault after the source sent everything fails the source while the
          // destination sits in postcopy-paused with its guest running (docs/capture.md).
          // Let both guests run a while first, so the serial logs show whether both copies live.
          if (s1 === 'failed' && d1 === 'postcopy-paused') {
            rec.step('sleep', { secs: settleMs / 1000, why: 'split brain: let both guests print heartbeats' });
            await guard(sleep(settleMs));
          }
          throw new Error(`after the ${scenario.fault} fault src is ${s1} and dst is ${d1}, not both postcopy-paused${s1 === 'failed' && d1 === 'postcopy-paused' ? ' (the late-fault case: two live copies of the guest)' : ''}`);
        }
        rec.say('both sides postcopy-paused');
        if (scenario.recover) {
          rec.step('sleep', { secs: 0.5 });
          await guard(sleep(500));
          recoverPort = await pickFreePort();
          const srcSince2 = live.src!.qmp!.events.length;
          await qmpStep('dst', 'migrate-recover', { uri: `tcp:127.0.0.1:${recoverPort}` });
          timings['recover_sent'] = rec.now();
          await qmpStep('src', 'migrate', { uri: `tcp:127.0.0.1:${recoverPort}`, resume: true });
          st = await waitStatus('src', FINISHED, timeoutMs, srcSince2);
        }
      }
    }

    if (!FINISHED.includes(st)) st = await waitStatus('src', FINISHED, timeoutMs, srcSince0);
    const dstSt = await waitStatus('dst', FINISHED, 30_000, 0);
    timings['src_completed'] = eventTime('src', 'completed');
    timings['dst_completed'] = eventTime('dst', 'completed');
    if (st !== 'completed' || dstSt !== 'completed') throw new Error(`migration ended src=${st}, dst=${dstSt}`);
    rec.say('completed on both sides');
    outcome = scenario.fault === 'none' ? 'completed' : `completed after ${scenario.fault} fault and recovery`;
    result.ok = true;

    rec.step('sleep', { secs: settleMs / 1000 });
    await guard(sleep(settleMs));
  } catch (e) {
    if (e instanceof PreflightError) {
      result.preflight = e.kind;
      outcome = `not run: ${e.message}`;
    } else {
      outcome = `failed: ${errText(e)}`;
    }
    rec.error(errText(e));
    // What the processes were doing when it went wrong, for the post-mortem.
    if (!(e instanceof PreflightError)) {
      const snap: Record<string, unknown> = { t: rec.now(), t_rel: rec.rel(), reason: errText(e) };
      for (const side of ['src', 'dst'] as const) {
        const l = live[side];
        if (!l) continue;
        snap[`${side}_threads`] = hangSnapshot(l.proc.pid);
        snap[`${side}_status_seen`] = lastStatus(side);
        if (l.qmp && !l.qmp.closed) snap[`${side}_query_migrate`] = await l.qmp.execute('query-migrate', undefined, 2000).catch((x: unknown) => `no answer: ${errText(x)}`);
      }
      hangSnapshots.push(snap);
    }
  }

  // ---- final state of both sides, then quit and stop (only what we started)
  guarding = false;
  pendingKill?.cancel();
  const aborted = opts.signal?.aborted === true;
  for (const side of ['src', 'dst'] as const) {
    const l = live[side];
    if (aborted || !l?.qmp || l.qmp.closed || l.proc.exitInfo) continue;
    for (const [cmd, key] of [
      ['query-migrate', 'query_migrate'],
      ['query-status', 'query_status'],
      ['query-migrate-parameters', 'parameters'],
    ] as const) {
      finals[`${side}_${key}`] = await qmpStep(side, cmd, undefined, 3000).catch((e: unknown) => ({ error: errText(e) }));
    }
  }
  result.status.src = statusOf(finals['src_query_migrate']) ?? lastStatus('src');
  result.status.dst = statusOf(finals['dst_query_migrate']) ?? lastStatus('dst');
  sampler.sample();
  expectExit = true;
  const quitAnswered = new Set<Side>();
  for (const side of ['src', 'dst'] as const) {
    const l = live[side];
    if (!l?.qmp || l.qmp.closed || l.proc.exitInfo) continue;
    await qmpStep(side, 'quit', undefined, 3000).then(
      () => quitAnswered.add(side),
      (e: unknown) => {
        if (e instanceof QmpClosedError) quitAnswered.add(side);
        else rec.note(`${side}: quit: ${errText(e)}`);
      },
    );
  }
  sampler.stop();
  for (const side of ['src', 'dst'] as const) {
    const l = live[side];
    if (!l) continue;
    // A QEMU that did not even answer quit (a dst blocked in a socket read) will not exit on
    // its own: do not wait long for it.
    const { exit, how } = await stopQemu(l.proc, quitAnswered.has(side) ? 5000 : 500);
    exitCodes[side] = { ...exit, how };
    if (how !== 'exited') rec.note(`${side}: QEMU pid ${l.proc.pid} did not exit after quit; stopped with ${how}`);
    l.qmp?.close();
  }
  opts.signal?.removeEventListener('abort', onAbort);

  // ---- collect the files, remove work directories (sockets included), release the chroot
  for (const side of ['src', 'dst'] as const) {
    const plan = plans[side];
    if (!plan?.hostDir) continue;
    const f = sideFiles(side);
    for (const name of [f.log, f.serial, f.stderr]) {
      const from = join(plan.hostDir, name);
      if (existsSync(from)) copyFileSync(from, join(outDir, name));
    }
  }
  for (const d of workDirs) rmSync(d, { recursive: true, force: true });
  for (const h of chrootHandles.values()) {
    for (const p of await h.release()) rec.error(p);
  }

  // ---- summaries and meta.json
  const logs: Partial<Record<Side, LogSummary>> = {};
  const serial: Partial<Record<Side, SerialSummary>> = {};
  for (const side of ['src', 'dst'] as const) {
    const ls = await summarizeTraceLog(join(outDir, sideFiles(side).log));
    if (ls) logs[side] = ls;
    result.logLines[side] = ls?.lines ?? null;
    const ss = summarizeSerial(join(outDir, sideFiles(side).serial));
    if (ss) serial[side] = ss;
  }
  const migrated = result.status.dst === 'completed' || (result.status.dst ?? '').startsWith('postcopy');
  result.guest = live.src ? guestVerdict(serial.src ?? null, serial.dst ?? null, migrated) : 'not run';
  if (result.ok && result.guest.startsWith('INCONSISTENT')) rec.note(`guest memory check: ${result.guest}`);
  timings['postcopy_active'] = eventTime('src', 'postcopy-active');
  const pa = timings['postcopy_active'];
  const done = timings['src_completed'];
  timings['postcopy_ms'] = pa != null && done != null ? Math.round((done - pa) * 1e6) / 1e3 : null;
  result.wallMs = Date.now() - wallStart;
  timings['wall_s'] = result.wallMs / 1000;
  result.outcome = outcome || 'unknown';

  const meta = buildMeta({
    outDir, opts, scenario: opts.scenario, plans, live, finals, exitCodes, qmpEvents, sampler, rec, hangSnapshots,
    logs, serial, eventSet, port, recoverPort, kills, timings, result, machine, memMib, wsMib, faultAfterMs, precopyMs, guestBuilt,
  });
  writeFileSync(join(outDir, 'meta.json'), JSON.stringify(meta, null, 1) + '\n');
  rec.say(`${result.outcome}; wrote ${outDir}`);
  return result;
}

function statusOf(v: unknown): string | null {
  return typeof v === 'object' && v !== null && typeof (v as { status?: unknown }).status === 'string' ? (v as { status: string }).status : null;
}

function stderrTail(path: string): string {
  try {
    const lines = readFileSync(path, 'utf8').trim().split('\n').filter((l) => !/warning: trace event .* does not exist/.test(l));
    return lines.slice(-3).join(' | ').slice(0, 500);
  } catch {
    return '';
  }
}

/** Waits for the guest's first heartbeat (`hb t=1`, after ~1000 sweeps) on the source. */
async function waitForGuestHeartbeat(serialPath: string, timeoutMs: number, rec: Recorder): Promise<void> {
  const step = rec.step('wait-guest', { want: 'hb t=1', timeout: timeoutMs / 1000 });
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (existsSync(serialPath) && readFileSync(serialPath, 'utf8').includes('\nhb t=')) {
      step['elapsed'] = (Date.now() - start) / 1000;
      return;
    }
    await sleep(25);
  }
  step['elapsed'] = null;
  throw new Error(`no heartbeat from the guest on the source's serial console within ${timeoutMs / 1000} s (see ${serialPath})`);
}

/** `--repeat N`: N captures into <outDir>/<scenario>-1 … -N; stops early on abort. */
export async function runCaptureRepeated(opts: CaptureOptions, repeat: number): Promise<CaptureResult[]> {
  if (repeat <= 1) return [await runCapture(opts)];
  const results: CaptureResult[] = [];
  for (let i = 1; i <= repeat; i++) {
    if (opts.signal?.aborted) break;
    const r = await runCapture({ ...opts, outDir: join(opts.outDir, `${opts.scenario}-${i}`) });
    results.push(r);
    if (r.preflight) break; // the same check would fail every time
  }
  return results;
}

/** For tests and the CLI: the files a finished capture directory holds. */
export function captureFiles(outDir: string): string[] {
  return existsSync(outDir) ? readdirSync(outDir).sort() : [];
}
