// The preflight stage of a capture: everything that can be checked and laid out before any QEMU
// starts (each side's QEMU and version, chroots, what the scenario needs, the port, the guest, the
// event set, the work directories and every process's argv). A problem is a PreflightError.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, posix, resolve } from 'node:path';
import { buildQemuArgv, EVENTS_FILE, sideFiles, THREAD_FILE_PATTERN, THREADS_DIR, TRACE_EVENTS_ALL } from './argv.js';
import { CHROOT_WORK, enterChroot } from './chroot.js';
import { deriveEventSet, readCatalogEvents } from './events.js';
import { ensureGuest } from './guest.js';
import { catalogPath } from './paths.js';
import type { SidePlan } from './plan.js';
import { checkPortFree, checkSocketPath, checkUserfaultfd, pickFreePort, PreflightError, resolveQemu } from './preflight.js';
import { formatVersion, parseQemuVersion, qemuVersion, versionAtLeast } from './qemu.js';
import { scenarioGlobals } from './scenarios.js';
import { DEFAULTS, errText, type CaptureSession } from './session.js';
import type { Side } from './types.js';

/** True (and the result says why) when the output directory already holds a capture. */
export function outDirTaken(s: CaptureSession): boolean {
  if (!existsSync(join(s.outDir, 'meta.json'))) return false;
  s.rec.error(`${s.outDir} already holds a capture (meta.json); choose a new --out`);
  s.result.outcome = 'not run: output directory already holds a capture';
  s.result.preflight = 'output';
  return true;
}

/** Every check and plan before the first QEMU starts, in this order. */
export async function preflight(s: CaptureSession): Promise<void> {
  checkRequest(s);
  await planSides(s);
  checkScenario(s);
  s.port = await choosePort(s.opts.port);
  const guest = await ensureGuest();
  s.guestPath = guest.path;
  s.guestBuilt = guest.built;
  if (guest.built) s.rec.note(`built the guest: ${guest.path}`);
  writeEventSet(s);
  planProcesses(s);
  if (s.combined) writeFileSync(s.combinedPath, '');
}

/** Options that exclude each other or name a missing file. */
function checkRequest(s: CaptureSession): void {
  if (s.combined && s.threadFiles) {
    throw new PreflightError('unsupported', 'per-thread files and --combined-log exclude each other: with -d tid every trace line goes to a thread file, none to stderr');
  }
  const simple = s.opts.simpleTrace;
  if (simple !== undefined) {
    if (!existsSync(simple)) throw new PreflightError('unsupported', `--simple-trace ${simple}: no such file (give the build's trace/trace-events-all)`);
    copyFileSync(simple, join(s.outDir, TRACE_EVENTS_ALL));
  }
}

/** Each side's QEMU command, chroot (entered once) and version; then one plan per process. */
async function planSides(s: CaptureSession): Promise<void> {
  for (const side of ['dst', 'src'] as const) {
    const chroot = sideChroot(s, side);
    const qemuCmd = resolveQemu((side === 'src' ? s.opts.srcQemu : s.opts.dstQemu) ?? s.opts.qemu ?? DEFAULTS.qemu, chroot);
    if (chroot && !s.chrootHandles.has(chroot)) {
      try {
        s.chrootHandles.set(chroot, await enterChroot(chroot));
      } catch (e) {
        throw new PreflightError('chroot', errText(e));
      }
    }
    const version = await qemuVersion(qemuCmd).catch((e: unknown) => {
      throw new PreflightError('qemu-missing', errText(e));
    });
    s.sidePlans[side] = { side, name: side, chroot, qemuCmd, version, parsed: parseQemuVersion(version), hostDir: '', qemuDir: '', globals: [], argv: [] };
    s.result.versions[side] = formatVersion(parseQemuVersion(version));
  }
  for (const name of s.procNames) s.plans[name] = { ...s.sidePlans[s.sideOf(name)]!, name };
  s.rec.say(`QEMU ${s.result.versions.src} (src) → ${s.result.versions.dst} (dst), scenario ${s.scenario.name}${s.combined ? ', one combined log' : ''}`);
}

function sideChroot(s: CaptureSession, side: Side): string | null {
  const v = side === 'src' ? (s.opts.srcChroot ?? s.opts.chroot) : (s.opts.dstChroot ?? s.opts.chroot);
  return v ? resolve(v) : null;
}

/** What the scenario needs of the QEMUs and the host. */
function checkScenario(s: CaptureSession): void {
  const { scenario, sidePlans, result } = s;
  if (scenario.compatPre72 && !versionAtLeast(sidePlans.src!.parsed, 8, 0) && !versionAtLeast(sidePlans.dst!.parsed, 8, 0)) {
    throw new PreflightError(
      'unsupported',
      `${scenario.name} needs QEMU >= 8.0 on at least one side: x-preempt-pre-7-2 does not exist in ${result.versions.src} ` +
        '(use --chroot with a Debian 13 QEMU: capture/setup-chroot.sh --suite trixie or --suite trixie-backports)',
    );
  }
  if (scenario.postcopy) {
    const uffd = checkUserfaultfd();
    if (!uffd.ok) throw new PreflightError('userfaultfd', `${uffd.reason}; postcopy scenarios need it (precopy does not)`);
  }
}

/** The port asked for, if it is free; otherwise any free one. */
async function choosePort(port: number | undefined): Promise<number> {
  if (port === undefined) return pickFreePort();
  await checkPortFree(port);
  return port;
}

/** The trace events to enable, from the catalog and the source's version, into events.txt. */
function writeEventSet(s: CaptureSession): void {
  const src = s.sidePlans.src!;
  s.eventSet = deriveEventSet({
    catalogEvents: readCatalogEvents(catalogPath()),
    srcVersion: src.parsed,
    rateLimitLoop: !versionAtLeast(src.parsed, 8, 0) && s.scenario.caps.includes('postcopy-preempt') && s.opts.params?.['max-postcopy-bandwidth'] !== undefined,
  });
  writeFileSync(join(s.outDir, EVENTS_FILE), s.eventSet.text);
}

/** Work directories (short paths, for the unix sockets; inside the chroot when there is one),
 *  one per root and shared by its processes; then each process's argv. */
function planProcesses(s: CaptureSession): void {
  const dirByRoot = new Map<string, { hostDir: string; qemuDir: string }>();
  const id = `${basename(s.outDir).replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 40)}-${process.pid}-${Date.now() % 100000}`;
  for (const name of s.procNames) {
    const plan = s.plans[name]!;
    const key = plan.chroot ?? '';
    let d = dirByRoot.get(key);
    if (!d) {
      d = makeWorkDir(s, plan.chroot, id);
      dirByRoot.set(key, d);
    }
    plan.hostDir = d.hostDir;
    plan.qemuDir = d.qemuDir;
    checkSocketPath(join(d.hostDir, sideFiles(name).qmp));
    plan.globals = scenarioGlobals(s.scenario, plan.parsed);
    plan.argv = processArgv(s, plan);
  }
}

/** A work directory with the guest and events.txt in it (and threads/ for per-thread files). */
function makeWorkDir(s: CaptureSession, chroot: string | null, id: string): { hostDir: string; qemuDir: string } {
  let d: { hostDir: string; qemuDir: string };
  if (chroot) {
    const qemuDir = posix.join(CHROOT_WORK, id);
    d = { hostDir: join(chroot, qemuDir), qemuDir };
    mkdirSync(d.hostDir, { recursive: true });
  } else {
    const hostDir = mkdtempSync(join(tmpdir(), 'migtrace-'));
    d = { hostDir, qemuDir: hostDir };
  }
  s.workDirs.add(d.hostDir);
  copyFileSync(s.guestPath, join(d.hostDir, 'dirtier.elf'));
  writeFileSync(join(d.hostDir, EVENTS_FILE), s.eventSet!.text);
  if (s.threadFiles) mkdirSync(join(d.hostDir, THREADS_DIR));
  return d;
}

function processArgv(s: CaptureSession, plan: SidePlan): string[] {
  return buildQemuArgv({
    side: plan.side,
    name: plan.name,
    qemu: plan.qemuCmd,
    workdir: plan.qemuDir,
    kernel: posix.join(plan.qemuDir, 'dirtier.elf'),
    wsMib: s.wsMib,
    memMib: s.memMib,
    machine: s.machine,
    globals: plan.globals,
    incoming: plan.side === 'dst',
    extra: s.opts.qemuArgs ?? [],
    combinedLog: s.combined,
    simpleTrace: s.opts.simpleTrace !== undefined,
    ...(s.threadFiles ? { threadFiles: posix.join(plan.qemuDir, THREADS_DIR, THREAD_FILE_PATTERN) } : {}),
  });
}
