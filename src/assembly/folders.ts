// Turns command-line paths into runs:
//   - a folder whose files include traces is one run: every trace in it is read (any name, any
//     format: src.log, dst-a.log, dst-b.log, combined.log, job.log.gz …; the format is told from
//     the content), each file one process, or one thread for per-thread files (`-d tid -D t-%d.log`:
//     names that differ only in the number, the TID taken from each name). What is not read is
//     said: a file that is not a trace, the same process kept in another format (src.simple beside
//     src.log), per-thread files beside whole-process logs. Capture and CI records (meta.json,
//     QMP transcripts, guest consoles) are left out without a word;
//   - a folder of such folders is many runs (walked in name order), and so are folders inside a run;
//   - files given together, `--src`/`--dst` (each repeatable), and `-` for standard input are one run.
import { readdir, stat } from 'node:fs/promises';
import type { Dirent } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { tidFromFileName } from '../ingest/formats/per-thread.js';
import { detectFormat, InputError, STDIN } from '../ingest/trace-input.js';
import type { Side } from '../types.js';
import { formatRank, isNotTrace, isNumberedProcess, sideFromName, stemOf } from './names.js';
import { filesPerQemu, looksLikeQtestStream } from './qtest.js';
import type { RunSpec, RunSpecInput } from './types.js';

/** The command line's mistakes (a path that does not exist, nothing to check): exit 2. */
export class PathError extends Error {}

const SKIP_DIRS = new Set(['node_modules', '.git', 'dist']);

async function kind(path: string): Promise<'file' | 'dir' | null> {
  if (path === STDIN) return 'file';
  try {
    const s = await stat(path);
    return s.isDirectory() ? 'dir' : 'file';
  } catch {
    return null;
  }
}

/** Whether a folder's file is a trace, from its first bytes; a side or combined name keeps a file the head does not recognise (a CI log can open with pages of other output). */
async function sniff(path: string): Promise<string> {
  try {
    if (!('fallback' in (await detectFormat(path)))) return 'trace';
  } catch (e) {
    return e instanceof InputError ? e.message.replace(`${path}: `, '') : (e as Error).message;
  }
  if (sideFromName(path) || /^combined/i.test(basename(path))) return 'trace';
  return 'not a recognised trace in its first 64 KiB (give it as a file to have it read whole)';
}

/** Per-thread files: two or more whose names differ only in the number (dst1.log, dst2.log are processes, not threads). */
function perThreadFiles(paths: string[]): Map<string, RunSpecInput> {
  const byPattern = new Map<string, Array<{ path: string; tid: number }>>();
  for (const p of paths) {
    if (p === STDIN || isNumberedProcess(p)) continue;
    const t = tidFromFileName(p);
    if (!t) continue;
    const key = join(p, '..', t.pattern);
    byPattern.set(key, [...(byPattern.get(key) ?? []), { path: p, tid: t.tid }]);
  }
  const out = new Map<string, RunSpecInput>();
  for (const [pattern, files] of byPattern) {
    if (files.length < 2) continue;
    for (const f of files.sort((a, b) => a.tid - b.tid)) out.set(f.path, { path: f.path, tid: f.tid, group: pattern });
  }
  return out;
}

/** Source-named first, then the others, then destination-named, each in numeric name order (the order inputs are listed and merged). */
function inputOrder(a: string, b: string): number {
  const rank = (p: string) => ({ src: 0, dst: 2, none: 1 })[sideFromName(p) ?? 'none'];
  return rank(a) - rank(b) || a.localeCompare(b, 'en', { numeric: true });
}

/** A folder's inputs, or null when it holds no trace. */
async function folderRun(dir: string, names: string[]): Promise<Pick<RunSpec, 'inputs' | 'notes'> | null> {
  const notes: string[] = [];
  const traces: string[] = [];
  for (const name of names.filter((n) => !isNotTrace(n)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))) {
    const why = await sniff(join(dir, name));
    if (why === 'trace') traces.push(join(dir, name));
    else notes.push(`${join(dir, name)}: not read: ${why}`);
  }
  if (traces.length === 0) return null;
  const threads = perThreadFiles(traces);
  const processes = traces.filter((p) => !threads.has(p));
  if (processes.length && threads.size) {
    // Likely the same run twice (the default log and per-thread files of the same processes).
    const patterns = [...new Set([...threads.values()].map((t) => t.group!))];
    notes.push(`${patterns.join(', ')}: ${threads.size} per-thread files beside whole-process traces, not read (the same run in another form? check them on their own: migtrace check ${patterns.map((p) => p.replace('%d', '*')).join(' ')})`);
  }
  if (processes.length === 0) return { inputs: [...threads.values()], notes };
  // One process per name up to the first dot; per process, one format.
  const inputs: RunSpecInput[] = [];
  const stems = [...new Set(processes.sort(inputOrder).map(stemOf))];
  for (const stem of stems) {
    const mine = processes.filter((p) => stemOf(p) === stem).sort((a, b) => formatRank(a) - formatRank(b) || a.localeCompare(b));
    inputs.push({ path: mine[0]! });
    if (mine.length > 1) notes.push(`${dir}: read ${basename(mine[0]!)} for ${describeStem(stem)}; also there, not read: ${mine.slice(1).map((p) => basename(p)).join(', ')} (give files explicitly to choose)`);
  }
  return { inputs, notes };
}

function describeStem(stem: string): string {
  return stem === 'src' ? 'the source' : stem === 'dst' ? 'the destination' : stem;
}

async function runsUnder(dir: string, root: string): Promise<RunSpec[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const name = relative(root, dir) ? join(basename(root), relative(root, dir)) : dir;
  const suite = await suiteWithThreads(dir, entries);
  if (suite) return [{ name, ...suite }];
  const found = await folderRun(dir, entries.filter((e) => e.isFile()).map((e) => e.name));
  const out: RunSpec[] = [];
  if (found) out.push({ name, ...found });
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }))) {
    if (e.isDirectory() && !SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) out.push(...(await runsUnder(join(dir, e.name), root)));
  }
  return out;
}

/**
 * A test suite's log (TAP markers, QEMU start lines, no trace lines of its own) beside its QEMUs'
 * numbered files, in a folder of their own (`threads/t-%d.log`) or beside the log: one run, the
 * log naming the tests. The log's QEMU command lines say what a file is: with `-d tid` one thread
 * (%d its TID), without it one process (%d its PID; files read as whole-process traces).
 */
async function suiteWithThreads(dir: string, entries: Dirent[]): Promise<Pick<RunSpec, 'inputs' | 'qtestLog' | 'qtestFiles'> | null> {
  const files = entries.filter((e) => e.isFile() && !isNotTrace(e.name)).map((e) => join(dir, e.name));
  const sub = entries.filter((e) => e.isDirectory() && !SKIP_DIRS.has(e.name) && !e.name.startsWith('.'));
  const beside = perThreadFiles(files);
  const logs = files.filter((f) => !beside.has(f));
  if (logs.length !== 1 || !(await looksLikeQtestStream(logs[0]!))) return null;
  let numbered = beside;
  if (beside.size < 2) {
    if (sub.length !== 1) return null;
    const inner = join(dir, sub[0]!.name);
    numbered = perThreadFiles((await readdir(inner)).filter((n) => !isNotTrace(n)).map((n) => join(inner, n)));
  } else if (sub.length) return null;
  if (numbered.size < 2) return null;
  const log = logs[0]!;
  if ((await filesPerQemu(log)) === 'process') return { inputs: [...numbered.values()].map(({ path, group }) => ({ path, group })), qtestLog: log, qtestFiles: 'process' };
  return { inputs: [...numbered.values()], qtestLog: log, qtestFiles: 'thread' };
}

export interface NamedSides {
  src?: string[];
  dst?: string[];
}

export async function resolveRuns(paths: string[], named: NamedSides = {}, format?: string): Promise<RunSpec[]> {
  const runs: RunSpec[] = [];
  const files: string[] = [];
  for (const p of paths) {
    const k = await kind(p);
    if (k === null) throw new PathError(`${p}: no such file or directory`);
    if (k === 'file') {
      files.push(p);
      continue;
    }
    const found = await runsUnder(p, p);
    if (found.length === 0) throw new PathError(`${p}: no runs found (no trace files in it or in the folders under it: give trace files, a run folder, or a folder of run folders)`);
    runs.push(...found);
  }
  const threads = perThreadFiles(files);
  const inputs: RunSpecInput[] = files.map((path) => threads.get(path) ?? { path });
  for (const side of ['src', 'dst'] as const satisfies readonly Side[]) {
    for (const path of named[side] ?? []) {
      if ((await kind(path)) !== 'file') throw new PathError(`--${side} ${path}: not a file`);
      inputs.push({ path, side });
    }
  }
  if (inputs.length) runs.push({ name: inputs.map((f) => (f.path === STDIN ? '<stdin>' : f.path)).join(' + '), inputs });
  if (runs.length === 0) throw new PathError('nothing to check: give a run folder, trace files, or - for standard input');
  if (format) for (const r of runs) for (const i of r.inputs) i.format = format;
  return runs;
}
