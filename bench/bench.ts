// npm run bench [-- --size 1024 --rounds 3]: builds a large trace (MiB given by --size, default
// 1024) from the QEMU 10.0.13 runs in traces/ (bench/make-trace.ts says how), then measures on the same files, in one script, alternating the passes:
//   (a) a bare newline scan (the I/O floor),
//   (b) readline + one anchored regex per line (a minimal line parser),
//   (c) migtrace check end to end (both files, merged, the whole model and every rule).
// Each pass runs in a fresh child process (so (c)'s peak RSS is its own); medians of --rounds.
// Printed: MiB/s and events/s per pass, the ratio (c)/(b), and (c)'s peak RSS; then (c) on gzip and
// ftrace forms of a slice (an eighth of the size) against (b) on the slice's log, and `check` of
// four runs on one worker thread against one per core (and, as the machine's ceiling for that,
// the same runs in one process against one process per core). With --long, also one single migration
// stretched to a quarter of the size and to all of it (bench/make-trace.ts makeLongMigration).
// The ISO variant: the same trace written as QEMU >= 10.1 writes it (ISO prefix, no TIDs), (b) with
// the ISO form's regex against (c), rounds interleaved; `--iso-only` measures just that.
// The simple variant: a binary pair of --simple-size MiB (default 256) built from the real .simple
// files (bench/make-simple.ts), QEMU's simpletrace.py against (c), rounds interleaved. babeltrace2
// is noted where installed (no LTTng trace to time here). `--simple-only`, `--other-only` (gzip,
// ftrace) and `--batch-only` measure just that part.
// Many migrations: one real run (10.0.13 a-precopy-1) repeated --migrations times (default 10000)
// in one trace, `check -f text|json|sarif` end to end, report included, against a tenth of them:
// peak RSS must stay <= 256 MiB; and -f json with V8's old generation capped at 64 MiB completes.
// `--migrations-only` measures just that.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeLongMigration, makeMigrations, makeTrace, MIGRATIONS_OLD_SPACE_MIB } from './make-trace.js';
import { makeSimpleTrace } from './make-simple.js';
import { ftraceFile, gzipFile } from './variants.js';
import { V8_STARTUP_FLAGS } from '../src/cli/heap.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PASS = fileURLToPath(new URL('./run-pass.js', import.meta.url));

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} takes a positive number`);
  return v;
}

interface PassResult {
  ms: number;
  /** CPU time of the pass's child processes (simpletrace.py); null off Linux. */
  childCpuMs?: number | null;
  /** CPU time of all the pass's threads, and of its main (replay) thread alone (null off Linux). */
  cpuMs: number;
  mainCpuMs: number | null;
  /** Each thread's CPU time, busiest first ([] off Linux). */
  threadsCpuMs?: number[];
  lines: number;
  events: number;
  maxRssKiB: number;
  /** The `cli` pass: the report's size in bytes. */
  reportBytes?: number;
}

function runPass(kind: string, files: string[]): PassResult {
  return runPassArgs([kind, ...files]);
}

/** Passes that run migtrace: node starts with the flags its bin's `#!` line gives (src/cli/heap.ts). */
const MIGTRACE_PASSES = new Set(['migtrace', 'cli', 'batch']);

function runPassArgs(args: string[]): PassResult {
  // Node's own flags (--max-old-space-size=N) go before the script.
  const rest = args.filter((a) => !a.startsWith('--'));
  const flags = [...(MIGTRACE_PASSES.has(rest[0] ?? '') ? V8_STARTUP_FLAGS : []), ...args.filter((a) => a.startsWith('--'))];
  const r = spawnSync(process.execPath, [...flags, PASS, ...rest], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`pass ${args[0]} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as PassResult;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** Medians of `rounds` alternating runs of each pass (`all`: every round's result, in order). */
function measure(passes: Record<string, string[]>, rounds: number): Record<string, { ms: number; events: number; rss: number; all: PassResult[] }> {
  const all: Record<string, PassResult[]> = Object.fromEntries(Object.keys(passes).map((k) => [k, []]));
  for (let i = 0; i < rounds; i++) {
    for (const [k, args] of Object.entries(passes)) {
      const r = runPassArgs(args);
      all[k]!.push(r);
      process.stderr.write(`  round ${i + 1} ${k}: ${(r.ms / 1000).toFixed(2)} s\n`);
    }
  }
  return Object.fromEntries(Object.entries(all).map(([k, rs]) => [k, { ms: median(rs.map((r) => r.ms)), events: rs[0]!.events, rss: Math.max(...rs.map((r) => r.maxRssKiB)) / 1024, all: rs }]));
}

/** The same trace with the ISO prefix of QEMU >= 10.1 and no TIDs: (b) with its regex against (c). */
async function isoVariant(dir: string, sizeMiB: number, rounds: number): Promise<string[]> {
  const d = join(dir, 'iso');
  mkdirSync(d);
  process.stderr.write(`building the ${sizeMiB} MiB trace with the ISO prefix (no TIDs) in ${d} ...\n`);
  const made = await makeTrace(join(ROOT, 'traces/10.0.13'), d, sizeMiB * 1048576, { iso: true });
  const files = [made.src, made.dst];
  const mib = files.reduce((a, f) => a + statSync(f).size, 0) / 1048576;
  const r = measure({ 'readline-regex-iso': ['readline-regex-iso', ...files], migtrace: ['migtrace', ...files] }, rounds);
  const b = r['readline-regex-iso']!;
  const c = r.migtrace!;
  // Each round's (b) and (c) ran one after the other: their ratio is the steadiest on a busy machine.
  const perRound = b.all.map((x, i) => x.ms / c.all[i]!.ms);
  const rss = c.all.map((x) => (x.maxRssKiB / 1024).toFixed(0));
  // CPU time does not depend on what else the machine runs; (c) spreads its over two threads.
  const cpu = (x: PassResult) => (x.cpuMs / 1000).toFixed(1);
  const cpuRows = b.all.map((x, i) => `${cpu(x)}/${cpu(c.all[i]!)}${c.all[i]!.mainCpuMs === null ? '' : ` (${(c.all[i]!.mainCpuMs! / 1000).toFixed(1)})`}`);
  rmSync(d, { recursive: true, force: true });
  return [
    `ISO prefix, no TIDs (QEMU >= 10.1): ${mib.toFixed(0)} MiB, ${made.lines} lines, ${made.repetitions} migrations, ${rounds} rounds, median`,
    `(b) readline + regex (ISO)  ${(mib / (b.ms / 1000)).toFixed(0).padStart(6)} MiB/s  ${(b.events / (b.ms / 1000) / 1e6).toFixed(2)} M lines/s`,
    `(c) migtrace check          ${(mib / (c.ms / 1000)).toFixed(0).padStart(6)} MiB/s  ${(c.events / (c.ms / 1000) / 1e6).toFixed(2)} M events/s  peak RSS ${c.rss.toFixed(0)} MiB`,
    `ratio (c)/(b) throughput    ${(b.ms / c.ms).toFixed(2)}   (target >= 0.80; per round ${perRound.map((x) => x.toFixed(2)).join(' ')}, their median ${median(perRound).toFixed(2)})`,
    `peak RSS of (c)             ${c.rss.toFixed(0)} MiB (target <= 256 MiB; per round ${rss.join(' ')})`,
    `CPU s (b)/(c) (replay thread) per round: ${cpuRows.join('  ')}`,
  ];
}

/** The self-built QEMU 10.0.13 run with .simple traces of both processes. */
const SIMPLE_RUN = 'traces/10.0.13-selfbuilt/c-postcopy-preempt-compat-simple-1';

/**
 * QEMU's scripts/simpletrace.py: --simpletrace PATH, else a QEMU source tree under /usr/src or in
 * a capture chroot (capture/setup-chroot.sh puts the Debian source there). The script and its
 * tracetool package are copied to `dir`, so the host's python3 runs them; null when none is found.
 */
function findSimpletrace(dir: string): string | null {
  const i = process.argv.indexOf('--simpletrace');
  const roots = ['/usr/src', ...(existsSync('/var/lib/migtrace') ? readdirSync('/var/lib/migtrace').map((c) => join('/var/lib/migtrace', c, 'usr/src')) : [])];
  const candidates = i >= 0 ? [process.argv[i + 1]!] : roots.flatMap((r) => qemuTrees(r).map((t) => join(t, 'scripts/simpletrace.py')));
  const found = candidates.find((c) => existsSync(c) && existsSync(join(c, '../tracetool')));
  if (!found) return null;
  const to = join(dir, 'simpletrace');
  mkdirSync(to);
  cpSync(found, join(to, 'simpletrace.py'));
  cpSync(join(found, '../tracetool'), join(to, 'tracetool'), { recursive: true });
  process.stderr.write(`simpletrace.py from ${found}\n`);
  return join(to, 'simpletrace.py');
}

/** QEMU source trees directly under r or one level down (/usr/src/qemu/qemu-10.0.13+ds). */
function qemuTrees(r: string): string[] {
  if (!existsSync(r)) return [];
  const out: string[] = [];
  for (const e of readdirSync(r, { withFileTypes: true })) {
    if (!e.isDirectory() || !e.name.startsWith('qemu')) continue;
    out.push(join(r, e.name));
    for (const f of readdirSync(join(r, e.name), { withFileTypes: true })) if (f.isDirectory() && f.name.startsWith('qemu')) out.push(join(r, e.name, f.name));
  }
  return out;
}

/**
 * The binary simple backend: a pair built from the real .simple files (bench/make-simple.ts),
 * QEMU's simpletrace.py printing each file against migtrace check of the pair, rounds interleaved.
 */
async function simpleVariant(dir: string, sizeMiB: number, rounds: number): Promise<string[]> {
  const d = join(dir, 'simple');
  mkdirSync(d);
  process.stderr.write(`building a ${sizeMiB} MiB simple trace pair from ${SIMPLE_RUN} in ${d} ...\n`);
  const made = await makeSimpleTrace(join(ROOT, SIMPLE_RUN), d, sizeMiB * 1048576);
  const files = [made.src, made.dst];
  const mib = files.reduce((a, f) => a + statSync(f).size, 0) / 1048576;
  const head = `simple binary: ${mib.toFixed(0)} MiB (src.simple + dst.simple), ${made.events} events, ${made.mappings} mapping records, ${made.repetitions} migrations, ${rounds} rounds, median`;
  const script = findSimpletrace(dir);
  const passes: Record<string, string[]> = { migtrace: ['migtrace', ...files] };
  if (script) passes.simpletrace = ['simpletrace', script, join(d, 'trace-events-all'), ...files];
  const r = measure(passes, rounds);
  const c = r.migtrace!;
  const out = [head, `(c) migtrace check          ${(mib / (c.ms / 1000)).toFixed(0).padStart(6)} MiB/s  ${(c.events / (c.ms / 1000) / 1e6).toFixed(2)} M events/s  peak RSS ${c.rss.toFixed(0)} MiB (target <= 256 MiB; per round ${c.all.map((x) => (x.maxRssKiB / 1024).toFixed(0)).join(' ')})`];
  if (!script) out.push('simpletrace.py: no QEMU source tree found (give --simpletrace PATH/scripts/simpletrace.py): no peer figure');
  else {
    const p = r.simpletrace!;
    const perRound = p.all.map((x, i) => x.ms / c.all[i]!.ms);
    const cpu = (ms: number | null | undefined) => (ms == null ? '?' : (ms / 1000).toFixed(1));
    out.push(
      `(p) simpletrace.py (QEMU)   ${(mib / (p.ms / 1000)).toFixed(0).padStart(6)} MiB/s  ${(c.events / (p.ms / 1000) / 1e6).toFixed(2)} M events/s  (python3, output discarded)`,
      `ratio (c)/(p) throughput    ${(p.ms / c.ms).toFixed(2)}   (target >= 6; per round ${perRound.map((x) => x.toFixed(2)).join(' ')}, their median ${median(perRound).toFixed(2)})`,
      `CPU s (p)/(c) per round: ${p.all.map((x, i) => `${cpu(x.childCpuMs)}/${cpu(c.all[i]!.cpuMs)}`).join('  ')}`,
    );
  }
  rmSync(d, { recursive: true, force: true });
  return out;
}

/** babeltrace2's text output rate on this machine, where it is installed (LTTng traces have no writer here). */
function babeltraceNote(): string {
  const r = spawnSync('babeltrace2', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? `babeltrace2 ${r.stdout.split('\n')[0]}: installed, but the bench has no LTTng trace to time it on (no CTF writer here): no peer figure` : 'babeltrace2: not installed: no peer figure for the babeltrace text format';
}

/** --long: one migration whose postcopy phase fills a quarter of the size, then all of it: peak RSS must not follow. */
async function longMigration(dir: string, sizeMiB: number, rounds: number): Promise<string[]> {
  const out: string[] = [];
  for (const mib of [Math.max(16, Math.round(sizeMiB / 4)), sizeMiB]) {
    const d = join(dir, `long-${mib}`);
    mkdirSync(d);
    process.stderr.write(`building one ${mib} MiB migration ...\n`);
    const made = await makeLongMigration(join(ROOT, 'traces/10.0.13/c-postcopy-preempt-1'), d, mib * 1048576);
    const r = measure({ 'readline-regex': ['readline-regex', made.src, made.dst], migtrace: ['migtrace', made.src, made.dst] }, rounds);
    const c = r.migtrace!;
    out.push(`one long migration, ${mib} MiB (${made.lines} lines): ${(c.events / (c.ms / 1000) / 1e6).toFixed(2)} M events/s, ratio to (b) ${(r['readline-regex']!.ms / c.ms).toFixed(2)}, peak RSS ${c.rss.toFixed(0)} MiB`);
    rmSync(d, { recursive: true, force: true });
  }
  return out;
}

/** The run repeated for --migrations: a whole real precopy migration of 10.0.13, 16 KB of trace. */
const MIGRATION_RUN = 'traces/10.0.13/a-precopy-1';
const MIGRATIONS_RSS_LIMIT_MIB = 256;

/**
 * `check -f text|json|sarif` of one trace holding `count` migrations, against the same with a tenth
 * of them (the baseline), rounds interleaved; then `-f json` with V8's old generation capped at
 * MIGRATIONS_OLD_SPACE_MIB, which keeping every migration's entry does not fit in. Each pass is a fresh process
 * writing the report to a sink that counts its bytes.
 */
async function manyMigrations(dir: string, count: number, rounds: number): Promise<string[]> {
  const made: Record<string, { src: string; dst: string; mib: number }> = {};
  const tenth = Math.max(1, Math.round(count / 10));
  for (const n of [tenth, count]) {
    const d = join(dir, `migrations-${n}`);
    mkdirSync(d);
    process.stderr.write(`building a trace of ${n} migrations (${MIGRATION_RUN} repeated) ...\n`);
    const m = await makeMigrations(join(ROOT, MIGRATION_RUN), d, n);
    made[n] = { src: m.src, dst: m.dst, mib: (statSync(m.src).size + statSync(m.dst).size) / 1048576 };
  }
  const passes: Record<string, string[]> = {};
  for (const f of ['text', 'json', 'sarif']) for (const n of [tenth, count]) passes[`${f} ${n}`] = ['cli', f, made[n]!.src, made[n]!.dst];
  passes.capped = [`--max-old-space-size=${MIGRATIONS_OLD_SPACE_MIB}`, 'cli', 'json', made[count]!.src, made[count]!.dst];
  const r = measure(passes, rounds);
  const out = [`many migrations in one trace (${MIGRATION_RUN} repeated): ${count} (${made[count]!.mib.toFixed(0)} MiB) against ${tenth} (${made[tenth]!.mib.toFixed(0)} MiB), check -f FORMAT end to end with its report, ${rounds} rounds, peak RSS the highest`];
  for (const f of ['text', 'json', 'sarif']) {
    const a = r[`${f} ${tenth}`]!;
    const b = r[`${f} ${count}`]!;
    out.push(
      `  -f ${f.padEnd(5)} ${count}: peak RSS ${b.rss.toFixed(0).padStart(4)} MiB (limit <= ${MIGRATIONS_RSS_LIMIT_MIB} MiB: ${b.rss <= MIGRATIONS_RSS_LIMIT_MIB ? 'met' : 'NOT MET'}; per round ${b.all.map((x) => (x.maxRssKiB / 1024).toFixed(0)).join(' ')}), ${(b.ms / 1000).toFixed(1)} s, report ${((b.all[0]!.reportBytes ?? 0) / 1048576).toFixed(1)} MiB;` +
        ` ${tenth}: ${a.rss.toFixed(0)} MiB`,
    );
  }
  const c = r.capped!;
  out.push(`  -f json  ${count} with V8's old generation capped at ${MIGRATIONS_OLD_SPACE_MIB} MiB: completed, peak RSS ${c.rss.toFixed(0)} MiB, ${(c.ms / 1000).toFixed(1)} s (keeping every migration's entry does not fit: it ran out of heap)`);
  for (const n of [tenth, count]) rmSync(join(dir, `migrations-${n}`), { recursive: true, force: true });
  return out;
}

/** gzip and ftrace input (bench/variants.ts) on a slice of an eighth of the size, against (b) on the slice's log. */
async function otherInputs(dir: string, sizeMiB: number, rounds: number): Promise<string[]> {
  const sliceMiB = Math.max(16, Math.round(sizeMiB / 8));
  const d = join(dir, 'slice');
  mkdirSync(d);
  process.stderr.write(`building a ${sliceMiB} MiB slice and its gzip and ftrace forms ...\n`);
  const made = await makeTrace(join(ROOT, 'traces/10.0.13'), d, sliceMiB * 1048576);
  const log = [made.src, made.dst];
  await Promise.all(log.map((f) => gzipFile(f, `${f}.gz`)));
  await ftraceFile(made.src, join(d, 'src.ftrace'), 1000);
  await ftraceFile(made.dst, join(d, 'dst.ftrace'), 2000);
  const r = measure(
    {
      'readline-regex': ['readline-regex', ...log],
      log: ['migtrace', ...log],
      gzip: ['migtrace', ...log.map((f) => `${f}.gz`)],
      ftrace: ['migtrace', join(d, 'src.ftrace'), join(d, 'dst.ftrace')],
    },
    rounds,
  );
  const b = r['readline-regex']!;
  // CPU seconds beside wall time: on a busy machine they are the steadier figure.
  const cpu = (k: string) => (median(r[k]!.all.map((x) => x.cpuMs)) / 1000).toFixed(2);
  const row = (k: string) => `  ${k.padEnd(8)} ${(r[k]!.events / (r[k]!.ms / 1000) / 1e6).toFixed(2)} M events/s  ratio to (b) ${(b.ms / r[k]!.ms).toFixed(2)}  peak RSS ${r[k]!.rss.toFixed(0)} MiB  CPU s ${cpu(k)}`;
  return [`other inputs, ${sliceMiB} MiB slice (${made.lines} lines); (b) on its log: ${(b.events / (b.ms / 1000) / 1e6).toFixed(2)} M lines/s, CPU s ${cpu('readline-regex')}`, row('log'), row('gzip'), row('ftrace')];
}

/** \`check DIR...\` over four runs on one worker thread, then on one per core. */
async function batchScaling(dir: string, sizeMiB: number, rounds: number): Promise<string[]> {
  const runMiB = Math.max(8, Math.round(sizeMiB / 32));
  const dirs: string[] = [];
  for (let i = 0; i < 4; i++) {
    const d = join(dir, `run${i}`);
    mkdirSync(d);
    await makeTrace(join(ROOT, 'traces/10.0.13'), d, runMiB * 1048576);
    dirs.push(d);
  }
  const cores = availableParallelism();
  // Beside it, in the same rounds, the machine's ceiling for this work: the runs split over as many
  // separate processes as cores, against one process doing them all (start-up counted in both).
  const r = measure({ 'jobs 1': ['batch', '1', ...dirs], [`jobs ${cores}`]: ['batch', String(cores), ...dirs], 'processes 1': ['processes', '1', ...dirs], [`processes ${cores}`]: ['processes', String(cores), ...dirs] }, rounds);
  const one = r['jobs 1']!;
  const many = r[`jobs ${cores}`]!;
  const p1 = r['processes 1']!;
  const pn = r[`processes ${cores}`]!;
  const perRoundProcs = p1.all.map((x, i) => x.ms / pn.all[i]!.ms);
  // What an idle machine would take: the busiest thread, or all CPU time spread over the cores if
  // that is longer (V8's collector and compiler threads run beside the analysing ones).
  const idle = (x: PassResult) => Math.max(x.threadsCpuMs?.[0] ?? 0, x.cpuMs / cores);
  const perRound = one.all.map((x, i) => idle(x) / idle(many.all[i]!));
  const cpu = (x: PassResult) => `${(x.cpuMs / 1000).toFixed(2)} (busiest thread ${((x.threadsCpuMs?.[0] ?? NaN) / 1000).toFixed(2)})`;
  return [
    `batch: check of 4 runs x ${runMiB} MiB: 1 job ${(one.ms / 1000).toFixed(2)} s, ${cores} jobs ${(many.ms / 1000).toFixed(2)} s, speed-up ${(one.ms / many.ms).toFixed(2)} on ${cores} cores (wall, median)`,
    `batch CPU s per round, 1 job / ${cores} jobs: ${one.all.map((x, i) => `${cpu(x)} / ${cpu(many.all[i]!)}`).join('  ')}`,
    `batch speed-up from CPU times (max(busiest thread, CPU / cores)) per round: ${perRound.map((x) => x.toFixed(2)).join(' ')}, median ${median(perRound).toFixed(2)}`,
    `ceiling, the same runs in ${cores} separate processes: 1 process ${(p1.ms / 1000).toFixed(2)} s, ${cores} processes ${(pn.ms / 1000).toFixed(2)} s, speed-up ${(p1.ms / pn.ms).toFixed(2)} (per round ${perRoundProcs.map((x) => x.toFixed(2)).join(' ')}; start-up included)`,
  ];
}

async function main(): Promise<void> {
  const sizeMiB = arg('size', 1024);
  const rounds = arg('rounds', 3);
  const dir = mkdtempSync(join(tmpdir(), 'migtrace-bench-'));
  try {
    if (process.argv.includes('--other-only')) {
      process.stdout.write(`${(await otherInputs(dir, sizeMiB, rounds)).join('\n')}\n`);
      return;
    }
    if (process.argv.includes('--batch-only')) {
      process.stdout.write(`${(await batchScaling(dir, sizeMiB, rounds)).join('\n')}\n`);
      return;
    }
    if (process.argv.includes('--simple-only')) {
      process.stdout.write(`${(await simpleVariant(dir, arg('simple-size', 256), rounds)).join('\n')}\n`);
      return;
    }
    if (process.argv.includes('--migrations-only')) {
      process.stdout.write(`${(await manyMigrations(dir, arg('migrations', 10000), rounds)).join('\n')}\n`);
      return;
    }
    if (process.argv.includes('--iso-only')) {
      process.stdout.write(`${(await isoVariant(dir, sizeMiB, rounds)).join('\n')}\n`);
      return;
    }
    process.stderr.write(`building a ${sizeMiB} MiB trace from ${join(ROOT, 'traces/10.0.13')} in ${dir} ...\n`);
    const made = await makeTrace(join(ROOT, 'traces/10.0.13'), dir, sizeMiB * 1048576);
    const files = [made.src, made.dst];
    const mib = files.reduce((a, f) => a + statSync(f).size, 0) / 1048576;
    const kinds = ['scan', 'readline-regex', 'migtrace'] as const;
    const results: Record<string, PassResult[]> = { scan: [], 'readline-regex': [], migtrace: [] };
    for (let i = 0; i < rounds; i++) {
      for (const k of kinds) {
        const r = runPass(k, files);
        results[k]!.push(r);
        process.stderr.write(`  round ${i + 1} ${k}: ${(r.ms / 1000).toFixed(2)} s\n`);
      }
    }
    const row = (k: string) => {
      const ms = median(results[k]!.map((r) => r.ms));
      const ev = results[k]![0]!.events;
      return { ms, mibs: mib / (ms / 1000), evs: ev / (ms / 1000), rss: Math.max(...results[k]!.map((r) => r.maxRssKiB)) / 1024 };
    };
    const a = row('scan');
    const b = row('readline-regex');
    const c = row('migtrace');
    const lines = [
      `trace: ${mib.toFixed(0)} MiB, ${made.lines} lines, ${made.repetitions} migrations (src.log + dst.log), ${rounds} rounds, median`,
      `(a) newline scan            ${a.mibs.toFixed(0).padStart(6)} MiB/s`,
      `(b) readline + regex        ${b.mibs.toFixed(0).padStart(6)} MiB/s  ${(b.evs / 1e6).toFixed(2)} M lines/s`,
      `(c) migtrace check          ${c.mibs.toFixed(0).padStart(6)} MiB/s  ${(c.evs / 1e6).toFixed(2)} M events/s  peak RSS ${c.rss.toFixed(0)} MiB`,
      `ratio (c)/(b) throughput    ${(b.ms / c.ms).toFixed(2)}   (target >= 0.80)`,
      `peak RSS of (c)             ${c.rss.toFixed(0)} MiB (target <= 256 MiB)`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    // The TID form's files are not needed any more: the ISO pair takes their place on disk.
    for (const f of files) rmSync(f);
    process.stdout.write(`${(await isoVariant(dir, sizeMiB, rounds)).join('\n')}\n`);
    if (process.argv.includes('--long')) process.stdout.write(`${(await longMigration(dir, sizeMiB, rounds)).join('\n')}\n`);
    process.stdout.write(`${(await otherInputs(dir, sizeMiB, rounds)).join('\n')}\n`);
    process.stdout.write(`${(await simpleVariant(dir, arg('simple-size', Math.min(256, sizeMiB)), rounds)).join('\n')}\n${babeltraceNote()}\n`);
    process.stdout.write(`${(await batchScaling(dir, sizeMiB, rounds)).join('\n')}\n`);
    process.stdout.write(`${(await manyMigrations(dir, arg('migrations', 10000), rounds)).join('\n')}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`bench: ${(e as Error).message}\n`);
  process.exit(1);
});
