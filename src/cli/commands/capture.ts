// `migtrace capture`: run a real QEMU migration (src/capture) and, unless --no-check, analyse the
// result with `migtrace check` in a child process, passing its exit code through. A capture that
// could not run or did not go as the scenario intends exits with CAPTURE_FAILED instead.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { EXIT } from '../exit-codes.js';
import { cliIo, setExitCode } from '../io.js';
import type { Argv, CommandModule } from 'yargs';
import type { CaptureOptions, CaptureResult } from '../../capture/capture.js';
import { analyzerMain } from '../../capture/paths.js';
import { SCENARIO_NAMES, type ScenarioName } from '../../capture/scenarios.js';
import { runCaptureSet, type ThreadFilesMode } from '../../capture/twin.js';

/** Exit code when the capture itself failed (the analyzer's own codes are passed through). */
export const CAPTURE_FAILED = EXIT.captureFailed;

export interface CaptureArgs {
  qemu: string;
  'src-qemu'?: string;
  'dst-qemu'?: string;
  chroot?: string;
  'src-chroot'?: string;
  'dst-chroot'?: string;
  scenario: ScenarioName;
  out: string;
  machine: string;
  'fault-after-ms'?: number;
  'precopy-ms'?: number;
  repeat: number;
  check: boolean;
  port?: number;
  ws?: number;
  mem?: number;
  'timeout-s'?: number;
  param?: string[];
  'qemu-arg'?: string[];
  'combined-log'?: boolean;
  /** Unset: a per-thread-file twin when a side is QEMU >= 10.1. */
  'thread-files'?: boolean;
  'threads-out'?: string;
  'simple-trace'?: string;
  quiet?: boolean;
}

export function threadFilesMode(a: Pick<CaptureArgs, 'thread-files'>): ThreadFilesMode {
  return a['thread-files'] === undefined ? 'auto' : a['thread-files'] ? 'on' : 'off';
}

/** `--param name=value` → migrate-set-parameters arguments (numbers and booleans typed). */
export function parseParams(items: readonly string[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of items ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new Error(`--param wants name=value, got '${item}'`);
    const name = item.slice(0, eq);
    const raw = item.slice(eq + 1);
    out[name] = /^-?\d+$/.test(raw) ? Number(raw) : raw === 'true' ? true : raw === 'false' ? false : raw;
  }
  return out;
}

export function toCaptureOptions(a: CaptureArgs, signal?: AbortSignal, log?: (l: string) => void): CaptureOptions {
  const o: CaptureOptions = { scenario: a.scenario, outDir: a.out, qemu: a.qemu, machine: a.machine };
  if (a['src-qemu'] !== undefined) o.srcQemu = a['src-qemu'];
  if (a['dst-qemu'] !== undefined) o.dstQemu = a['dst-qemu'];
  if (a.chroot !== undefined) o.chroot = a.chroot;
  if (a['src-chroot'] !== undefined) o.srcChroot = a['src-chroot'];
  if (a['dst-chroot'] !== undefined) o.dstChroot = a['dst-chroot'];
  if (a['fault-after-ms'] !== undefined) o.faultAfterMs = a['fault-after-ms'];
  if (a['precopy-ms'] !== undefined) o.precopyMs = a['precopy-ms'];
  if (a.port !== undefined) o.port = a.port;
  if (a.ws !== undefined) o.wsMib = a.ws;
  if (a.mem !== undefined) o.memMib = a.mem;
  if (a['timeout-s'] !== undefined) o.timeoutMs = a['timeout-s'] * 1000;
  const params = parseParams(a.param);
  if (Object.keys(params).length) o.params = params;
  if (a['qemu-arg']?.length) o.qemuArgs = a['qemu-arg'];
  if (a['combined-log']) o.combinedLog = true;
  if (a['simple-trace'] !== undefined) o.simpleTrace = a['simple-trace'];
  if (signal) o.signal = signal;
  if (log) o.log = log;
  return o;
}

/** `node dist/src/cli/main.js check <dir>...`, inheriting stdio; resolves with its exit code. */
export function runCheck(dirs: string[]): Promise<number> {
  const main = analyzerMain();
  if (!existsSync(main)) {
    cliIo().stderr.write(`capture: cannot run check: ${main} is missing (build with npx tsc -p tsconfig.json)\n`);
    return Promise.resolve(CAPTURE_FAILED);
  }
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [main, 'check', ...dirs], { stdio: 'inherit' });
    child.once('error', (e) => {
      cliIo().stderr.write(`capture: cannot run check: ${e.message}\n`);
      resolve(CAPTURE_FAILED);
    });
    child.once('exit', (code, sig) => resolve(code ?? (sig ? 128 : CAPTURE_FAILED)));
  });
}

function summaryLine(r: CaptureResult): string {
  const lines = r.logFiles.map((f) => `${f}${f.endsWith('.log') ? '' : '/'} ${r.logLines[f.replace(/\.log$/, '')] ?? '-'} lines`).join(', ') || 'no trace log';
  return `${r.ok ? 'ok' : 'FAILED'} ${r.scenario} (QEMU ${r.versions.src ?? '?'} → ${r.versions.dst ?? '?'}) in ${(r.wallMs / 1000).toFixed(1)} s: ${r.outcome}; ${lines}; guest: ${r.guest} → ${r.outDir}`;
}

export const captureCommand: CommandModule<{}, CaptureArgs> = {
  command: 'capture',
  describe: 'Run a real QEMU live migration on loopback and record its trace logs (then check them)',
  builder: (y: Argv<{}>) =>
    y
      .option('scenario', { type: 'string', choices: SCENARIO_NAMES, demandOption: true, describe: 'what to migrate and how' })
      .option('out', { type: 'string', demandOption: true, describe: 'output directory (src.log, dst.log, meta.json, ...)' })
      .option('qemu', { type: 'string', default: 'qemu-system-x86_64', describe: 'QEMU binary for both sides (inside the chroot with --chroot)' })
      .option('src-qemu', { type: 'string', describe: 'QEMU binary of the source (cross-version pairs)' })
      .option('dst-qemu', { type: 'string', describe: 'QEMU binary of the destination' })
      .option('chroot', { type: 'string', describe: 'run QEMU inside this chroot (capture/setup-chroot.sh --suite trixie|trixie-backports)' })
      .option('src-chroot', { type: 'string', describe: 'chroot of the source only ("" = host)' })
      .option('dst-chroot', { type: 'string', describe: 'chroot of the destination only ("" = host)' })
      .option('machine', { type: 'string', default: 'pc', describe: 'machine type, e.g. pc-i440fx-7.2' })
      .option('fault-after-ms', { type: 'number', describe: 'pause/kill this long after the destination resumed the guest in postcopy (default: pause 5, kill 0)' })
      .option('precopy-ms', { type: 'number', describe: 'precopy time before migrate-start-postcopy (default 2000)' })
      .option('repeat', { type: 'number', default: 1, describe: 'run N captures into <out>/<scenario>-<i>' })
      .option('check', { type: 'boolean', default: true, describe: 'run `migtrace check` on the result (--no-check to skip)' })
      .option('port', { type: 'number', describe: 'migration TCP port on 127.0.0.1 (default: a free one)' })
      .option('ws', { type: 'number', describe: 'guest working set in MiB (default 40, precopy 4)' })
      .option('mem', { type: 'number', describe: 'guest RAM in MiB (default 64)' })
      .option('timeout-s', { type: 'number', describe: 'longest wait for the migration to finish (default 60)' })
      .option('param', { type: 'string', array: true, describe: 'migrate-set-parameters on the source, name=value (repeatable)' })
      .option('qemu-arg', { type: 'string', array: true, requiresArg: true, describe: 'extra QEMU argument for both sides, as is (repeatable; e.g. --qemu-arg=-L --qemu-arg=/usr/share/qemu)' })
      .option('combined-log', { type: 'boolean', default: false, describe: "every QEMU's stderr, trace lines included, appended to one combined.log (no -D), as qtest and CI jobs produce" })
      .option('thread-files', {
        type: 'boolean',
        describe:
          'also capture a twin run with per-thread files (-d tid -D threads/t-%d.log on both QEMUs) into pt-<out>; default: when a side is QEMU >= 10.1, whose default log has no thread ids (--no-thread-files to skip)',
      })
      .option('threads-out', { type: 'string', describe: 'folder of the per-thread-file twin (default: pt-<name> beside --out)' })
      .option('simple-trace', {
        type: 'string',
        requiresArg: true,
        describe: "a QEMU built with --enable-trace-backends=log,simple: also record its binary trace (src.simple, dst.simple) and copy this file, the build's trace/trace-events-all, beside them",
      })
      .option('quiet', { type: 'boolean', default: false, describe: 'no progress lines' })
      .check((a) => {
        if (!Number.isInteger(a.repeat) || a.repeat < 1) throw new Error('--repeat must be a positive integer');
        parseParams(a.param);
        if (a['threads-out'] !== undefined && a.repeat > 1) throw new Error('--threads-out names one twin folder; with --repeat the twins go to <out>/pt-<scenario>-<i>');
        return true;
      }) as unknown as Argv<CaptureArgs>,
  handler: async (args) => {
    const ac = new AbortController();
    // Ctrl-C: stop waiting, quit/kill the QEMUs we started, keep what was captured.
    const onSignal = (sig: NodeJS.Signals): void => ac.abort(sig);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const log = args.quiet ? undefined : (l: string): void => void cliIo().stderr.write(`capture: ${l}\n`);
    let results: CaptureResult[];
    try {
      const twin = { threadFiles: threadFilesMode(args), ...(args['threads-out'] !== undefined ? { threadsOut: args['threads-out'] } : {}) };
      results = await runCaptureSet(toCaptureOptions(args, ac.signal, log), args.repeat, twin);
    } catch (e) {
      cliIo().stderr.write(`capture: ${(e as Error).message}\n`);
      setExitCode(CAPTURE_FAILED);
      return;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    for (const r of results) cliIo().stderr.write(`capture: ${summaryLine(r)}\n`);
    const failed = results.some((r) => !r.ok) || results.filter((r) => !r.threadFiles).length < args.repeat;
    const anyLogs = results.some((r) => r.logFiles.length > 0);
    let code = 0;
    // A failed capture's logs are still worth a look, but the exit code reports the failure.
    // With --repeat every run (twins included) is under --out; otherwise the twin is beside it.
    const dirs = args.repeat > 1 ? [args.out] : results.filter((r) => r.logFiles.length > 0).map((r) => r.outDir);
    if (args.check && anyLogs && !ac.signal.aborted) code = await runCheck(dirs);
    setExitCode(failed ? CAPTURE_FAILED : code);
  },
};
