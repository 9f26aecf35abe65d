// QEMU processes: spawn with an exact argv (recorded verbatim in meta.json), stop them (only the
// ones we started, by pid), ask a binary for its version, and sample thread names from
// /proc/<pid>/task/*/comm, which `-name <side>,debug-threads=on` fills in (model §A.1).
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readdirSync, readFileSync } from 'node:fs';
import type { Side } from './types.js';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface QemuProcess {
  side: Side;
  argv: string[];
  pid: number;
  child: ChildProcess;
  /** Resolves when the process has exited (never rejects). */
  exit: Promise<ExitInfo>;
  exitInfo: ExitInfo | null;
  /** spawn() itself failed (ENOENT, EACCES): QEMU never ran. */
  spawnError: Error | null;
}

/**
 * Starts argv[0] with argv[1..] (no shell), stdout and stderr to `stderrPath`. With a chroot the
 * argv starts with `chroot DIR`, and since chroot(8) execs QEMU the pid is QEMU's own.
 */
export function spawnQemu(side: Side, argv: string[], stderrPath: string): Promise<QemuProcess> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new Error('empty argv');
  const fd = openSync(stderrPath, 'a');
  const child = spawn(cmd, args, { stdio: ['ignore', fd, fd] });
  const proc: QemuProcess = {
    side,
    argv,
    pid: child.pid ?? -1,
    child,
    exitInfo: null,
    spawnError: null,
    exit: new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        proc.exitInfo = { code, signal };
        resolve(proc.exitInfo);
      });
      child.once('error', (err) => {
        proc.spawnError = err;
        // 'exit' does not follow a failed spawn.
        if (child.pid === undefined) {
          proc.exitInfo = { code: null, signal: null };
          resolve(proc.exitInfo);
        }
      });
    }),
  };
  closeSync(fd);
  return new Promise((resolve) => {
    child.once('spawn', () => resolve(proc));
    child.once('error', () => resolve(proc));
  });
}

/** Sends `signal`, unless the process has already gone (its pid may belong to someone else). */
export function signalQemu(proc: QemuProcess, signal: NodeJS.Signals): void {
  if (proc.exitInfo === null && proc.pid > 0) proc.child.kill(signal);
}

/**
 * Waits up to `graceMs` for a clean exit (after QMP quit), then SIGTERM, then SIGKILL: a dst
 * stuck in a socket read ignores nothing but SIGKILL (docs/capture.md). Returns how it ended.
 */
export async function stopQemu(proc: QemuProcess, graceMs: number): Promise<{ exit: ExitInfo; how: 'exited' | 'SIGTERM' | 'SIGKILL' }> {
  if (await exitsWithin(proc, graceMs)) return { exit: proc.exitInfo!, how: 'exited' };
  signalQemu(proc, 'SIGTERM');
  if (await exitsWithin(proc, 2000)) return { exit: proc.exitInfo!, how: 'SIGTERM' };
  signalQemu(proc, 'SIGKILL');
  await exitsWithin(proc, 5000);
  return { exit: proc.exitInfo ?? { code: null, signal: null }, how: 'SIGKILL' };
}

function exitsWithin(proc: QemuProcess, ms: number): Promise<boolean> {
  if (proc.exitInfo) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void proc.exit.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** `<cmd> --version`, whole output trimmed (both lines, as the shared runs record it). */
export function qemuVersion(cmdPrefix: string[], timeoutMs = 10_000): Promise<string> {
  const [cmd, ...args] = cmdPrefix;
  if (cmd === undefined) return Promise.reject(new Error('empty QEMU command'));
  return new Promise((resolve, reject) => {
    execFile(cmd, [...args, '--version'], { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmdPrefix.join(' ')} --version failed: ${(stderr || err.message).trim()}`));
      else resolve(stdout.trim());
    });
  });
}

export interface QemuVersion {
  major: number;
  minor: number;
  micro: number;
}

/** "QEMU emulator version 7.2.22 (Debian ...)" → 7.2.22. */
export function parseQemuVersion(text: string): QemuVersion | null {
  const m = /version (\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  if (!m) return null;
  return { major: Number(m[1]), minor: Number(m[2]), micro: Number(m[3] ?? 0) };
}

export function formatVersion(v: QemuVersion | null): string {
  return v ? `${v.major}.${v.minor}.${v.micro}` : 'unknown';
}

export function versionAtLeast(v: QemuVersion | null, major: number, minor = 0): boolean {
  return v !== null && (v.major > major || (v.major === major && v.minor >= minor));
}

export interface ThreadInfo {
  tid: number;
  comm: string;
}

/** One look at /proc/<pid>/task; [] when the process is gone. Threads can vanish mid-read. */
export function readThreads(pid: number): ThreadInfo[] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: ThreadInfo[] = [];
  for (const t of tids) {
    try {
      out.push({ tid: Number(t), comm: readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim() });
    } catch {
      /* exited between readdir and read */
    }
  }
  return out;
}

export interface ThreadRecord {
  side: Side;
  /** The process, when its name is not its side (`dst1`, `dst2` in migrate-twice). */
  process?: string;
  /** Every name seen, in order: a thread starts with the process comm and is renamed. */
  names: string[];
  first_seen: number;
  last_seen: number;
}

/**
 * Samples thread names of both QEMUs every `intervalMs`. The dst preempt thread lives well under
 * 100 ms in a normal postcopy, so the interval must be short; one sample is a few small reads.
 */
export class ThreadSampler {
  readonly threads = new Map<number, ThreadRecord>();
  private timer: NodeJS.Timeout | null = null;
  private readonly procs: Array<{ side: Side; pid: number; launcher: string | null; name: string }> = [];

  /** `launcher`: the comm the process has before it execs QEMU (`chroot`), not worth recording. */
  add(side: Side, pid: number, launcher: string | null = null, name: string = side): void {
    this.procs.push({ side, pid, launcher, name });
    this.sample();
  }

  start(intervalMs: number): void {
    this.stop();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  sample(): void {
    const t = Date.now() / 1000;
    for (const { side, pid, launcher, name } of this.procs) {
      for (const { tid, comm } of readThreads(pid)) {
        if (comm === launcher) continue;
        const rec = this.threads.get(tid);
        if (!rec) {
          this.threads.set(tid, { side, ...(name !== side ? { process: name } : {}), names: [comm], first_seen: t, last_seen: t });
        } else {
          rec.last_seen = t;
          if (rec.names[rec.names.length - 1] !== comm) rec.names.push(comm);
        }
      }
    }
  }

  toJSON(): Record<string, ThreadRecord> {
    const out: Record<string, ThreadRecord> = {};
    for (const tid of [...this.threads.keys()].sort((a, b) => a - b)) out[String(tid)] = this.threads.get(tid)!;
    return out;
  }
}

/** Per-thread state and kernel wait channel, for a snapshot when something hangs. */
export function hangSnapshot(pid: number): Array<{ tid: number; comm: string; state: string; wchan: string }> {
  return readThreads(pid).map(({ tid, comm }) => {
    let state = '?';
    let wchan = '?';
    try {
      // Field 3 of stat, after the parenthesised comm (which may itself contain spaces).
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? '?';
    } catch {
      /* gone */
    }
    try {
      wchan = readFileSync(`/proc/${pid}/task/${tid}/wchan`, 'utf8').trim() || '0';
    } catch {
      /* not readable on every kernel */
    }
    return { tid, comm, state, wchan };
  });
}
