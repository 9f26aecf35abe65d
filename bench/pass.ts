// One measured pass over the bench files (bench.ts runs it in a fresh process, through run-pass.ts). Prints JSON.
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { analyzeBatch } from '../src/cli/batch.js';
import { loadCatalog } from '../src/model/catalog.js';
import { analyzeRun } from '../src/replay/run.js';
import { RULES } from '../src/rules/index.js';
import { limitHeapGrowth } from '../src/cli/heap.js';
import { main } from '../src/cli/app.js';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { V8_STARTUP_FLAGS } from '../src/cli/heap.js';

async function scan(files: string[]): Promise<{ lines: number; events: number }> {
  let lines = 0;
  for (const f of files) {
    for await (const chunk of createReadStream(f, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      let i = -1;
      while ((i = chunk.indexOf(10, i + 1)) !== -1) lines++;
    }
  }
  return { lines, events: lines };
}

const LINE = /^(\d+)@(\d+)\.(\d+):(\w+) ?(.*)$/;
// The same for the ISO prefix of QEMU >= 10.1 (no TID; the fraction absent on a whole second).
const ISO_LINE = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?Z (\w+) ?(.*)$/;
async function readlineRegex(files: string[], re = LINE): Promise<{ lines: number; events: number }> {
  let lines = 0;
  let events = 0;
  for (const f of files) {
    const rl = createInterface({ input: createReadStream(f, { highWaterMark: 1 << 20 }), crlfDelay: Infinity });
    for await (const l of rl) {
      lines++;
      if (re.exec(l)) events++;
    }
  }
  return { lines, events };
}

async function migtrace(files: string[]): Promise<{ lines: number; events: number }> {
  limitHeapGrowth(); // as the CLI does at start-up (src/cli/main.ts)
  const r = await analyzeRun(
    { name: 'bench', inputs: [{ path: files[0]!, side: 'src' }, { path: files[1]!, side: 'dst' }] },
    { rules: RULES, catalog: loadCatalog(), stuckAfterMs: 1000, maxUnparsedSamples: 20 },
  );
  return { lines: r.stats.lines, events: r.stats.events };
}

/** `check DIR...` as the CLI runs a batch: one run per directory, on `jobs` worker threads. */
async function batch(args: string[]): Promise<{ lines: number; events: number }> {
  limitHeapGrowth();
  const [jobs, ...dirs] = args;
  const specs = dirs.map((d) => ({ name: d, inputs: [{ path: join(d, 'src.log'), side: 'src' as const }, { path: join(d, 'dst.log'), side: 'dst' as const }] }));
  const results = (await analyzeBatch(specs, { catalog: [], stuckAfterMs: 1000, maxUnparsedSamples: 20, jobs: Number(jobs) })).map((r) => {
    if (r instanceof Error) throw r;
    return r;
  });
  return { lines: results.reduce((a, r) => a + r.stats.lines, 0), events: results.reduce((a, r) => a + r.stats.events, 0) };
}

/**
 * The same runs as `processes` separate migtrace processes side by side (each a `batch 1` pass
 * over its share of the runs, started with the bin's V8 flags), timed from before the first
 * starts to after the last ends: what the machine gives for this work when nothing is shared
 * between the jobs, not even the process (the ceiling a batch's worker threads are measured
 * against). The children's start-up is inside the time, for one process as for several.
 */
async function processes(args: string[]): Promise<{ lines: number; events: number }> {
  const [n, ...dirs] = args;
  const shares = Array.from({ length: Number(n) }, (_, k) => dirs.filter((_, i) => i % Number(n) === k));
  const self = fileURLToPath(new URL('./run-pass.js', import.meta.url));
  const outs = await Promise.all(
    shares.map(
      (share) =>
        new Promise<{ lines: number; events: number }>((resolve, reject) => {
          const child = spawn(process.execPath, [...V8_STARTUP_FLAGS, self, 'batch', '1', ...share], { stdio: ['ignore', 'pipe', 'inherit'] });
          let out = '';
          child.stdout.on('data', (d: Buffer) => (out += d.toString()));
          child.on('error', reject);
          child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as { lines: number; events: number }) : reject(new Error(`processes: a child exited with ${code}`))));
        }),
    ),
  );
  return { lines: outs.reduce((a, r) => a + r.lines, 0), events: outs.reduce((a, r) => a + r.events, 0) };
}

/**
 * `migtrace check --src S --dst D -f FORMAT` end to end, report included (written to a sink that
 * counts its bytes): what a trace of many migrations costs in memory with its report.
 */
async function cli(args: string[]): Promise<{ lines: number; events: number; exitCode: number; reportBytes: number }> {
  limitHeapGrowth();
  const [format, src, dst] = args;
  let reportBytes = 0;
  const stdout = new Writable({
    write(chunk: Buffer, _enc, cb) {
      reportBytes += chunk.length;
      cb();
    },
  });
  const exitCode = await main(['check', '--src', src!, '--dst', dst!, '-f', format!, '-q'], { stdout, stderr: process.stderr, env: process.env });
  if (exitCode === 2) throw new Error(`check -f ${format}: exit 2`);
  return { lines: 0, events: 0, exitCode, reportBytes };
}

/**
 * QEMU's own printer of simple traces (scripts/simpletrace.py of the QEMU source, with its
 * tracetool package) over each file in turn, output discarded: `files` are the script, the
 * trace-events file, then the traces. Events are counted by the migtrace pass; here, records.
 */
async function simpletrace(args: string[]): Promise<{ lines: number; events: number }> {
  const [script, events, ...traces] = args;
  for (const t of traces) {
    const r = spawnSync(process.env.PYTHON ?? 'python3', [script!, events!, t], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`simpletrace.py ${t}: exit ${r.status}: ${r.stderr.slice(0, 500)}`);
  }
  return { lines: 0, events: 0 };
}

const [kind, ...files] = process.argv.slice(2);
const readlineIso = (files: string[]) => readlineRegex(files, ISO_LINE);
const fn = kind === 'scan' ? scan : kind === 'readline-regex' ? readlineRegex : kind === 'readline-regex-iso' ? readlineIso : kind === 'migtrace' ? migtrace : kind === 'batch' ? batch : kind === 'processes' ? processes : kind === 'cli' ? cli : kind === 'simpletrace' ? simpletrace : null;
if (!fn) throw new Error(`unknown pass ${kind}`);
const threads = threadCpu();
const t0 = performance.now();
const c0 = process.cpuUsage();
const r = await fn(files);
threads.poll();
const ms = performance.now() - t0;
const cpu = process.cpuUsage(c0);
// CPU time (user + system) is reported beside wall time: on a busy machine it is the steadier measure.
process.stdout.write(JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1000, mainCpuMs: mainThreadCpuMs(), threadsCpuMs: threads.ms(), childCpuMs: childrenCpuMs(), ...r, maxRssKiB: process.resourceUsage().maxRSS }));

/** CPU time of the waited-for child processes (simpletrace.py), from /proc (Linux; null elsewhere). */
function childrenCpuMs(): number | null {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[13]) + Number(f[14])) * 1000) / 100; // cutime + cstime
  } catch {
    return null;
  }
}

/** CPU time of this (the replay) thread alone, from /proc (Linux; null elsewhere): reader threads excluded. */
function mainThreadCpuMs(): number | null {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, in clock ticks of 1/100 s
  } catch {
    return null;
  }
}

/**
 * CPU time of each thread of this process, busiest first (Linux; [] elsewhere): worker threads
 * end before the pass does, so /proc is read every 20 ms and each thread's last figure kept. It
 * says how much of a pass could run at once: V8's own threads (collector, compiler) keep a second
 * core partly busy even when one thread analyses.
 */
function threadCpu(): { poll(): void; ms(): number[] } {
  const last = new Map<string, number>();
  const poll = () => {
    try {
      for (const t of readdirSync('/proc/self/task')) {
        try {
          const stat = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
          const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
          last.set(t, ((Number(f[11]) + Number(f[12])) * 1000) / 100);
        } catch {
          // the thread ended between the listing and the read: its previous figure stays
        }
      }
    } catch {
      // no /proc
    }
  };
  const timer = setInterval(poll, 20);
  timer.unref();
  return {
    poll,
    ms: () => {
      clearInterval(timer);
      return [...last.values()].filter((x) => x > 0).sort((a, b) => b - a);
    },
  };
}
