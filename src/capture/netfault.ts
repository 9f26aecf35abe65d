// The `kill` fault: reset the established migration TCP connections with `ss -K` (needs root and
// CONFIG_INET_DIAG_DESTROY). The main and the preempt channel both go to the destination's
// port, so one filter on that port catches them all (docs/capture.md).
//
// Timing matters: on 10.0 the window between the destination resuming the guest and the source
// having sent everything is ~20 ms here, and starting `ss` on a 2-core machine busy with two TCG
// guests took ~35 ms. So the process is started ahead of time, parked in a `read`, and the
// fault only writes a newline to it: what is left is one exec.
import { spawn, type ChildProcess } from 'node:child_process';

export interface KillResult {
  argv: string[];
  code: number | null;
  stdout: string;
  stderr: string;
  /** Sockets `ss` listed as matched (and destroyed, when the kernel allows it). */
  killed: number;
  /** From fire() to ss's exit. */
  ms: number;
}

export function killConnectionsArgv(port: number): string[] {
  return ['ss', '-K', '-t', 'state', 'established', `( dport = :${port} or sport = :${port} )`];
}

/** Counts socket lines in `ss` output (the header is not one). */
export function countSsSockets(stdout: string): number {
  return stdout.split('\n').filter((l) => l.trim() !== '' && !/^(Recv-Q|State|Netid)\b/.test(l.trim())).length;
}

export interface PreparedKill {
  argv: string[];
  fire(): Promise<KillResult>;
  /** Ends the parked process without running ss (the fault was not needed after all). */
  cancel(): void;
}

export function prepareKill(port: number): PreparedKill {
  const argv = killConnectionsArgv(port);
  // `$0 "$@"` is ss and its arguments: no quoting of the filter through a shell string.
  const child: ChildProcess = spawn('sh', ['-c', 'read -r _ || exit 99; exec "$0" "$@"', ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', (e) => {
      stderr += e.message;
      resolve(null);
    });
  });
  return {
    argv,
    fire: async () => {
      const t0 = Date.now();
      child.stdin?.end('\n');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return { argv, code, stdout, stderr, killed: countSsSockets(stdout), ms: Date.now() - t0 };
    },
    cancel: () => {
      child.stdin?.destroy();
      if (child.exitCode === null) child.kill('SIGTERM');
    },
  };
}
