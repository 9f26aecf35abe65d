// The QEMU processes of a capture: started from their plan, watched (an unexpected exit ends every
// wait at once), connected over QMP with a transcript, and what they said on stderr last.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { COMBINED_LOG, sideFiles } from './argv.js';
import type { SidePlan } from './plan.js';
import { spawnQemu } from './qemu.js';
import { QmpClient } from './qmp.js';
import { Transcript } from './record.js';
import type { CaptureSession } from './session.js';

/** Spawns one QEMU; a QEMU that exits while the scenario runs ends every wait at once. */
export async function startProcess(s: CaptureSession, plan: SidePlan): Promise<void> {
  s.rec.step('start', { side: plan.name, argv: plan.argv, ...(s.combined ? { stderr: COMBINED_LOG } : {}) });
  const proc = await spawnQemu(plan.side, plan.argv, s.stderrPathOf(plan));
  if (proc.spawnError) throw new Error(`${plan.name}: could not start ${plan.argv[0]}: ${proc.spawnError.message}`);
  s.live[plan.name] = { side: plan.side, name: plan.name, proc, qmp: null };
  s.sampler.add(plan.side, proc.pid, plan.chroot ? basename(plan.qemuCmd[0] ?? 'chroot') : null, plan.name);
  void proc.exit.then((info) => {
    if (s.expectExit || s.exitExpected.has(plan.name)) return;
    const tail = stderrTail(s.stderrPathOf(plan));
    s.failFast(new Error(`${plan.name} QEMU (pid ${proc.pid}) exited unexpectedly (${info.signal ?? `code ${info.code}`})${tail ? `: ${tail}` : ''}`));
  });
}

/** Connects to a started process's QMP socket; every message goes to qmp-<name>.jsonl. */
export async function connectQmp(s: CaptureSession, plan: SidePlan): Promise<void> {
  const transcript = new Transcript(join(s.outDir, `qmp-${plan.name}.jsonl`), plan.side);
  const l = s.live[plan.name]!;
  const ac = new AbortController();
  void l.proc.exit.then(() => ac.abort('QEMU exited'));
  l.qmp = await s.guard(
    QmpClient.connect(join(plan.hostDir, sideFiles(plan.name).qmp), {
      connectTimeoutMs: 15_000,
      defaultTimeoutMs: 10_000,
      signal: ac.signal,
      onMessage: (dir, msg, t) => transcript.write(dir, msg, t),
    }),
  );
  l.qmp.onEvent((ev) => s.qmpEvents[plan.name]!.push(ev));
}

/** The first destination, then the source (the destination waits for migrate-incoming), each
 *  connected over QMP; threads sampled from then on. */
export async function startFirstPair(s: CaptureSession): Promise<void> {
  const firstDst = s.dstNames[0]!;
  const pair = [s.plans[firstDst]!, s.plans['src']!];
  for (const plan of pair) await startProcess(s, plan);
  s.sampler.start(20);
  for (const plan of pair) await connectQmp(s, plan);
  s.rec.say(`started ${firstDst} pid ${s.live[firstDst]!.proc.pid}, src pid ${s.live['src']!.proc.pid}; migration port ${s.port}`);
}

/** A trace line, `TID@sec.usec:name` (<= 10.0) or `<ISO>Z name ` (>= 10.1), not an error message. */
const TRACE_LINE_PREFIX = /^(?:\d+@\d+\.\d{6}:|\d{4}-\d\d-\d\dT[\d:.]+Z [a-z_][a-z0-9_]*(?: |$))/;

/** The last QEMU messages of a stderr file (in a combined log: of any process), trace lines and
 *  the expected unknown-event warnings left out. */
export function stderrTail(path: string): string {
  try {
    const lines = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .filter((l) => !/warning: trace event .* does not exist/.test(l) && !TRACE_LINE_PREFIX.test(l));
    return lines.slice(-3).join(' | ').slice(0, 500);
  } catch {
    return '';
  }
}
