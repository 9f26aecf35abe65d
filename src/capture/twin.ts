// Twin runs for QEMU >= 10.1. Its default log (`-msg timestamp=on -D side.log`) has an ISO
// timestamp and no thread id; thread ids come only from `-d tid -D dir/t-%d.log`, which switches
// every thread of the process to its own file. One process cannot write both (util/log.c keeps
// one log name, the last -D, and `tid` makes every thread open its own file), so the per-thread
// form is a second capture of the same scenario right after the first: its twin, in a sibling
// folder `pt-<name>` holding `threads/` with both processes' files, written with one pattern as a
// CI job would. Each meta.json names the other (`twin`, `twin_of`).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { runCapture, type CaptureOptions, type CaptureResult } from './capture.js';
import { parseQemuVersion, versionAtLeast } from './qemu.js';

/** `auto`: a twin when either side is QEMU >= 10.1; `on`: always (thread files exist from 7.1);
 *  `off`: never. */
export type ThreadFilesMode = 'auto' | 'on' | 'off';

/** The twin's folder: `pt-<name>` beside the run, unless given. */
export function twinDir(outDir: string, threadsOut?: string): string {
  return resolve(threadsOut ?? join(dirname(resolve(outDir)), `pt-${basename(resolve(outDir))}`));
}

/** Whether a default log of these versions lacks thread ids (QEMU >= 10.1, model §F.1). */
export function needsThreadFiles(versions: Record<string, string | null>): boolean {
  return Object.values(versions).some((v) => v !== null && versionAtLeast(parseQemuVersion(`version ${v}`), 10, 1));
}

export interface TwinOptions {
  threadFiles: ThreadFilesMode;
  /** The twin's folder (default `pt-<basename(outDir)>` beside it). */
  threadsOut?: string;
}

/**
 * One capture, then its per-thread-file twin when wanted and the first went as the scenario
 * intends (a twin of a failed migration shows nothing the first does not). Returns both results,
 * the first run's first.
 */
export async function runCaptureWithTwin(opts: CaptureOptions, twin: TwinOptions): Promise<CaptureResult[]> {
  const first = await runCapture(opts);
  const want = twin.threadFiles === 'on' || (twin.threadFiles === 'auto' && needsThreadFiles(first.versions));
  if (!want || opts.threadFiles) return [first];
  if (!first.ok) {
    opts.log?.(`no per-thread-file twin: the first capture did not go as the scenario intends (${first.outcome})`);
    return [first];
  }
  if (opts.signal?.aborted) return [first];
  const out = twinDir(opts.outDir, twin.threadsOut);
  opts.log?.(`QEMU ${first.versions.src} → ${first.versions.dst}: the same scenario again with per-thread files (-d tid), into ${out}`);
  const second = await runCapture({ ...opts, outDir: out, threadFiles: true, combinedLog: false, twinOf: relative(out, resolve(opts.outDir)) });
  // The first run's meta.json learns of its twin only now that the twin exists.
  const metaPath = join(first.outDir, 'meta.json');
  if (existsSync(join(out, 'meta.json')) && existsSync(metaPath)) {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as Record<string, unknown>;
    meta['twin'] = relative(first.outDir, out);
    writeFileSync(metaPath, JSON.stringify(meta, null, 1) + '\n');
  }
  return [first, second];
}

/** `--repeat N`: N captures (each with its twin) into <outDir>/<scenario>-1 … -N; stops early on
 *  abort or a preflight failure (the same check would fail every time). */
export async function runCaptureSet(opts: CaptureOptions, repeat: number, twin: TwinOptions): Promise<CaptureResult[]> {
  if (repeat <= 1) return runCaptureWithTwin(opts, twin);
  if (twin.threadsOut !== undefined) throw new Error('--threads-out names one twin folder; with --repeat the twins go to <out>/pt-<scenario>-<i>');
  const results: CaptureResult[] = [];
  for (let i = 1; i <= repeat; i++) {
    if (opts.signal?.aborted) break;
    const rs = await runCaptureWithTwin({ ...opts, outDir: join(opts.outDir, `${opts.scenario}-${i}`) }, twin);
    results.push(...rs);
    if (rs.some((r) => r.preflight)) break;
  }
  return results;
}
