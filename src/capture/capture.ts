// One capture: start a destination and a source QEMU on loopback, drive them over QMP through the
// scenario (precopy, postcopy, preempt, compat, pause/kill + recovery, or migrate-twice: a
// cancelled attempt to dst1, then a fresh dst2), and write src.log, dst.log (dst1.log, dst2.log),
// or with --combined-log one combined.log of every QEMU's stderr, or with thread files one
// threads/t-<TID>.log per thread of every QEMU (`-d tid`), plus meta.json, events.txt,
// qmp-*.jsonl, *-serial.log and *-stderr.txt into the output directory, in the layout of the
// shared runs (traces/README.md). Every wait has a timeout; on failure what was seen is recorded,
// only the processes started here are stopped (by pid), the sockets and work directories are
// removed, and the result says what happened.
//
// The stages, in order: preflight (prepare.ts), the scenario script (scripts.ts, which starts the
// processes of processes.ts and waits through monitor.ts), teardown (teardown.ts), then the
// summaries and meta.json (outputs.ts, meta.ts). They share one CaptureSession (session.ts).
import { mkdirSync } from 'node:fs';
import { recordFailure } from './monitor.js';
import type { CaptureOptions, CaptureResult } from './options.js';
import { writeOutputs } from './outputs.js';
import { outDirTaken, preflight } from './prepare.js';
import { PreflightError } from './preflight.js';
import { runScenario } from './scripts.js';
import { CaptureSession, errText } from './session.js';
import { teardown } from './teardown.js';

export type { CaptureOptions, CaptureResult } from './options.js';

/** Runs one capture into opts.outDir. Never throws for a migration problem: see `ok`/`errors`. */
export async function runCapture(opts: CaptureOptions): Promise<CaptureResult> {
  const s = new CaptureSession(opts);
  if (outDirTaken(s)) return s.result;
  mkdirSync(s.outDir, { recursive: true });
  s.watchAbort();
  try {
    await preflight(s);
    await runScenario(s);
  } catch (e) {
    await recordError(s, e);
  }
  await teardown(s);
  await writeOutputs(s);
  return s.result;
}

/** The outcome and error of a capture that did not go the scenario's way; the post-mortem too,
 *  unless it never started. */
async function recordError(s: CaptureSession, e: unknown): Promise<void> {
  if (e instanceof PreflightError) {
    s.result.preflight = e.kind;
    s.outcome = `not run: ${e.message}`;
  } else {
    s.outcome = `failed: ${errText(e)}`;
  }
  s.rec.error(errText(e));
  if (!(e instanceof PreflightError)) await recordFailure(s, e);
}
