// The QEMU command line of one side, exactly as the shared runs used it (traces/README.md):
// TCG only (KVM is unusable in this nested VM), the tiny multiboot guest, serial to a file, QMP
// on a unix socket, the trace event file, the `log` backend to -D with `-msg timestamp=on` for
// the `TID@sec.usec:` prefix on QEMU <= 10.0 (an ISO timestamp without thread id from 10.1 on,
// model §F.1), and thread names on for /proc sampling (model §A.1). With per-thread files
// (`-d tid -D DIR/t-%d.log`) each thread writes its own file, named by its TID, instead.
import { posix as path } from 'node:path';
import type { Side } from './types.js';

export interface SideArgvSpec {
  side: Side;
  /** The process's name when it differs from its side (`dst1`, `dst2` in migrate-twice): used for
   *  `-name` and its files. Default: the side. */
  name?: string;
  /** Trace lines go to stderr (no `-D`), which the capture appends to one combined.log. */
  combinedLog?: boolean;
  /** Per-thread files instead of the process's own log: `-d tid -D <this pattern>` (as QEMU sees
   *  it, with one `%d` for the TID). The same pattern for every process, as a CI job gives it. */
  threadFiles?: string;
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
  /** Also write the `simple` backend's binary trace to `<name>.simple` (a QEMU built with
   *  `--enable-trace-backends=log,simple` writes both forms of the same run). */
  simpleTrace?: boolean;
}

/** Paths of the files a process writes, relative to its workdir (`src`, `dst`, or `dst1`/`dst2`). */
export function sideFiles(name: string): { log: string; serial: string; qmp: string; stderr: string; simple: string } {
  return { log: `${name}.log`, serial: `${name}-serial.log`, qmp: `${name}.qmp`, stderr: `${name}-stderr.txt`, simple: `${name}.simple` };
}

/** The build's event list, copied beside the `.simple` files: their records carry event ids only,
 *  numbered by the order of this file (it differs between builds). */
export const TRACE_EVENTS_ALL = 'trace-events-all';

export const EVENTS_FILE = 'events.txt';

/** `--combined-log`: every QEMU's stderr, trace lines included, appended to this one file. */
export const COMBINED_LOG = 'combined.log';

/** Per-thread files: the folder (in the work directory and in the run folder) and the file name
 *  pattern QEMU fills in with each thread's TID. One QEMU process writes either its own log or
 *  per-thread files, never both: `-d tid` switches every thread of the process to its own file,
 *  and only the last `-D` counts (util/log.c). */
export const THREADS_DIR = 'threads';
export const THREAD_FILE_PATTERN = 't-%d.log';

export function buildQemuArgv(spec: SideArgvSpec): string[] {
  const name = spec.name ?? spec.side;
  const f = sideFiles(name);
  const at = (file: string): string => path.join(spec.workdir, file);
  const argv = [
    ...spec.qemu,
    '-name', `${name},debug-threads=on`,
    '-accel', 'tcg',
    '-M', spec.machine,
    '-m', String(spec.memMib),
    '-display', 'none',
    '-nodefaults',
    '-kernel', spec.kernel,
    '-append', `ws=${spec.wsMib}`,
    '-serial', `file:${at(f.serial)}`,
    '-qmp', `unix:${at(f.qmp)},server=on,wait=off`,
    '-trace', `events=${at(EVENTS_FILE)}${spec.simpleTrace ? `,file=${at(f.simple)}` : ''}`,
    // Without -D the log backend writes to stderr, as in qtest's migration-test and CI jobs.
    ...(spec.threadFiles ? ['-d', 'tid', '-D', spec.threadFiles] : spec.combinedLog ? [] : ['-D', at(f.log)]),
    '-msg', 'timestamp=on',
  ];
  for (const g of spec.globals) argv.push('-global', g);
  argv.push(...(spec.extra ?? []));
  if (spec.incoming) argv.push('-incoming', 'defer');
  return argv;
}
