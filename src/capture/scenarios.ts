// The capture scenarios of issue 5: which migration capabilities, globals, guest working set,
// fault and recovery each one uses. Everything else (argv, QMP sequence) is derived from these.
import { versionAtLeast, type QemuVersion } from './qemu.js';

export const SCENARIO_NAMES = [
  'precopy',
  'postcopy',
  'postcopy-preempt',
  'postcopy-preempt-compat',
  'postcopy-preempt-pause-recover',
  'postcopy-preempt-kill-recover',
  'migrate-twice',
  'postcopy-preempt-multifd',
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** `cancel`: QMP migrate_cancel on the source during precopy (migrate-twice's first attempt). */
export type Fault = 'none' | 'pause' | 'kill' | 'cancel';

export interface Scenario {
  name: ScenarioName;
  description: string;
  /** Capabilities switched on, on both sides (`events` is always added: waits depend on it). */
  caps: string[];
  postcopy: boolean;
  /** `-global migration.x-preempt-pre-7-2=on` on every side that knows it (>= 8.0). */
  compatPre72: boolean;
  fault: Fault;
  /** Default delay from the destination's RESUME (guest started there, so it can pause rather
   *  than die) to the fault. Postcopy lasts ~30 ms on 10.0 and ~100 ms on 7.2 here, and a fault
   *  after the source has sent everything sends a 10.0 source to `failed` (docs/capture.md),
   *  so it must come early; `ss` itself takes ~10 ms to act. */
  faultAfterMs: number;
  recover: boolean;
  /** migrate-twice: the first migration, to `dst1`, is cancelled `faultAfterMs` into precopy;
   *  the same source then migrates to a fresh `dst2` through postcopy to completion. */
  twice: boolean;
  /** Guest working set in MiB: postcopy needs a big one to keep faulting after switchover;
   *  precopy a small one to converge at the default 128 MiB/s (docs/capture.md). */
  wsMib: number;
}

const POSTCOPY_WS = 40;
const PRECOPY_WS = 4;

export const SCENARIOS: Record<ScenarioName, Scenario> = {
  precopy: {
    name: 'precopy',
    description: 'precopy only; postcopy rules are not applicable to it',
    caps: ['events'],
    postcopy: false,
    compatPre72: false,
    fault: 'none',
    faultAfterMs: 0,
    recover: false,
    twice: false,
    wsMib: PRECOPY_WS,
  },
  postcopy: {
    name: 'postcopy',
    description: 'postcopy without preempt',
    caps: ['postcopy-ram', 'events'],
    postcopy: true,
    compatPre72: false,
    fault: 'none',
    faultAfterMs: 0,
    recover: false,
    twice: false,
    wsMib: POSTCOPY_WS,
  },
  'postcopy-preempt': {
    name: 'postcopy-preempt',
    description: 'postcopy with the preempt channel, default (new) mode',
    caps: ['postcopy-ram', 'postcopy-preempt', 'events'],
    postcopy: true,
    compatPre72: false,
    fault: 'none',
    faultAfterMs: 0,
    recover: false,
    twice: false,
    wsMib: POSTCOPY_WS,
  },
  'postcopy-preempt-compat': {
    name: 'postcopy-preempt-compat',
    description: 'postcopy-preempt with -global migration.x-preempt-pre-7-2=on (model §D.5)',
    caps: ['postcopy-ram', 'postcopy-preempt', 'events'],
    postcopy: true,
    compatPre72: true,
    fault: 'none',
    faultAfterMs: 0,
    recover: false,
    twice: false,
    wsMib: POSTCOPY_WS,
  },
  'postcopy-preempt-pause-recover': {
    name: 'postcopy-preempt-pause-recover',
    description: 'postcopy-preempt, QMP migrate-pause on the source during postcopy, then recovery',
    caps: ['postcopy-ram', 'postcopy-preempt', 'events'],
    postcopy: true,
    compatPre72: false,
    fault: 'pause',
    faultAfterMs: 5,
    recover: true,
    twice: false,
    wsMib: POSTCOPY_WS,
  },
  'postcopy-preempt-kill-recover': {
    name: 'postcopy-preempt-kill-recover',
    description: 'postcopy-preempt, migration TCP connections reset with ss -K during postcopy, then recovery',
    caps: ['postcopy-ram', 'postcopy-preempt', 'events'],
    postcopy: true,
    compatPre72: false,
    fault: 'kill',
    faultAfterMs: 0,
    recover: true,
    twice: false,
    wsMib: POSTCOPY_WS,
  },
  'migrate-twice': {
    name: 'migrate-twice',
    description:
      'one source migrated twice: to dst1, cancelled with migrate_cancel during precopy (dst1 exits 1, ' +
      '"load of migration failed"); then to a fresh dst2 with postcopy-preempt, to completion',
    caps: ['postcopy-ram', 'postcopy-preempt', 'events'],
    postcopy: true,
    compatPre72: false,
    fault: 'cancel',
    // Well inside precopy: the first pass over 64 MiB takes ~0.5 s at 128 MiB/s, and a 40 MiB
    // working set never converges.
    faultAfterMs: 1000,
    recover: false,
    twice: true,
    wsMib: POSTCOPY_WS,
  },
  'postcopy-preempt-multifd': {
    name: 'postcopy-preempt-multifd',
    description:
      'postcopy-preempt with multifd: refused by QEMU >= 10.0 ("Postcopy is not yet compatible with multifd"); ' +
      'accepted by 7.2, where the migration hangs (the capture times out, sends migrate_cancel and stops the QEMUs it started)',
    caps: ['postcopy-ram', 'postcopy-preempt', 'multifd', 'events'],
    postcopy: true,
    compatPre72: false,
    fault: 'none',
    faultAfterMs: 0,
    recover: false,
    twice: false,
    wsMib: POSTCOPY_WS,
  },
};

export const PREEMPT_PRE_7_2_GLOBAL = 'migration.x-preempt-pre-7-2=on';

/**
 * `-global` settings for one side. The compat property exists from 8.0 on and 7.2 rejects it
 * (docs/capture.md); a 7.2 side already behaves the pre-7.2 way, so it simply gets none.
 */
export function scenarioGlobals(s: Scenario, version: QemuVersion | null): string[] {
  if (s.compatPre72 && versionAtLeast(version, 8, 0)) return [PREEMPT_PRE_7_2_GLOBAL];
  return [];
}
