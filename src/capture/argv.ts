// The QEMU command line of one side, exactly as the shared runs used it (traces/README.md):
// TCG only (KVM is unusable in this nested VM), the tiny multiboot guest, serial to a file, QMP
// on a unix socket, the trace event file, the `log` backend to -D with `-msg timestamp=on` for
// the `TID@sec.usec:` prefix (model §F.1), and thread names on for /proc sampling (model §A.1).
import { posix as path } from 'node:path';
import type { Side } from './types.js';

export interface SideArgvSpec {
  side: Side;
  /** How to run QEMU: `['/usr/bin/qemu-system-x86_64']` or `['chroot', DIR, 'qemu-system-x86_64']`. */
  qemu: string[];
  /** Working directory as QEMU sees it (inside the chroot when there is one). */
  workdir: string;
  /** Guest kernel path as QEMU sees it. */
  kernel: string;
  wsMib: number;
  memMib: number;
  machine: string;
  globals: string[];
  /** Destination: start with `-incoming defer` and wait for QMP migrate-incoming. */
  incoming: boolean;
  /** Extra arguments passed through as they are (e.g. `-L DIR` for a self-built QEMU). */
  extra?: string[];
}

/** Paths of the files a side writes, relative to its workdir. */
export function sideFiles(side: Side): { log: string; serial: string; qmp: string; stderr: string } {
  return { log: `${side}.log`, serial: `${side}-serial.log`, qmp: `${side}.qmp`, stderr: `${side}-stderr.txt` };
}

export const EVENTS_FILE = 'events.txt';

export function buildQemuArgv(spec: SideArgvSpec): string[] {
  const f = sideFiles(spec.side);
  const at = (name: string): string => path.join(spec.workdir, name);
  const argv = [
    ...spec.qemu,
    '-name', `${spec.side},debug-threads=on`,
    '-accel', 'tcg',
    '-M', spec.machine,
    '-m', String(spec.memMib),
    '-display', 'none',
    '-nodefaults',
    '-kernel', spec.kernel,
    '-append', `ws=${spec.wsMib}`,
    '-serial', `file:${at(f.serial)}`,
    '-qmp', `unix:${at(f.qmp)},server=on,wait=off`,
    '-trace', `events=${at(EVENTS_FILE)}`,
    '-D', at(f.log),
    '-msg', 'timestamp=on',
  ];
  for (const g of spec.globals) argv.push('-global', g);
  argv.push(...(spec.extra ?? []));
  if (spec.incoming) argv.push('-incoming', 'defer');
  return argv;
}
