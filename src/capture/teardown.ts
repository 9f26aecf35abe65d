// The teardown of a capture, after the scenario either way: each process's final state over QMP,
// quit, then stop (only the processes started here, by pid), the files collected into the output
// directory, the work directories (sockets included) removed and the chroots released.
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { sideFiles, THREADS_DIR } from './argv.js';
import { lastStatus, qmpStep } from './monitor.js';
import { QmpClosedError } from './qmp.js';
import { stopQemu } from './qemu.js';
import { errText, type CaptureSession } from './session.js';

export async function teardown(s: CaptureSession): Promise<void> {
  s.stopGuarding();
  s.pendingKill?.cancel();
  await finalQueries(s);
  recordStatuses(s);
  s.sampler.sample();
  s.expectExit = true;
  const quitAnswered = await quitAll(s);
  s.sampler.stop();
  await stopAll(s, quitAnswered);
  s.unwatchAbort();
  collectFiles(s);
  for (const d of s.workDirs) rmSync(d, { recursive: true, force: true });
  for (const h of s.chrootHandles.values()) {
    for (const p of await h.release()) s.rec.error(p);
  }
}

/** query-migrate, query-status and the parameters of every process still answering. */
async function finalQueries(s: CaptureSession): Promise<void> {
  if (s.opts.signal?.aborted === true) return;
  for (const name of ['src', ...s.dstNames]) {
    const l = s.live[name];
    if (!l?.qmp || l.qmp.closed || l.proc.exitInfo) continue;
    for (const [cmd, key] of [
      ['query-migrate', 'query_migrate'],
      ['query-status', 'query_status'],
      ['query-migrate-parameters', 'parameters'],
    ] as const) {
      s.finals[`${name}_${key}`] = await qmpStep(s, name, cmd, undefined, 3000).catch((e: unknown) => ({ error: errText(e) }));
    }
  }
}

/** Each process's final migration status: its query-migrate, else its last MIGRATION event. */
function recordStatuses(s: CaptureSession): void {
  for (const name of s.procNames) {
    if (s.live[name]) s.result.status[name] = statusOf(s.finals[`${name}_query_migrate`]) ?? lastStatus(s, name);
  }
  s.result.status.dst = s.result.status[s.lastDst()] ?? null;
}

function statusOf(v: unknown): string | null {
  return typeof v === 'object' && v !== null && typeof (v as { status?: unknown }).status === 'string' ? (v as { status: string }).status : null;
}

/** QMP quit to every process still connected; the names of those that answered (or closed). */
async function quitAll(s: CaptureSession): Promise<Set<string>> {
  const quitAnswered = new Set<string>();
  for (const name of ['src', ...s.dstNames]) {
    const l = s.live[name];
    if (!l?.qmp || l.qmp.closed || l.proc.exitInfo) continue;
    await qmpStep(s, name, 'quit', undefined, 3000).then(
      () => quitAnswered.add(name),
      (e: unknown) => {
        if (e instanceof QmpClosedError) quitAnswered.add(name);
        else s.rec.note(`${name}: quit: ${errText(e)}`);
      },
    );
  }
  return quitAnswered;
}

async function stopAll(s: CaptureSession, quitAnswered: Set<string>): Promise<void> {
  for (const name of ['src', ...s.dstNames]) {
    const l = s.live[name];
    if (!l) continue;
    // A QEMU that did not even answer quit (a dst blocked in a socket read) will not exit on
    // its own: do not wait long for it.
    const { exit, how } = await stopQemu(l.proc, quitAnswered.has(name) ? 5000 : 500);
    s.exitCodes[name] = { ...exit, how };
    if (how !== 'exited') s.rec.note(`${name}: QEMU pid ${l.proc.pid} did not exit after quit; stopped with ${how}`);
    l.qmp?.close();
  }
}

/** Each process's files from its work directory into the output directory. */
function collectFiles(s: CaptureSession): void {
  const simple = s.opts.simpleTrace !== undefined;
  for (const name of s.procNames) {
    const plan = s.plans[name];
    if (!plan?.hostDir) continue;
    const f = sideFiles(name);
    for (const file of [...(s.combined ? [f.serial] : [f.log, f.serial, f.stderr]), ...(simple ? [f.simple] : [])]) {
      const from = join(plan.hostDir, file);
      if (existsSync(from)) copyFileSync(from, join(s.outDir, file));
    }
  }
  if (s.threadFiles) collectThreadFiles(s);
}

/** Every process's thread files, into one folder as with one pattern (TIDs are unique on a host). */
function collectThreadFiles(s: CaptureSession): void {
  for (const hostDir of new Set(s.procNames.map((n) => s.plans[n]?.hostDir).filter((d): d is string => !!d))) {
    const from = join(hostDir, THREADS_DIR);
    if (!existsSync(from)) continue;
    mkdirSync(join(s.outDir, THREADS_DIR), { recursive: true });
    for (const file of readdirSync(from)) copyFileSync(join(from, file), join(s.outDir, THREADS_DIR, file));
  }
}
