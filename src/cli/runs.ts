// Turns command-line paths into runs: a folder with src.log/dst.log is one run; a folder of such
// folders is many (walked in name order); files given together are one run.
import { readdir, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import type { RunSpec } from '../replay/run.js';
import { UsageError } from './errors.js';

const RUN_FILES = ['src.log', 'dst.log'];
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist']);

async function kind(path: string): Promise<'file' | 'dir' | null> {
  try {
    const s = await stat(path);
    return s.isDirectory() ? 'dir' : 'file';
  } catch {
    return null;
  }
}

async function runDirsUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = new Set(entries.filter((e) => e.isFile()).map((e) => e.name));
  if (RUN_FILES.some((f) => names.has(f))) return [dir];
  const out: string[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }))) {
    if (e.isDirectory() && !SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) out.push(...(await runDirsUnder(join(dir, e.name))));
  }
  return out;
}

export async function resolveRuns(paths: string[], src: string | undefined, dst: string | undefined): Promise<RunSpec[]> {
  const runs: RunSpec[] = [];
  const files: Array<{ path: string; side?: 'src' | 'dst' }> = [];
  for (const p of paths) {
    const k = await kind(p);
    if (k === null) throw new UsageError(`${p}: no such file or directory`);
    if (k === 'file') {
      files.push({ path: p });
      continue;
    }
    const dirs = await runDirsUnder(p);
    if (dirs.length === 0) throw new UsageError(`${p}: no runs found (a run is a folder with src.log and/or dst.log, or give the trace files themselves)`);
    for (const d of dirs) {
      const inputs: RunSpec['inputs'] = [];
      for (const f of RUN_FILES) if ((await kind(join(d, f))) === 'file') inputs.push({ path: join(d, f) });
      runs.push({ name: relative(p, d) ? join(basename(p), relative(p, d)) : d, inputs });
    }
  }
  for (const [path, side] of [[src, 'src'], [dst, 'dst']] as const) {
    if (path === undefined) continue;
    if ((await kind(path)) !== 'file') throw new UsageError(`--${side} ${path}: not a file`);
    files.push({ path, side });
  }
  if (files.length) runs.push({ name: files.map((f) => f.path).join(' + '), inputs: files });
  if (runs.length === 0) throw new UsageError('nothing to check: give a run folder or trace files');
  return runs;
}
