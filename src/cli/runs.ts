// Turns command-line paths into runs:
//   - a folder with src.* and/or dst.* files (src.log, dst.simple, src.csv.gz …: the format is
//     told from the content) is one run; numbered ones (dst1.log, dst2.log: a source migrated
//     twice) are several processes of that side; one combined.* file holds both processes;
//   - a folder of per-thread log files (`-d tid -D name-%d`: names that differ only in the number)
//     is one run, each group of files one process, the TID taken from each file's name;
//   - a folder of such folders is many runs (walked in name order);
//   - files given together, and `-` for standard input, are one run.
import { readdir, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { perThreadGroups } from '../ingest/formats/per-thread.js';
import { STDIN } from '../ingest/trace-input.js';
import type { RunSpec } from '../replay/run.js';
import { UsageError } from './errors.js';

const SIDE_FILE = /^(src|dst)(\d*)(\.[\w.-]+)?$/;
const COMBINED_FILE = /^combined(\.[\w.-]+)?$/;
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist']);
/** Files in a run folder that are never traces (capture output beside the logs). */
const NOT_TRACES = /^(src|dst)(-serial\.log|-stderr\.txt)$|\.(json|jsonl|txt|md|patch)$/;

async function kind(path: string): Promise<'file' | 'dir' | null> {
  if (path === STDIN) return 'file';
  try {
    const s = await stat(path);
    return s.isDirectory() ? 'dir' : 'file';
  } catch {
    return null;
  }
}

/** The same run may be kept in several formats (src.log and src.simple): take one per side, the log first (it has thread ids). */
const PREFERENCE = [/\.log$/, /\.log\.gz$/, /\.(txt|trace|dat)$/, /./];
const rank = (f: string) => PREFERENCE.findIndex((re) => re.test(f));

/** The run folder's own inputs (and what was left out), or null when it is not a run folder. */
async function runInputs(dir: string, files: string[]): Promise<Pick<RunSpec, 'inputs' | 'notes'> | null> {
  const sides = files.filter((f) => SIDE_FILE.test(f) && !NOT_TRACES.test(f));
  if (sides.length) {
    const inputs: RunSpec['inputs'] = [];
    const notes: string[] = [];
    // One process per base name (src, dst, dst1, dst2 …); per base, one format.
    // Source first, then the destinations (dst, dst1, dst2 …), as the inputs are listed and merged.
    const bases = [...new Set(sides.map((f) => SIDE_FILE.exec(f)![1]! + SIDE_FILE.exec(f)![2]!))].sort((a, b) => (a.startsWith('src') ? 0 : 1) - (b.startsWith('src') ? 0 : 1) || a.localeCompare(b, 'en', { numeric: true }));
    for (const base of bases) {
      const mine = sides.filter((f) => SIDE_FILE.exec(f)![1]! + SIDE_FILE.exec(f)![2]! === base).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
      const side = base.startsWith('src') ? 'src' : 'dst';
      const numbered = bases.filter((b) => b.startsWith(side)).length > 1;
      // Numbered processes of one side (dst1, dst2) share that side: inferred together.
      inputs.push({ path: join(dir, mine[0]!), ...(numbered ? { group: join(dir, side) } : {}) });
      const who = base === 'src' ? 'the source' : base === 'dst' ? 'the destination' : base;
      if (mine.length > 1) notes.push(`${dir}: read ${mine[0]} for ${who}; also there, not read: ${mine.slice(1).join(', ')} (give files explicitly to choose)`);
    }
    return { inputs, notes };
  }
  const combined = files.filter((f) => COMBINED_FILE.test(f) && !NOT_TRACES.test(f)).sort((a, b) => rank(a) - rank(b));
  if (combined.length) {
    return { inputs: [{ path: join(dir, combined[0]!) }], notes: combined.length > 1 ? [`${dir}: read ${combined[0]}; also there, not read: ${combined.slice(1).join(', ')}`] : [] };
  }
  const groups = (await perThreadGroups(dir)).filter((g) => !g.files.some((f) => NOT_TRACES.test(basename(f.path))));
  if (groups.length) return { inputs: groups.flatMap((g) => g.files.map((f) => ({ path: f.path, tid: f.tid, group: join(dir, g.pattern) }))) };
  return null;
}

async function runsUnder(dir: string, root: string): Promise<RunSpec[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const found = await runInputs(dir, entries.filter((e) => e.isFile()).map((e) => e.name));
  if (found) return [{ name: relative(root, dir) ? join(basename(root), relative(root, dir)) : dir, ...found }];
  const out: RunSpec[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }))) {
    if (e.isDirectory() && !SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) out.push(...(await runsUnder(join(dir, e.name), root)));
  }
  return out;
}

export async function resolveRuns(paths: string[], src: string | undefined, dst: string | undefined, format?: string): Promise<RunSpec[]> {
  const runs: RunSpec[] = [];
  const files: RunSpec['inputs'] = [];
  for (const p of paths) {
    const k = await kind(p);
    if (k === null) throw new UsageError(`${p}: no such file or directory`);
    if (k === 'file') {
      files.push({ path: p });
      continue;
    }
    const found = await runsUnder(p, p);
    if (found.length === 0) throw new UsageError(`${p}: no runs found (a run is a folder with src.* and/or dst.* trace files, or per-thread log files name-<TID>; or give the trace files themselves)`);
    runs.push(...found);
  }
  for (const [path, side] of [[src, 'src'], [dst, 'dst']] as const) {
    if (path === undefined) continue;
    if ((await kind(path)) !== 'file') throw new UsageError(`--${side} ${path}: not a file`);
    files.push({ path, side });
  }
  if (files.length) runs.push({ name: files.map((f) => (f.path === STDIN ? '<stdin>' : f.path)).join(' + '), inputs: files });
  if (runs.length === 0) throw new UsageError('nothing to check: give a run folder or trace files');
  if (format) for (const r of runs) for (const i of r.inputs) i.format = format;
  return runs;
}
