// One capture: start a destination and a source QEMU on loopback, drive them over QMP through the
// scenario (precopy, postcopy, preempt, compat, pause/kill + recovery, or migrate-twice: a
// cancelled attempt to dst1, then a fresh dst2), and write src.log, dst.log (dst1.log, dst2.log),
// or with --combined-log one combined.log of every QEMU's stderr, or with thread files one
// threads/t-<TID>.log per thread of every QEMU (`-d tid`), plus meta.json, events.txt,
// qmp-*.jsonl, *-serial.log and *-stderr.txt into the output directory, in the layout of the
// shared runs (traces/README.md). Every wait has a timeout; on failure what was seen is recorded,
// only the processes started here are stopped (by pid), the sockets and work directories are
// removed, and the result says what happened.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, posix, resolve } from 'node:path';
import { buildQemuArgv, COMBINED_LOG, EVENTS_FILE, sideFiles, THREAD_FILE_PATTERN, THREADS_DIR, TRACE_EVENTS_ALL } from './argv.js';
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
import { guestVerdict, summarizeSerial, summarizeThreadFiles, summarizeTraceLog, type LogSummary, type SerialSummary } from './summary.js';
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
  /** Both (all) QEMU processes' stderr, trace lines included, appended to one `combined.log`
   *  (no `-D`), as qtest's migration-test and many CI jobs produce. */
  combinedLog?: boolean;
  /** Per-thread files instead of each process's own log: `-d tid -D <work>/threads/t-%d.log`,
   *  one pattern for every QEMU (as a CI job passes it), collected into `<out>/threads/`. The only
   *  way to get thread ids from QEMU >= 10.1, whose default log has none; a process cannot write
   *  both forms, so the default log comes from a twin run (src/capture/twin.ts). */
  threadFiles?: boolean;
  /** Host path of the QEMU build's trace-events-all: each QEMU also writes the `simple`
   *  backend's binary trace (`-trace events=F,file=<name>.simple`, the same run as its log), and
   *  this file is copied beside them (needed to decode them). The binary must have been built with
   *  `--enable-trace-backends=log,simple`. */
  simpleTrace?: string;
  /** The other run of a twin pair, relative to outDir (recorded in meta.json `twin_of`). */
  twinOf?: string;
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
  /** Final migration status per side (`dst`: the last destination), and per process
   *  (`dst1`, `dst2`) in migrate-twice. */
  status: PerProcess<string | null>;
  versions: Record<Side, string | null>;
  errors: string[];
  wallMs: number;
  /** Lines of each trace log written: `src`, `dst` (null when not written), `dst1`/`dst2`
   *  (migrate-twice), `combined` (--combined-log). */
  logLines: PerProcess<number | null>;
  /** The trace logs written, as file names in outDir. */
  logFiles: string[];
  guest: string;
  /** This run wrote per-thread files (a twin run, or asked for). */
  threadFiles: boolean;
  /** Set when the capture could not even start (QEMU missing, no userfaultfd, busy port...). */
  preflight?: PreflightError['kind'];
}

/** Keyed by side, plus other process or file names where there are more than two. */
export type PerProcess<T> = Record<Side, T> & { [name: string]: T };

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

/** A side did not reach the awaited migration status in time: a migration that hangs. */
class StatusTimeout extends Error {
  constructor(readonly side: string, message: string) {
    super(message);
  }
}

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
  const combined = opts.combinedLog === true;
  const threadFiles = opts.threadFiles === true;
  // The processes, by name: a source and a destination, or for migrate-twice a source and two
  // destinations (dst1 gets the cancelled attempt, dst2 is started fresh for the second one).
  const dstNames = scenario.twice ? ['dst1', 'dst2'] : ['dst'];
  const procNames = [...dstNames, 'src'];
  const sideOf = (name: string): Side => (name === 'src' ? 'src' : 'dst');

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
    logFiles: [],
    guest: 'not run',
    threadFiles: opts.threadFiles === true,
  };

  if (existsSync(join(outDir, 'meta.json'))) {
    rec.error(`${outDir} already holds a capture (meta.json); choose a new --out`);
    result.outcome = 'not run: output directory already holds a capture';
    result.preflight = 'output';
    return result;
  }
  mkdirSync(outDir, { recursive: true });
  const combinedPath = join(outDir, COMBINED_LOG);
  /** Where a process's stderr goes: its own file in its work directory, or the one combined.log. */
  const stderrPathOf = (plan: SidePlan): string => (combined ? combinedPath : join(plan.hostDir, sideFiles(plan.name).stderr));

  const chrootHandles = new Map<string, ChrootHandle>();
  const workDirs = new Set<string>();
  const sidePlans: Partial<Record<Side, SidePlan>> = {};
  const plans: Record<string, SidePlan> = {};
  const live: Record<string, Live> = {};
  const sampler = new ThreadSampler();
  const qmpEvents: Record<string, QmpEvent[]> = Object.fromEntries(procNames.map((n) => [n, []]));
  const finals: Record<string, unknown> = {};
  const exitCodes: Record<string, ExitInfo & { how: string }> = {};
  const hangSnapshots: unknown[] = [];
  const kills: KillResult[] = [];
  const timings: Record<string, number | null> = {};
  const attempts: Array<Record<string, unknown>> = [];
  const ports: Record<string, number> = {};
  let eventSet: EventSet | null = null;
  let port = 0;
  let recoverPort: number | null = null;
  let expectExit = false;
  /** Processes whose exit is part of the scenario (dst1 after migrate_cancel). */
  const exitExpected = new Set<string>();
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

  const qmpStep = async <T = unknown>(side: string, cmd: string, args?: Record<string, unknown>, timeout = 10_000): Promise<T> => {
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
  const waitStatus = async (side: string, want: string[], timeout: number, since: number): Promise<string> => {
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
    throw new StatusTimeout(side, `${side}: timed out after ${timeout / 1000} s waiting for ${want.join('/')}; saw ${seen.join(' → ') || 'no status change'}`);
  };

  const lastStatus = (side: string): string | null => {
    const evs = live[side]?.qmp?.events ?? [];
    for (let i = evs.length - 1; i >= 0; i--) {
      const st = evs[i]?.event === 'MIGRATION' ? evs[i]?.data?.['status'] : undefined;
      if (typeof st === 'string') return st;
    }
    return null;
  };
  /** Time of the first MIGRATION event with this status, from event index `since` on. */
  const eventTime = (side: string, status: string, since = 0): number | null => {
    const ev = live[side]?.qmp?.events.slice(since).find((e) => e.event === 'MIGRATION' && e.data?.['status'] === status);
    return ev?.timestamp ? ev.timestamp.seconds + ev.timestamp.microseconds / 1e6 : null;
  };
  const statusesSeen = (side: string, since = 0): string[] =>
    (live[side]?.qmp?.events ?? [])
      .slice(since)
      .map((e) => (e.event === 'MIGRATION' ? e.data?.['status'] : undefined))
      .filter((s): s is string => typeof s === 'string');
  const eventCount = (side: string): number => live[side]?.qmp?.events.length ?? 0;

  /** Spawns one QEMU; a QEMU that exits while the scenario runs ends every wait at once. */
  const startProcess = async (plan: SidePlan): Promise<void> => {
    rec.step('start', { side: plan.name, argv: plan.argv, ...(combined ? { stderr: COMBINED_LOG } : {}) });
    const proc = await spawnQemu(plan.side, plan.argv, stderrPathOf(plan));
    if (proc.spawnError) throw new Error(`${plan.name}: could not start ${plan.argv[0]}: ${proc.spawnError.message}`);
    live[plan.name] = { side: plan.side, name: plan.name, proc, qmp: null };
    sampler.add(plan.side, proc.pid, plan.chroot ? basename(plan.qemuCmd[0] ?? 'chroot') : null, plan.name);
    void proc.exit.then((info) => {
      if (expectExit || exitExpected.has(plan.name)) return;
      const tail = stderrTail(stderrPathOf(plan));
      failFast(new Error(`${plan.name} QEMU (pid ${proc.pid}) exited unexpectedly (${info.signal ?? `code ${info.code}`})${tail ? `: ${tail}` : ''}`));
    });
  };
  const connectQmp = async (plan: SidePlan): Promise<void> => {
    const transcript = new Transcript(join(outDir, `qmp-${plan.name}.jsonl`), plan.side);
    const l = live[plan.name]!;
    const ac = new AbortController();
    void l.proc.exit.then(() => ac.abort('QEMU exited'));
    l.qmp = await guard(
      QmpClient.connect(join(plan.hostDir, sideFiles(plan.name).qmp), {
        connectTimeoutMs: 15_000,
        defaultTimeoutMs: 10_000,
        signal: ac.signal,
        onMessage: (dir, msg, t) => transcript.write(dir, msg, t),
      }),
    );
    l.qmp.onEvent((ev) => qmpEvents[plan.name]!.push(ev));
  };

  const caps = scenario.caps.map((capability) => ({ capability, state: true }));
  /** migrate-set-capabilities; a refusal is reported as such (postcopy-ram refused = no userfaultfd). */
  const setCaps = async (name: string): Promise<void> => {
    try {
      await qmpStep(name, 'migrate-set-capabilities', { capabilities: caps });
    } catch (e) {
      if (!(e instanceof QmpError)) throw e;
      const hint = /postcopy|userfault/i.test(e.desc) ? ' (postcopy needs userfaultfd on the destination; see docs/capture.md)' : '';
      throw new Error(`capability refused by ${name} (QEMU ${result.versions[sideOf(name)]}): ${scenario.caps.join(', ')}: ${e.desc}${hint}`);
    }
  };

  let outcome = '';
  try {
    // ---- preflight: everything that can be checked before starting anything
    if (combined && threadFiles) {
      throw new PreflightError('unsupported', 'per-thread files and --combined-log exclude each other: with -d tid every trace line goes to a thread file, none to stderr');
    }
    if (opts.simpleTrace !== undefined) {
      if (!existsSync(opts.simpleTrace)) throw new PreflightError('unsupported', `--simple-trace ${opts.simpleTrace}: no such file (give the build's trace/trace-events-all)`);
      copyFileSync(opts.simpleTrace, join(outDir, TRACE_EVENTS_ALL));
    }
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
      sidePlans[side] = { side, name: side, chroot, qemuCmd, version, parsed: parseQemuVersion(version), hostDir: '', qemuDir: '', globals: [], argv: [] };
      result.versions[side] = formatVersion(parseQemuVersion(version));
    }
    const srcSide = sidePlans.src!;
    for (const name of procNames) plans[name] = { ...sidePlans[sideOf(name)]!, name };
    rec.say(`QEMU ${result.versions.src} (src) → ${result.versions.dst} (dst), scenario ${scenario.name}${combined ? ', one combined log' : ''}`);

    if (scenario.compatPre72 && !versionAtLeast(srcSide.parsed, 8, 0) && !versionAtLeast(sidePlans.dst!.parsed, 8, 0)) {
      throw new PreflightError(
        'unsupported',
        `${scenario.name} needs QEMU >= 8.0 on at least one side: x-preempt-pre-7-2 does not exist in ${result.versions.src} ` +
          '(use --chroot with a Debian 13 QEMU: capture/setup-chroot.sh --suite trixie or --suite trixie-backports)',
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
      srcVersion: srcSide.parsed,
      rateLimitLoop:
        !versionAtLeast(srcSide.parsed, 8, 0) && scenario.caps.includes('postcopy-preempt') && opts.params?.['max-postcopy-bandwidth'] !== undefined,
    });
    writeFileSync(join(outDir, EVENTS_FILE), eventSet.text);

    // ---- work directories: short paths (unix sockets), inside the chroot when there is one
    const dirByRoot = new Map<string, { hostDir: string; qemuDir: string }>();
    const id = `${basename(outDir).replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 40)}-${process.pid}-${Date.now() % 100000}`;
    for (const name of procNames) {
      const plan = plans[name]!;
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
        if (threadFiles) mkdirSync(join(d.hostDir, THREADS_DIR));
      }
      plan.hostDir = d.hostDir;
      plan.qemuDir = d.qemuDir;
      checkSocketPath(join(d.hostDir, sideFiles(name).qmp));
      plan.globals = scenarioGlobals(scenario, plan.parsed);
      plan.argv = buildQemuArgv({
        side: plan.side,
        name,
        qemu: plan.qemuCmd,
        workdir: plan.qemuDir,
        kernel: posix.join(plan.qemuDir, 'dirtier.elf'),
        wsMib,
        memMib,
        machine,
        globals: plan.globals,
        incoming: plan.side === 'dst',
        extra: opts.qemuArgs ?? [],
        combinedLog: combined,
        simpleTrace: opts.simpleTrace !== undefined,
        ...(threadFiles ? { threadFiles: posix.join(plan.qemuDir, THREADS_DIR, THREAD_FILE_PATTERN) } : {}),
      });
    }
    const src = plans['src']!;
    const firstDst = dstNames[0]!;
    // For the first migration each destination waits for migrate-incoming, so it starts first.
    if (combined) writeFileSync(combinedPath, '');

    // ---- start: destination first (it waits for migrate-incoming), then the source
    for (const plan of [plans[firstDst]!, src]) await startProcess(plan);
    sampler.start(20);
    for (const plan of [plans[firstDst]!, src]) await connectQmp(plan);
    rec.say(`started ${firstDst} pid ${live[firstDst]!.proc.pid}, src pid ${live['src']!.proc.pid}; migration port ${port}`);

    // ---- capabilities
    for (const name of ['src', firstDst]) finals[`${name}_capabilities`] = await qmpStep(name, 'query-migrate-capabilities');
    for (const name of [firstDst, 'src']) await setCaps(name);
    if (opts.params && Object.keys(opts.params).length > 0) {
      try {
        await qmpStep('src', 'migrate-set-parameters', opts.params);
      } catch (e) {
        throw new Error(`parameters refused by src: ${errText(e)}`);
      }
    }

    // Migrate a guest whose whole working set is written, not one still in its first sweep:
    // untouched pages are zero pages, cheap to send, and the migration would converge in precopy.
    await qmpStep(firstDst, 'migrate-incoming', { uri: `tcp:127.0.0.1:${port}` });
    ports[firstDst] = port;
    await guard(waitForGuestHeartbeat(join(src.hostDir, sideFiles('src').serial), 15_000, rec));

    if (scenario.twice) {
      // ---- migrate-twice, first attempt: to dst1, cancelled during precopy
      const srcSince = eventCount('src');
      const dst1Since = eventCount('dst1');
      await qmpStep('src', 'migrate', { uri: `tcp:127.0.0.1:${port}` });
      timings['migrate_sent'] = rec.now();
      const st0 = await waitStatus('src', STARTED, 30_000, srcSince);
      if (st0 !== 'active') throw new Error(`src: migration to dst1 is ${st0} right after migrate, not active`);
      rec.step('sleep', { secs: faultAfterMs / 1000, why: 'precopy before migrate_cancel' });
      await guard(sleep(faultAfterMs));
      const before = lastStatus('src');
      if (before !== 'active') {
        throw new Error(`src: migration to dst1 is ${before} after ${faultAfterMs} ms, not in precopy; the cancel must come during precopy (use a smaller --fault-after-ms or a larger --ws)`);
      }
      // QEMU's default on a cancelled incoming migration: dst1 fails the load and exits 1
      // ("load of migration failed"). That is part of the scenario, not a failure of the capture.
      exitExpected.add('dst1');
      timings['cancel_sent'] = rec.now();
      await qmpStep('src', 'migrate_cancel');
      const c = await waitStatus('src', FINISHED, 30_000, srcSince);
      if (c === 'completed') throw new Error('src: migration to dst1 completed although migrate_cancel was sent during precopy');
      timings['src_cancelled'] = eventTime('src', c, srcSince);
      if (c === 'failed') {
        // Real QEMU behaviour (seen on 7.2 in ~1 of 4 runs): migrate_cancel shuts the return path
        // down before it sets `cancelling`, the return-path thread's error makes the migration
        // thread set `failed` first, and the cancel is lost. The attempt still ended; go on.
        rec.note('src reported failed, not cancelled, after migrate_cancel: the return path error raced the cancel (QEMU sets cancelling only after shutting the return path down)');
      } else {
        rec.say('src cancelled the migration to dst1');
      }
      const d1 = live['dst1']!;
      const w = rec.step('wait-exit', { side: 'dst1', timeout: 10, why: 'dst1 is expected to exit 1 (load of migration failed)' });
      const t0 = Date.now();
      const exit1 = d1.proc.exitInfo ?? (await guard(Promise.race([d1.proc.exit, sleep(10_000).then(() => null)])));
      Object.assign(w, { elapsed: (Date.now() - t0) / 1000, exit: exit1, seen: statusesSeen('dst1', dst1Since) });
      const attempt: Record<string, unknown> = {
        dst: 'dst1',
        port,
        fault: 'migrate_cancel',
        cancel_after_s: faultAfterMs / 1000,
        src_statuses: statusesSeen('src', srcSince),
        dst_statuses: statusesSeen('dst1', dst1Since),
      };
      if (exit1) {
        const tail = stderrTail(stderrPathOf(plans['dst1']!));
        attempt['dst_exit'] = exit1;
        attempt['dst_stderr_tail'] = tail;
        rec.note(`dst1 QEMU exited (${exit1.signal ?? `code ${exit1.code}`}) after the source cancelled, as expected${tail ? `: ${tail}` : ''}`);
      } else {
        // Not what the issue describes for default settings, but not wrong either: record its
        // state, then quit it, so that the second migration goes to a fresh destination only.
        rec.note(`dst1 QEMU still runs 10 s after the source cancelled (status ${lastStatus('dst1') ?? 'unknown'}); quitting it`);
        for (const [cmd, key] of [['query-migrate', 'query_migrate'], ['query-status', 'query_status']] as const) {
          finals[`dst1_${key}`] = await qmpStep('dst1', cmd, undefined, 3000).catch((e: unknown) => ({ error: errText(e) }));
        }
        await qmpStep('dst1', 'quit', undefined, 3000).catch(() => {});
        const exit = await Promise.race([d1.proc.exit, sleep(5000).then(() => null)]);
        attempt['dst_exit'] = exit ?? 'still running after quit (stopped at the end)';
        attempt['dst_quit'] = true;
      }
      attempt['src_end'] = c;
      attempt['outcome'] = `${c}; dst1 ${exit1 ? `exited (${exit1.signal ?? `code ${exit1.code}`})` : 'did not exit by itself (quit)'}`;
      attempts.push(attempt);

      // ---- second attempt: a fresh dst2, on a new port, through postcopy-preempt
      const dst2 = plans['dst2']!;
      await startProcess(dst2);
      await connectQmp(dst2);
      const port2 = await pickFreePort();
      ports['dst2'] = port2;
      rec.say(`started dst2 pid ${live['dst2']!.proc.pid}; migration port ${port2}`);
      finals['dst2_capabilities'] = await qmpStep('dst2', 'query-migrate-capabilities');
      await setCaps('dst2');
      await qmpStep('dst2', 'migrate-incoming', { uri: `tcp:127.0.0.1:${port2}` });
      const srcSince2 = eventCount('src');
      await migrateToCompletion('dst2', port2);
      attempts.push({ dst: 'dst2', port: port2, src_statuses: statusesSeen('src', srcSince2), dst_statuses: statusesSeen('dst2'), outcome: 'completed' });
      outcome = `first migration ${c === 'cancelled' ? 'cancelled' : `ended ${c} after migrate_cancel`} (${attempt['outcome'] as string}); second migration completed`;
    } else {
      await migrateToCompletion('dst', port);
      outcome = scenario.fault === 'none' ? 'completed' : `completed after ${scenario.fault} fault and recovery`;
    }
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
      for (const name of procNames) {
        const l = live[name];
        if (!l) continue;
        snap[`${name}_threads`] = hangSnapshot(l.proc.pid);
        snap[`${name}_status_seen`] = lastStatus(name);
        if (l.qmp && !l.qmp.closed && !l.proc.exitInfo) snap[`${name}_query_migrate`] = await l.qmp.execute('query-migrate', undefined, 2000).catch((x: unknown) => `no answer: ${errText(x)}`);
      }
      hangSnapshots.push(snap);
      if (e instanceof StatusTimeout) await cancelHung();
    }
  }

  /** A migration that hangs: ask the source to cancel it, as a user would, and record what that
   *  did (7.2 with multifd and postcopy-preempt stays `cancelling`). The trace then shows the
   *  cancel too. Stopping the processes comes after, as for any failure. */
  async function cancelHung(): Promise<void> {
    const src = live['src'];
    if (!src?.qmp || src.qmp.closed || src.proc.exitInfo || opts.signal?.aborted) return;
    const since = eventCount('src');
    timings['cancel_sent'] = rec.now();
    const sent = await qmpStep('src', 'migrate_cancel', undefined, 3000).then(
      () => true,
      (x: unknown) => (rec.note(`src: migrate_cancel after the hang: ${errText(x)}`), false),
    );
    if (!sent) return;
    const end = await waitStatus('src', ['cancelled', 'failed', 'completed'], 5000, since).catch(() => null);
    const seen = statusesSeen('src', since);
    rec.note(`src after migrate_cancel: ${end ?? `still ${seen.at(-1) ?? lastStatus('src') ?? 'unknown'} after 5 s`} (statuses seen: ${seen.join(' → ') || 'none'})`);
    const snap: Record<string, unknown> = { t: rec.now(), t_rel: rec.rel(), reason: 'after migrate_cancel' };
    for (const name of procNames) {
      const l = live[name];
      if (!l) continue;
      snap[`${name}_threads`] = hangSnapshot(l.proc.pid);
      snap[`${name}_status_seen`] = lastStatus(name);
    }
    hangSnapshots.push(snap);
  }

  /** One migration from the source to `dstName` (already listening on `to`), through the
   *  scenario's postcopy switchover and fault, to completion on both sides. Throws otherwise. */
  async function migrateToCompletion(dstName: string, to: number): Promise<void> {
    const fault = scenario.twice ? 'none' : scenario.fault;
    const srcSince0 = eventCount('src');
    const dstSince0 = eventCount(dstName);
    await qmpStep('src', 'migrate', { uri: `tcp:127.0.0.1:${to}` });
    timings[scenario.twice ? 'migrate2_sent' : 'migrate_sent'] = rec.now();
    let st = await waitStatus('src', STARTED, 30_000, srcSince0);
    if (st === 'failed' || st === 'cancelled') throw new Error(`src: migration ${st} right after migrate`);

    if (scenario.postcopy) {
      rec.step('sleep', { secs: precopyMs / 1000 });
      await guard(sleep(precopyMs));
      if (statusesSeen('src', srcSince0).includes('completed')) throw new Error('src: migration completed in precopy; postcopy never started (use a larger --ws)');
      const since = eventCount('src');
      const dstSinceRun = eventCount(dstName);
      await qmpStep('src', 'migrate-start-postcopy');
      st = await waitStatus('src', IN_POSTCOPY, 30_000, since);
      if (st !== 'postcopy-active' && st !== 'completed') throw new Error(`src: ${st} instead of postcopy-active`);
      timings['postcopy_active'] = eventTime('src', 'postcopy-active', since);
      rec.say(`postcopy-active`);

      if (fault === 'pause' || fault === 'kill') {
        // The source says postcopy-active as soon as it has sent the package; a fault while the
        // destination still loads the device state in it is fatal to the destination ("load of
        // migration failed", exit 1), not a pause. Its RESUME (guest started) is the safe mark.
        const killer = fault === 'kill' ? prepareKill(to) : null;
        pendingKill = killer;
        const w = rec.step('wait-event', { side: dstName, event: 'RESUME', timeout: 10 });
        const t0 = Date.now();
        await guard(live[dstName]!.qmp!.waitForEvent((ev) => ev.event === 'RESUME', 10_000, dstSinceRun)).catch((e: unknown) => {
          w['error'] = errText(e);
          throw new Error(`${dstName}: no RESUME (guest start) within 10 s of postcopy-active: ${errText(e)}`);
        });
        w['elapsed'] = (Date.now() - t0) / 1000;
        rec.step('sleep', { secs: faultAfterMs / 1000 });
        await guard(sleep(faultAfterMs));
        const srcSince = eventCount('src');
        const dstSince = eventCount(dstName);
        if (lastStatus('src') === 'completed') {
          throw new Error(`the ${fault} fault came too late: postcopy had completed after ${faultAfterMs} ms; use a smaller --fault-after-ms`);
        }
        timings['fault_sent'] = rec.now();
        if (fault === 'pause') {
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
        const d1 = await waitStatus(dstName, PAUSED, 30_000, dstSince).catch(async (e: unknown) => {
          // A destination that exits here was hit before it could pause; say so plainly.
          const l = live[dstName]!;
          const info = l.proc.exitInfo ?? (await Promise.race([l.proc.exit, sleep(1000).then(() => null)]));
          if (info) {
            const tail = stderrTail(stderrPathOf(plans[dstName]!));
            throw new Error(`${dstName} QEMU exited (${info.signal ?? `code ${info.code}`}) after the ${fault} fault instead of pausing${tail ? `: ${tail}` : ''}`);
          }
          rec.error(errText(e));
          return lastStatus(dstName);
        });
        if (s1 === 'completed') {
          throw new Error(`the ${fault} fault came too late: the source completed (dst: ${d1}); use a smaller --fault-after-ms`);
        }
        if (s1 !== 'postcopy-paused' || d1 !== 'postcopy-paused') {
          // 10.0: a fault after the source sent everything fails the source while the
          // destination sits in postcopy-paused with its guest running (docs/capture.md).
          // Let both guests run a while first, so the serial logs show whether both copies live.
          if (s1 === 'failed' && d1 === 'postcopy-paused') {
            rec.step('sleep', { secs: settleMs / 1000, why: 'split brain: let both guests print heartbeats' });
            await guard(sleep(settleMs));
          }
          throw new Error(`after the ${fault} fault src is ${s1} and dst is ${d1}, not both postcopy-paused${s1 === 'failed' && d1 === 'postcopy-paused' ? ' (the late-fault case: two live copies of the guest)' : ''}`);
        }
        rec.say('both sides postcopy-paused');
        if (scenario.recover) {
          rec.step('sleep', { secs: 0.5 });
          await guard(sleep(500));
          recoverPort = await pickFreePort();
          const srcSince2 = eventCount('src');
          await qmpStep(dstName, 'migrate-recover', { uri: `tcp:127.0.0.1:${recoverPort}` });
          timings['recover_sent'] = rec.now();
          await qmpStep('src', 'migrate', { uri: `tcp:127.0.0.1:${recoverPort}`, resume: true });
          st = await waitStatus('src', FINISHED, timeoutMs, srcSince2);
        }
      }
    }

    if (!FINISHED.includes(st)) st = await waitStatus('src', FINISHED, timeoutMs, srcSince0);
    const dstSt = await waitStatus(dstName, FINISHED, 30_000, dstSince0);
    timings['src_completed'] = eventTime('src', 'completed', srcSince0);
    timings['dst_completed'] = eventTime(dstName, 'completed', dstSince0);
    if (st !== 'completed' || dstSt !== 'completed') throw new Error(`migration ended src=${st}, ${dstName}=${dstSt}`);
    rec.say(`completed on both sides (src → ${dstName})`);
  }

  // ---- final state of every process, then quit and stop (only what we started)
  guarding = false;
  // (Assigned inside migrateToCompletion, which TypeScript's narrowing does not follow.)
  (pendingKill as PreparedKill | null)?.cancel();
  const aborted = opts.signal?.aborted === true;
  for (const name of ['src', ...dstNames]) {
    const l = live[name];
    if (aborted || !l?.qmp || l.qmp.closed || l.proc.exitInfo) continue;
    for (const [cmd, key] of [
      ['query-migrate', 'query_migrate'],
      ['query-status', 'query_status'],
      ['query-migrate-parameters', 'parameters'],
    ] as const) {
      finals[`${name}_${key}`] = await qmpStep(name, cmd, undefined, 3000).catch((e: unknown) => ({ error: errText(e) }));
    }
  }
  for (const name of procNames) {
    if (live[name]) result.status[name] = statusOf(finals[`${name}_query_migrate`]) ?? lastStatus(name);
  }
  // `dst`: the last destination that ran (dst2, or dst1 when the capture stopped before dst2).
  const lastDst = [...dstNames].reverse().find((n) => live[n]) ?? dstNames[0]!;
  result.status.dst = result.status[lastDst] ?? null;
  sampler.sample();
  expectExit = true;
  const quitAnswered = new Set<string>();
  for (const name of ['src', ...dstNames]) {
    const l = live[name];
    if (!l?.qmp || l.qmp.closed || l.proc.exitInfo) continue;
    await qmpStep(name, 'quit', undefined, 3000).then(
      () => quitAnswered.add(name),
      (e: unknown) => {
        if (e instanceof QmpClosedError) quitAnswered.add(name);
        else rec.note(`${name}: quit: ${errText(e)}`);
      },
    );
  }
  sampler.stop();
  for (const name of ['src', ...dstNames]) {
    const l = live[name];
    if (!l) continue;
    // A QEMU that did not even answer quit (a dst blocked in a socket read) will not exit on
    // its own: do not wait long for it.
    const { exit, how } = await stopQemu(l.proc, quitAnswered.has(name) ? 5000 : 500);
    exitCodes[name] = { ...exit, how };
    if (how !== 'exited') rec.note(`${name}: QEMU pid ${l.proc.pid} did not exit after quit; stopped with ${how}`);
    l.qmp?.close();
  }
  opts.signal?.removeEventListener('abort', onAbort);

  // ---- collect the files, remove work directories (sockets included), release the chroot
  for (const name of procNames) {
    const plan = plans[name];
    if (!plan?.hostDir) continue;
    const f = sideFiles(name);
    for (const file of [...(combined ? [f.serial] : [f.log, f.serial, f.stderr]), ...(opts.simpleTrace !== undefined ? [f.simple] : [])]) {
      const from = join(plan.hostDir, file);
      if (existsSync(from)) copyFileSync(from, join(outDir, file));
    }
  }
  // Every process's thread files, into one folder as with one pattern (TIDs are unique on a host).
  if (threadFiles) {
    for (const hostDir of new Set(procNames.map((n) => plans[n]?.hostDir).filter((d): d is string => !!d))) {
      const from = join(hostDir, THREADS_DIR);
      if (!existsSync(from)) continue;
      mkdirSync(join(outDir, THREADS_DIR), { recursive: true });
      for (const file of readdirSync(from)) copyFileSync(join(from, file), join(outDir, THREADS_DIR, file));
    }
  }
  for (const d of workDirs) rmSync(d, { recursive: true, force: true });
  for (const h of chrootHandles.values()) {
    for (const p of await h.release()) rec.error(p);
  }

  // ---- summaries and meta.json
  const logs: Record<string, LogSummary> = {};
  const serial: Record<string, SerialSummary> = {};
  for (const name of ['src', ...dstNames]) {
    if (!combined) {
      const ls = await summarizeTraceLog(join(outDir, sideFiles(name).log));
      if (ls) {
        logs[name] = ls;
        result.logFiles.push(sideFiles(name).log);
      }
      result.logLines[name] = ls?.lines ?? null;
    }
    const ss = summarizeSerial(join(outDir, sideFiles(name).serial));
    if (ss) serial[name] = ss;
  }
  if (threadFiles) {
    const threads = sampler.toJSON();
    const ts = await summarizeThreadFiles(join(outDir, THREADS_DIR), (tid) => {
      const t = threads[String(tid)];
      return t ? (t.process ?? t.side) : undefined;
    });
    if (ts && ts.files > 0) {
      logs[THREADS_DIR] = ts;
      result.logFiles.push(THREADS_DIR);
    }
    result.logLines[THREADS_DIR] = ts?.lines ?? null;
  }
  if (combined) {
    const ls = await summarizeTraceLog(combinedPath);
    if (ls) {
      // Which process wrote how many lines, by the TIDs sampled from /proc (a thread that lived
      // less than a sampling interval is not known): the truth to compare the analyzer's
      // per-thread side inference with.
      const procOf = new Map<string, string>();
      for (const [tid, t] of Object.entries(sampler.toJSON())) procOf.set(tid, t.process ?? t.side);
      const perProc: Record<string, number> = {};
      for (const [tid, n] of Object.entries(ls.lines_per_tid)) {
        const p = procOf.get(tid) ?? 'unknown';
        perProc[p] = (perProc[p] ?? 0) + n;
      }
      logs['combined'] = { ...ls, lines_per_process: perProc };
      result.logFiles.push(COMBINED_LOG);
    }
    result.logLines['combined'] = ls?.lines ?? null;
  }
  const finalStatus = result.status[lastDst] ?? result.status.dst;
  const migrated = finalStatus === 'completed' || (finalStatus ?? '').startsWith('postcopy');
  result.guest = live['src'] ? guestVerdict(serial['src'] ?? null, serial[lastDst] ?? null, migrated) : 'not run';
  if (result.ok && result.guest.startsWith('INCONSISTENT')) rec.note(`guest memory check: ${result.guest}`);
  const pa = timings['postcopy_active'] ?? null;
  const done = timings['src_completed'] ?? null;
  timings['postcopy_ms'] = pa != null && done != null ? Math.round((done - pa) * 1e6) / 1e3 : null;
  result.wallMs = Date.now() - wallStart;
  timings['wall_s'] = result.wallMs / 1000;
  result.outcome = outcome || 'unknown';

  const meta = buildMeta({
    outDir, opts, scenario: opts.scenario, procNames, sidePlans, plans, live, finals, exitCodes, qmpEvents, sampler, rec, hangSnapshots,
    logs, serial, eventSet, port, ports, recoverPort, kills, timings, result, machine, memMib, wsMib, faultAfterMs, precopyMs, guestBuilt,
    attempts, combinedLog: combined, threadFiles,
  });
  writeFileSync(join(outDir, 'meta.json'), JSON.stringify(meta, null, 1) + '\n');
  rec.say(`${result.outcome}; wrote ${outDir}`);
  return result;
}

function statusOf(v: unknown): string | null {
  return typeof v === 'object' && v !== null && typeof (v as { status?: unknown }).status === 'string' ? (v as { status: string }).status : null;
}

/** A trace line, `TID@sec.usec:name` (<= 10.0) or `<ISO>Z name ` (>= 10.1), not an error message. */
const TRACE_LINE_PREFIX = /^(?:\d+@\d+\.\d{6}:|\d{4}-\d\d-\d\dT[\d:.]+Z [a-z_][a-z0-9_]*(?: |$))/;

/** The last QEMU messages of a stderr file (in a combined log: of any process), trace lines and
 *  the expected unknown-event warnings left out. */
function stderrTail(path: string): string {
  try {
    const lines = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .filter((l) => !/warning: trace event .* does not exist/.test(l) && !TRACE_LINE_PREFIX.test(l));
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

/** For tests and the CLI: the files a finished capture directory holds. */
export function captureFiles(outDir: string): string[] {
  return existsSync(outDir) ? readdirSync(outDir).sort() : [];
}
