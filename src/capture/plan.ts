// What the capture knows about each side: how QEMU is run there (plan) and the running process
// with its QMP connection (live). Shared by the orchestrator and meta.json.
import type { QmpClient } from './qmp.js';
import type { QemuProcess, QemuVersion } from './qemu.js';
import type { Side } from './types.js';

export interface SidePlan {
  side: Side;
  /** The process's name: its side, or `dst1`/`dst2` (migrate-twice). Names its files. */
  name: string;
  chroot: string | null;
  qemuCmd: string[];
  version: string | null;
  parsed: QemuVersion | null;
  /** Work directory on the host, and as QEMU sees it. */
  hostDir: string;
  qemuDir: string;
  globals: string[];
  argv: string[];
}

export interface Live {
  side: Side;
  name: string;
  proc: QemuProcess;
  qmp: QmpClient | null;
}
