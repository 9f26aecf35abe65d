// After teardown: summaries of the trace logs and serial consoles written, the guest memory
// verdict, the timings, and meta.json, which holds all a capture knew.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMBINED_LOG, sideFiles, THREADS_DIR } from './argv.js';
import { buildMeta } from './meta.js';
import type { CaptureSession } from './session.js';
import { guestVerdict, summarizeSerial, summarizeThreadFiles, summarizeTraceLog, type LogSummary, type SerialSummary } from './summary.js';

interface Summaries {
  logs: Record<string, LogSummary>;
  serial: Record<string, SerialSummary>;
}

/** Summaries, verdict and timings into the result; then meta.json. */
export async function writeOutputs(s: CaptureSession): Promise<void> {
  const sums: Summaries = { logs: {}, serial: {} };
  await summarizeProcesses(s, sums);
  if (s.threadFiles) await summarizeThreads(s, sums);
  if (s.combined) await summarizeCombined(s, sums);
  finishResult(s, sums.serial);
  writeFileSync(join(s.outDir, 'meta.json'), JSON.stringify(metaOf(s, sums), null, 1) + '\n');
  s.rec.say(`${s.result.outcome}; wrote ${s.outDir}`);
}

/** Each process's own trace log (unless combined) and serial console. */
async function summarizeProcesses(s: CaptureSession, { logs, serial }: Summaries): Promise<void> {
  for (const name of ['src', ...s.dstNames]) {
    if (!s.combined) {
      const ls = await summarizeTraceLog(join(s.outDir, sideFiles(name).log));
      if (ls) {
        logs[name] = ls;
        s.result.logFiles.push(sideFiles(name).log);
      }
      s.result.logLines[name] = ls?.lines ?? null;
    }
    const ss = summarizeSerial(join(s.outDir, sideFiles(name).serial));
    if (ss) serial[name] = ss;
  }
}

/** The per-thread files, each attributed to its process by the TIDs sampled from /proc. */
async function summarizeThreads(s: CaptureSession, { logs }: Summaries): Promise<void> {
  const threads = s.sampler.toJSON();
  const ts = await summarizeThreadFiles(join(s.outDir, THREADS_DIR), (tid) => {
    const t = threads[String(tid)];
    return t ? (t.process ?? t.side) : undefined;
  });
  if (ts && ts.files > 0) {
    logs[THREADS_DIR] = ts;
    s.result.logFiles.push(THREADS_DIR);
  }
  s.result.logLines[THREADS_DIR] = ts?.lines ?? null;
}

async function summarizeCombined(s: CaptureSession, { logs }: Summaries): Promise<void> {
  const ls = await summarizeTraceLog(s.combinedPath);
  if (ls) {
    // Which process wrote how many lines, by the TIDs sampled from /proc (a thread that lived
    // less than a sampling interval is not known): the truth to compare the analyzer's
    // per-thread side inference with.
    const procOf = new Map<string, string>();
    for (const [tid, t] of Object.entries(s.sampler.toJSON())) procOf.set(tid, t.process ?? t.side);
    const perProc: Record<string, number> = {};
    for (const [tid, n] of Object.entries(ls.lines_per_tid)) {
      const p = procOf.get(tid) ?? 'unknown';
      perProc[p] = (perProc[p] ?? 0) + n;
    }
    logs['combined'] = { ...ls, lines_per_process: perProc };
    s.result.logFiles.push(COMBINED_LOG);
  }
  s.result.logLines['combined'] = ls?.lines ?? null;
}

/** The guest verdict (did the memory survive the migration?), postcopy time, wall time, outcome. */
function finishResult(s: CaptureSession, serial: Record<string, SerialSummary>): void {
  const { result, timings } = s;
  const lastDst = s.lastDst();
  const finalStatus = result.status[lastDst] ?? result.status.dst;
  const migrated = finalStatus === 'completed' || (finalStatus ?? '').startsWith('postcopy');
  result.guest = s.live['src'] ? guestVerdict(serial['src'] ?? null, serial[lastDst] ?? null, migrated) : 'not run';
  if (result.ok && result.guest.startsWith('INCONSISTENT')) s.rec.note(`guest memory check: ${result.guest}`);
  const pa = timings['postcopy_active'] ?? null;
  const done = timings['src_completed'] ?? null;
  timings['postcopy_ms'] = pa != null && done != null ? Math.round((done - pa) * 1e6) / 1e3 : null;
  result.wallMs = Date.now() - s.wallStart;
  timings['wall_s'] = result.wallMs / 1000;
  result.outcome = s.outcome || 'unknown';
}

function metaOf(s: CaptureSession, { logs, serial }: Summaries): Record<string, unknown> {
  return buildMeta({
    outDir: s.outDir, opts: s.opts, scenario: s.opts.scenario, procNames: s.procNames, sidePlans: s.sidePlans, plans: s.plans,
    live: s.live, finals: s.finals, exitCodes: s.exitCodes, qmpEvents: s.qmpEvents, sampler: s.sampler, rec: s.rec,
    hangSnapshots: s.hangSnapshots, logs, serial, eventSet: s.eventSet, port: s.port, ports: s.ports, recoverPort: s.recoverPort,
    kills: s.kills, timings: s.timings, result: s.result, machine: s.machine, memMib: s.memMib, wsMib: s.wsMib,
    faultAfterMs: s.faultAfterMs, precopyMs: s.precopyMs, guestBuilt: s.guestBuilt, attempts: s.attempts,
    combinedLog: s.combined, threadFiles: s.threadFiles,
  });
}
