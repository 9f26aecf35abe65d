// The state of one capture, shared by its stages (preflight, processes, monitor, scenario scripts,
// teardown, outputs): what was planned (sides, processes, work directories), what runs (QEMU
// processes and their QMP connections) and what was seen (events, final queries, exits, timings).
// Each stage is a function of this object; capture.ts calls them in order.
import { join, resolve } from 'node:path';
import { COMBINED_LOG, sideFiles } from './argv.js';
import type { ChrootHandle } from './chroot.js';
import type { EventSet } from './events.js';
import type { KillResult, PreparedKill } from './netfault.js';
import type { CaptureOptions, CaptureResult } from './options.js';
import type { Live, SidePlan } from './plan.js';
import { QmpError, type QmpEvent } from './qmp.js';
import { ThreadSampler, type ExitInfo } from './qemu.js';
import { Recorder } from './record.js';
import { SCENARIOS, type Scenario } from './scenarios.js';
import type { Side } from './types.js';

export const DEFAULTS = {
  qemu: 'qemu-system-x86_64',
  machine: 'pc',
  precopyMs: 2000,
  memMib: 64,
  timeoutMs: 60_000,
  settleMs: 1500,
};

export class CaptureAbort extends Error {}

/** A side did not reach the awaited migration status in time: a migration that hangs. */
export class StatusTimeout extends Error {
  constructor(
    readonly side: string,
    message: string,
  ) {
    super(message);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function errText(e: unknown): string {
  if (e instanceof QmpError) return `${e.command}: ${e.errorClass}: ${e.desc}`;
  return e instanceof Error ? e.message : String(e);
}

export class CaptureSession {
  readonly scenario: Scenario;
  readonly outDir: string;
  readonly rec: Recorder;
  readonly wallStart = Date.now();
  readonly machine: string;
  readonly memMib: number;
  readonly wsMib: number;
  readonly faultAfterMs: number;
  readonly precopyMs: number;
  readonly timeoutMs: number;
  readonly settleMs: number;
  readonly combined: boolean;
  readonly threadFiles: boolean;
  /** The processes, by name: a source and a destination, or for migrate-twice a source and two
   *  destinations (dst1 gets the cancelled attempt, dst2 is started fresh for the second one). */
  readonly dstNames: string[];
  /** Destinations first: the order they start in. */
  readonly procNames: string[];
  readonly combinedPath: string;
  readonly result: CaptureResult;

  readonly chrootHandles = new Map<string, ChrootHandle>();
  readonly workDirs = new Set<string>();
  readonly sidePlans: Partial<Record<Side, SidePlan>> = {};
  readonly plans: Record<string, SidePlan> = {};
  readonly live: Record<string, Live> = {};
  readonly sampler = new ThreadSampler();
  readonly qmpEvents: Record<string, QmpEvent[]>;
  readonly finals: Record<string, unknown> = {};
  readonly exitCodes: Record<string, ExitInfo & { how: string }> = {};
  readonly hangSnapshots: unknown[] = [];
  readonly kills: KillResult[] = [];
  readonly timings: Record<string, number | null> = {};
  readonly attempts: Array<Record<string, unknown>> = [];
  readonly ports: Record<string, number> = {};
  /** Processes whose exit is part of the scenario (dst1 after migrate_cancel). */
  readonly exitExpected = new Set<string>();
  eventSet: EventSet | null = null;
  port = 0;
  recoverPort: number | null = null;
  /** Set at teardown: from then on every QEMU exit is expected. */
  expectExit = false;
  guestPath = '';
  guestBuilt = false;
  /** A kill armed for the fault (ss -K), cancelled at teardown if it never fired. */
  pendingKill: PreparedKill | null = null;
  /** One line for the result, set when the scenario ends either way. */
  outcome = '';

  // A QEMU that dies, or a Ctrl-C, must end any wait at once instead of at its timeout.
  private rejectFast: (e: Error) => void = () => {};
  private readonly fast = new Promise<never>((_r, rej) => (this.rejectFast = rej));
  /** Only while the scenario runs: the final queries, quit and stop must go ahead regardless. */
  private guarding = true;
  private readonly onAbort = (): void => this.failFast(new CaptureAbort(`aborted (${String(this.opts.signal?.reason ?? 'signal')})`));

  constructor(readonly opts: CaptureOptions) {
    this.scenario = SCENARIOS[opts.scenario];
    this.outDir = resolve(opts.outDir);
    this.rec = new Recorder(opts.log);
    this.machine = opts.machine ?? DEFAULTS.machine;
    this.memMib = opts.memMib ?? DEFAULTS.memMib;
    this.wsMib = opts.wsMib ?? this.scenario.wsMib;
    this.faultAfterMs = opts.faultAfterMs ?? this.scenario.faultAfterMs;
    this.precopyMs = opts.precopyMs ?? DEFAULTS.precopyMs;
    this.timeoutMs = opts.timeoutMs ?? DEFAULTS.timeoutMs;
    this.settleMs = opts.settleMs ?? DEFAULTS.settleMs;
    this.combined = opts.combinedLog === true;
    this.threadFiles = opts.threadFiles === true;
    this.dstNames = this.scenario.twice ? ['dst1', 'dst2'] : ['dst'];
    this.procNames = [...this.dstNames, 'src'];
    this.combinedPath = join(this.outDir, COMBINED_LOG);
    this.qmpEvents = Object.fromEntries(this.procNames.map((n) => [n, []]));
    this.result = {
      outDir: this.outDir,
      scenario: opts.scenario,
      ok: false,
      outcome: 'not started',
      status: { src: null, dst: null },
      versions: { src: null, dst: null },
      errors: this.rec.errors,
      wallMs: 0,
      logLines: { src: null, dst: null },
      logFiles: [],
      guest: 'not run',
      threadFiles: this.threadFiles,
    };
    this.fast.catch(() => {});
  }

  sideOf(name: string): Side {
    return name === 'src' ? 'src' : 'dst';
  }

  /** `dst`: the last destination that ran (dst2, or dst1 when the capture stopped before dst2). */
  lastDst(): string {
    return [...this.dstNames].reverse().find((n) => this.live[n]) ?? this.dstNames[0]!;
  }

  /** Where a process's stderr goes: its own file in its work directory, or the one combined.log. */
  stderrPathOf(plan: SidePlan): string {
    return this.combined ? this.combinedPath : join(plan.hostDir, sideFiles(plan.name).stderr);
  }

  /** Ends every guarded wait with `e` (a QEMU died, or the capture was aborted). */
  failFast(e: Error): void {
    this.rejectFast(e);
  }

  /** `p`, unless a fast failure comes first (while the scenario runs). */
  guard<T>(p: Promise<T>): Promise<T> {
    return this.guarding ? Promise.race([p, this.fast]) : p;
  }

  /** The scenario is over: from here on waits run to their own end. */
  stopGuarding(): void {
    this.guarding = false;
  }

  /** A Ctrl-C (opts.signal) fails the capture fast; call unwatchAbort once the processes are stopped. */
  watchAbort(): void {
    if (this.opts.signal?.aborted) this.onAbort();
    this.opts.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  unwatchAbort(): void {
    this.opts.signal?.removeEventListener('abort', this.onAbort);
  }
}
