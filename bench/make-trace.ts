// Builds a large, realistic log-format trace pair from the real runs of one QEMU version in
// traces/<version>/ (one binary, as a real long-lived process would be): every run's src.log and
// dst.log are appended again and again, each repetition shifted in time (after the
// previous one ends) and given fresh TIDs (+1 000 000 per repetition), so the result reads like one
// long-lived pair of QEMU processes migrating over and over: the real event mix, real thread
// structure, real race windows. Lines without a TID@ prefix are copied unchanged. With `iso`, the
// same trace as QEMU >= 10.1 writes it: `2027-01-15T08:00:00.123456Z name args` (UTC, the fraction
// left out on a whole second, as GLib's g_date_time_format_iso8601 does) and no TID.
import { createWriteStream, readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export interface MadeTrace {
  src: string;
  dst: string;
  bytes: number;
  lines: number;
  repetitions: number;
}

export function runsUnder(versionDir: string): string[] {
  return readdirSync(versionDir, { withFileTypes: true })
    .filter((r) => r.isDirectory() && existsSync(join(versionDir, r.name, 'src.log')) && existsSync(join(versionDir, r.name, 'dst.log')))
    .map((r) => join(versionDir, r.name))
    .sort();
}

const PREFIX = /^(\d+)@(\d+)\.(\d{6}):/;

/** Parses once: per run and side, lines split into [tid, µs, rest]. */
function load(path: string): Array<[number, number, string] | string> {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const m = PREFIX.exec(l);
      return m ? [Number(m[1]), Number(m[2]) * 1e6 + Number(m[3]), l.slice(m[0].length)] : l;
    });
}

/** µs since the epoch as QEMU >= 10.1 prefixes a log line (without the trailing space). */
export function isoPrefix(t: number): string {
  const us = t % 1e6;
  const whole = new Date((t - us) / 1000).toISOString().slice(0, 19);
  return us === 0 ? `${whole}Z` : `${whole}.${String(us).padStart(6, '0')}Z`;
}

async function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  if (!stream.write(text)) await new Promise((r) => stream.once('drain', r));
}

export interface MakeOptions {
  /** Write the ISO prefix of QEMU >= 10.1 (no TID) instead of TID@sec.usec:. */
  iso?: boolean;
}

/** `versionDir` is e.g. traces/10.0.13; `targetBytes` 0 means exactly one pass over its runs. */
export async function makeTrace(versionDir: string, outDir: string, targetBytes: number, opts: MakeOptions = {}): Promise<MadeTrace> {
  const runs = runsUnder(versionDir);
  if (runs.length === 0) throw new Error(`no runs under ${versionDir}`);
  return repeatRuns(runs, outDir, (rep, bytes) => (targetBytes === 0 ? rep < runs.length : bytes < targetBytes), opts);
}

/**
 * The old generation (MiB) a streamed `check` of 10,000 migrations must complete in, which keeping
 * every migration's report entry does not fit in. Not 64: the live heap reaches 61 MiB when a full
 * collection lands while the end builds the threads' summary (test/system/many-migrations.test.ts;
 * a bench run of 2026-12-05 ran out at 64 too). The bench and the system test use this one figure.
 */
export const MIGRATIONS_OLD_SPACE_MIB = 80;

/**
 * Many migrations in one trace: real runs (e.g. traces/10.0.13/a-precopy-1) repeated in turn,
 * `count` in all, as a long-lived source migrated over and over: what the report must not keep.
 */
export async function makeMigrations(runDirs: string | string[], outDir: string, count: number, opts: MakeOptions = {}): Promise<MadeTrace> {
  return repeatRuns(typeof runDirs === 'string' ? [runDirs] : runDirs, outDir, (rep) => rep < count, opts);
}

/** Appends the runs in turn, each shifted after the previous one with fresh TIDs, while `more` says so. */
async function repeatRuns(dirs: string[], outDir: string, more: (rep: number, bytes: number) => boolean, opts: MakeOptions): Promise<MadeTrace> {
  const runs = dirs.map((d) => ({ src: load(join(d, 'src.log')), dst: load(join(d, 'dst.log')) }));
  const out = { src: createWriteStream(join(outDir, 'src.log')), dst: createWriteStream(join(outDir, 'dst.log')) };
  let bytes = 0;
  let lines = 0;
  let rep = 0;
  let clock = 1_800_000_000 * 1e6; // µs; each repetition starts after the previous one ended
  while (more(rep, bytes)) {
    const run = runs[rep % runs.length]!;
    const t0 = Math.min(...[...run.src, ...run.dst].filter((x): x is [number, number, string] => typeof x !== 'string').map((x) => x[1]));
    let tEnd = clock;
    for (const side of ['src', 'dst'] as const) {
      let chunk = '';
      for (const x of run[side]) {
        if (typeof x === 'string') chunk += `${x}\n`;
        else {
          const t = clock + (x[1] - t0);
          tEnd = Math.max(tEnd, t);
          if (opts.iso) chunk += `${isoPrefix(t)} ${x[2]}\n`;
          else {
            const sec = Math.floor(t / 1e6);
            chunk += `${x[0] + (rep + 1) * 1_000_000}@${sec}.${String(t - sec * 1e6).padStart(6, '0')}:${x[2]}\n`;
          }
        }
        lines++;
        if (chunk.length > 1 << 20) {
          bytes += Buffer.byteLength(chunk);
          await write(out[side], chunk);
          chunk = '';
        }
      }
      bytes += Buffer.byteLength(chunk);
      await write(out[side], chunk);
    }
    clock = tEnd + 1e6;
    rep++;
  }
  await Promise.all([out.src, out.dst].map((s) => new Promise((r) => s.end(r))));
  return { src: join(outDir, 'src.log'), dst: join(outDir, 'dst.log'), bytes, lines, repetitions: rep };
}

/**
 * One long migration instead of many: the run's longest stretch of consecutive destination page
 * loads (`ram_load_postcopy_loop chan=0` on one thread) is repeated until the files reach
 * `targetBytes`, each copy shifted after the previous one, and every later line of either process
 * shifted by the time inserted. The result is one migration whose postcopy phase lasts as long as
 * the size demands: what memory must not grow with.
 */
export async function makeLongMigration(runDir: string, outDir: string, targetBytes: number): Promise<MadeTrace> {
  const src = load(join(runDir, 'src.log'));
  const dst = load(join(runDir, 'dst.log'));
  const isPage = (x: [number, number, string] | string): x is [number, number, string] => typeof x !== 'string' && x[2].startsWith('ram_load_postcopy_loop chan=0 ');
  let best = { from: 0, to: 0 };
  for (let i = 0; i < dst.length; ) {
    const x = dst[i]!;
    if (!isPage(x)) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < dst.length && isPage(dst[j]!) && (dst[j] as [number, number, string])[0] === x[0]) j++;
    if (j - i > best.to - best.from) best = { from: i, to: j };
    i = j;
  }
  if (best.to - best.from < 10) throw new Error(`${runDir}: no stretch of page loads to repeat`);
  const block = dst.slice(best.from, best.to) as Array<[number, number, string]>;
  const t0 = block[0]![1];
  const span = block[block.length - 1]![1] - t0 + 1;
  const tEnd = block[block.length - 1]![1];
  const text = (x: [number, number, string] | string, shift: number) => {
    if (typeof x === 'string') return `${x}\n`;
    const t = x[1] + shift;
    const sec = Math.floor(t / 1e6);
    return `${x[0]}@${sec}.${String(t - sec * 1e6).padStart(6, '0')}:${x[2]}\n`;
  };
  const base = [...src, ...dst].reduce((a, x) => a + (typeof x === 'string' ? x.length : x[2].length + 30), 0);
  const blockBytes = block.reduce((a, x) => a + text(x, 0).length, 0);
  const copies = Math.max(1, Math.ceil((targetBytes - base) / blockBytes));
  const shiftAfter = copies * span;
  const out = { src: createWriteStream(join(outDir, 'src.log')), dst: createWriteStream(join(outDir, 'dst.log')) };
  let bytes = 0;
  let lines = 0;
  const put = async (side: 'src' | 'dst', s: string) => {
    bytes += s.length;
    await write(out[side], s);
  };
  // The source: lines after the repeated stretch move by the inserted time.
  let chunk = '';
  for (const x of src) {
    chunk += text(x, typeof x !== 'string' && x[1] > tEnd ? shiftAfter : 0);
    lines++;
    if (chunk.length > 1 << 20) {
      await put('src', chunk);
      chunk = '';
    }
  }
  await put('src', chunk);
  chunk = '';
  for (let i = 0; i < dst.length; i++) {
    if (i === best.to) {
      for (let c = 1; c <= copies; c++) {
        for (const x of block) {
          chunk += text(x, c * span);
          lines++;
        }
        if (chunk.length > 1 << 20) {
          await put('dst', chunk);
          chunk = '';
        }
      }
    }
    const x = dst[i]!;
    chunk += text(x, i >= best.to && typeof x !== 'string' ? shiftAfter : 0);
    lines++;
    if (chunk.length > 1 << 20) {
      await put('dst', chunk);
      chunk = '';
    }
  }
  await put('dst', chunk);
  await Promise.all([out.src, out.dst].map((s) => new Promise((r) => s.end(r))));
  return { src: join(outDir, 'src.log'), dst: join(outDir, 'dst.log'), bytes, lines, repetitions: copies };
}
