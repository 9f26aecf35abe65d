// meta.json: the shared runs' keys (../shared/traces/README.md), so the analyzer and people read
// a capture like any shared run, plus what only a capture knows (outcome, timings, event_set).
import { release } from 'node:os';
import { basename } from 'node:path';
import type { CaptureOptions, CaptureResult } from './capture.js';
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
  plans: Partial<Record<Side, SidePlan>>;
  live: Partial<Record<Side, Live>>;
  finals: Record<string, unknown>;
  exitCodes: Partial<Record<Side, ExitInfo & { how: string }>>;
  qmpEvents: Record<Side, QmpEvent[]>;
  sampler: ThreadSampler;
  rec: Recorder;
  hangSnapshots: unknown[];
  logs: Partial<Record<Side, LogSummary>>;
  serial: Partial<Record<Side, SerialSummary>>;
  eventSet: EventSet | null;
  port: number;
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
}

/** meta.json, with the shared runs' keys (traces/README.md) plus outcome, timings and event_set. */
export function buildMeta(m: MetaInput): Record<string, unknown> {
  const sc = SCENARIOS[m.scenario];
  const v = m.result.versions;
  const label = v.src === v.dst ? (v.src ?? 'unknown') : `${v.src ?? 'unknown'}-to-${v.dst ?? 'unknown'}`;
  const rawEvents = (side: Side): unknown[] =>
    m.qmpEvents[side].map((e) => {
      const o: Record<string, unknown> = { timestamp: e.timestamp, event: e.event };
      if (e.data) o['data'] = e.data;
      return o;
    });
  const globals = [...new Set([...(m.plans.src?.globals ?? []), ...(m.plans.dst?.globals ?? [])])];
  return {
    name: basename(m.outDir),
    label,
    scenario: m.scenario,
    tool: 'migtrace capture',
    outcome: m.result.outcome,
    ok: m.result.ok,
    qemu_version: m.plans.src?.version ?? null,
    qemu_version_by_side: { src: m.plans.src?.version ?? null, dst: m.plans.dst?.version ?? null },
    chroot: m.plans.src?.chroot ?? m.plans.dst?.chroot ?? null,
    chroot_by_side: { src: m.plans.src?.chroot ?? null, dst: m.plans.dst?.chroot ?? null },
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
    globals_by_side: { src: m.plans.src?.globals ?? [], dst: m.plans.dst?.globals ?? [] },
    fault: sc.fault,
    fault_after_s: m.faultAfterMs / 1000,
    recover: sc.recover,
    precopy_time_s: sc.postcopy ? m.precopyMs / 1000 : null,
    port: m.port || null,
    recover_port: m.recoverPort,
    workdir: m.plans.src?.qemuDir ?? null,
    time_start: m.rec.t0,
    pids: { dst: m.live.dst?.proc.pid ?? null, src: m.live.src?.proc.pid ?? null },
    cmdline: { src: m.plans.src?.argv ?? [], dst: m.plans.dst?.argv ?? [] },
    src_capabilities: m.finals['src_capabilities'] ?? null,
    dst_capabilities: m.finals['dst_capabilities'] ?? null,
    src_query_migrate: m.finals['src_query_migrate'] ?? null,
    src_query_status: m.finals['src_query_status'] ?? null,
    src_parameters: m.finals['src_parameters'] ?? null,
    dst_query_migrate: m.finals['dst_query_migrate'] ?? null,
    dst_query_status: m.finals['dst_query_status'] ?? null,
    dst_parameters: m.finals['dst_parameters'] ?? null,
    exit_codes: { dst: m.exitCodes.dst?.code ?? null, src: m.exitCodes.src?.code ?? null },
    exits: m.exitCodes,
    qmp_events: { dst: rawEvents('dst'), src: rawEvents('src') },
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

