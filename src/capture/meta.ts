// meta.json: the development runs' keys (traces/README.md), so the analyzer and people read
// a capture like any shared run, plus what only a capture knows (outcome, timings, event_set).
import { release } from 'node:os';
import { sideFiles, THREAD_FILE_PATTERN, THREADS_DIR, TRACE_EVENTS_ALL } from './argv.js';
import { basename } from 'node:path';
import type { CaptureOptions, CaptureResult } from './options.js';
import type { EventSet } from './events.js';
import type { KillResult } from './netfault.js';
import type { Live, SidePlan } from './plan.js';
import type { QmpEvent } from './qmp.js';
import type { ExitInfo, ThreadSampler } from './qemu.js';
import type { Recorder } from './record.js';
import { SCENARIOS, type ScenarioName } from './scenarios.js';
import type { LogSummary, SerialSummary } from './summary.js';
import type { Side } from './types.js';

export interface MetaInput {
  outDir: string;
  opts: CaptureOptions;
  scenario: ScenarioName;
  /** Every process, destinations first: `dst`, `src`; or `dst1`, `dst2`, `src` (migrate-twice). */
  procNames: string[];
  /** How each side runs QEMU (version, chroot), whatever its processes. */
  sidePlans: Partial<Record<Side, SidePlan>>;
  /** Per process. */
  plans: Record<string, SidePlan>;
  live: Record<string, Live>;
  finals: Record<string, unknown>;
  exitCodes: Record<string, ExitInfo & { how: string }>;
  qmpEvents: Record<string, QmpEvent[]>;
  sampler: ThreadSampler;
  rec: Recorder;
  hangSnapshots: unknown[];
  /** Per trace log: `src`, `dst` (`dst1`, `dst2`), or `combined`. */
  logs: Record<string, LogSummary>;
  serial: Record<string, SerialSummary>;
  eventSet: EventSet | null;
  port: number;
  /** Migration port per destination process. */
  ports: Record<string, number>;
  recoverPort: number | null;
  kills: KillResult[];
  timings: Record<string, number | null>;
  result: CaptureResult;
  machine: string;
  memMib: number;
  wsMib: number;
  faultAfterMs: number;
  precopyMs: number;
  guestBuilt: boolean;
  /** migrate-twice: each migration attempt (destination, port, statuses seen, how it ended). */
  attempts: Array<Record<string, unknown>>;
  combinedLog: boolean;
  /** Per-thread files (`-d tid`) instead of each process's own log. */
  threadFiles: boolean;
}

/** meta.json, with the shared runs' keys (traces/README.md) plus outcome, timings and event_set. */
export function buildMeta(m: MetaInput): Record<string, unknown> {
  const sc = SCENARIOS[m.scenario];
  const v = m.result.versions;
  const label = v.src === v.dst ? (v.src ?? 'unknown') : `${v.src ?? 'unknown'}-to-${v.dst ?? 'unknown'}`;
  const rawEvents = (name: string): unknown[] =>
    (m.qmpEvents[name] ?? []).map((e) => {
      const o: Record<string, unknown> = { timestamp: e.timestamp, event: e.event };
      if (e.data) o['data'] = e.data;
      return o;
    });
  const dsts = m.procNames.filter((n) => n !== 'src');
  const srcFirst = ['src', ...dsts];
  const per = <T>(names: string[], f: (name: string) => T): Record<string, T> => Object.fromEntries(names.map((n) => [n, f(n)]));
  const globals = [...new Set(m.procNames.flatMap((n) => m.plans[n]?.globals ?? []))];
  const finals: Record<string, unknown> = {};
  for (const n of srcFirst) finals[`${n}_capabilities`] = m.finals[`${n}_capabilities`] ?? null;
  for (const n of srcFirst) {
    for (const k of ['query_migrate', 'query_status', 'parameters']) finals[`${n}_${k}`] = m.finals[`${n}_${k}`] ?? null;
  }
  const twice = sc.twice;
  return {
    name: basename(m.outDir),
    label,
    scenario: m.scenario,
    tool: 'migtrace capture',
    outcome: m.result.outcome,
    ok: m.result.ok,
    qemu_version: m.sidePlans.src?.version ?? null,
    qemu_version_by_side: { src: m.sidePlans.src?.version ?? null, dst: m.sidePlans.dst?.version ?? null },
    chroot: m.sidePlans.src?.chroot ?? m.sidePlans.dst?.chroot ?? null,
    chroot_by_side: { src: m.sidePlans.src?.chroot ?? null, dst: m.sidePlans.dst?.chroot ?? null },
    ...(twice
      ? {
          processes: {
            src: { side: 'src', role: 'the source, migrated twice' },
            dst1: { side: 'dst', role: 'first destination: the migration to it is cancelled during precopy' },
            dst2: { side: 'dst', role: 'second destination, started after the cancel: postcopy to completion' },
          },
        }
      : {}),
    host_kernel: release(),
    accel: 'tcg',
    guest: {
      kernel: `capture/guest/build/dirtier.elf (multiboot, see capture/guest/dirtier.c)${m.guestBuilt ? ', built for this capture' : ''}`,
      mem_mib: m.memMib,
      ws_mib: m.wsMib,
      machine: { src: m.machine, dst: m.machine },
    },
    caps: sc.caps,
    src_params: m.opts.params ?? {},
    dst_params: {},
    globals,
    globals_by_side: { src: m.plans['src']?.globals ?? [], dst: m.plans[dsts[0] ?? 'dst']?.globals ?? [] },
    fault: sc.fault,
    fault_after_s: m.faultAfterMs / 1000,
    recover: sc.recover,
    precopy_time_s: sc.postcopy ? m.precopyMs / 1000 : null,
    port: m.port || null,
    ...(twice ? { ports: m.ports } : {}),
    recover_port: m.recoverPort,
    ...(twice ? { attempts: m.attempts } : {}),
    combined_log: m.combinedLog,
    // How the trace lines were written: each process's own -D file, one stream of all (stderr),
    // or one file per thread named by its TID (the only thread ids QEMU >= 10.1 gives).
    log_form: m.threadFiles ? 'per-thread-files' : m.combinedLog ? 'combined-stderr' : 'per-process-log',
    ...(m.threadFiles
      ? { thread_files: { folder: THREADS_DIR, pattern: `-d tid -D <work>/${THREADS_DIR}/${THREAD_FILE_PATTERN}`, note: 'one pattern for every QEMU process, as a CI job passes it; the TID is in each file name' } }
      : {}),
    ...(m.opts.simpleTrace !== undefined
      ? {
          simple_trace: {
            files: per(srcFirst, (n) => sideFiles(n).simple),
            trace_events: TRACE_EVENTS_ALL,
            trace_events_from: m.opts.simpleTrace,
            note: 'the simple backend of the same processes as the logs (-trace events=F,file=<name>.simple); decode with trace_events',
          },
        }
      : {}),
    ...(m.opts.twinOf ? { twin_of: m.opts.twinOf } : {}),
    workdir: m.plans['src']?.qemuDir ?? null,
    time_start: m.rec.t0,
    pids: per(m.procNames, (n) => m.live[n]?.proc.pid ?? null),
    cmdline: per(srcFirst, (n) => m.plans[n]?.argv ?? []),
    ...finals,
    exit_codes: per(m.procNames, (n) => m.exitCodes[n]?.code ?? null),
    exits: per(srcFirst.filter((n) => m.exitCodes[n]), (n) => m.exitCodes[n]),
    qmp_events: per(m.procNames, rawEvents),
    threads: m.sampler.toJSON(),
    steps: m.rec.steps,
    errors: m.rec.errors,
    notes: m.rec.notes,
    hang_snapshots: m.hangSnapshots,
    kills: m.kills,
    timings: m.timings,
    time_end: Date.now() / 1000,
    logs: m.logs,
    serial_summary: m.serial,
    guest_verdict: m.result.guest,
    events_file: 'events.txt (derived by migtrace capture from src/model/catalog.csv + broad globs - firehoses)',
    event_set: m.eventSet
      ? { explicit: m.eventSet.explicit, excluded: m.eventSet.excluded, catalog_excluded: m.eventSet.catalogExcluded }
      : null,
  };
}

