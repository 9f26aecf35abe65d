// npm run bench [-- --size 1024 --rounds 3]: builds a large trace (MiB given by --size, default
// 1024) from the QEMU 10.0.13 runs in traces/ (bench/make-trace.ts says how), then measures on the same files, in one script, alternating the passes:
//   (a) a bare newline scan (the I/O floor),
//   (b) readline + one anchored regex per line (a minimal line parser),
//   (c) migtrace check end to end (both files, merged, the whole model and every rule).
// Each pass runs in a fresh child process (so (c)'s peak RSS is its own); medians of --rounds.
// Printed: MiB/s and events/s per pass, the ratio (c)/(b), and (c)'s peak RSS.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTrace } from './make-trace.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PASS = fileURLToPath(new URL('./pass.js', import.meta.url));

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} takes a positive number`);
  return v;
}

interface PassResult {
  ms: number;
  lines: number;
  events: number;
  maxRssKiB: number;
}

function runPass(kind: string, files: string[]): PassResult {
  const r = spawnSync(process.execPath, [PASS, kind, ...files], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`pass ${kind} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as PassResult;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function main(): Promise<void> {
  const sizeMiB = arg('size', 1024);
  const rounds = arg('rounds', 3);
  const dir = mkdtempSync(join(tmpdir(), 'migtrace-bench-'));
  try {
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
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`bench: ${(e as Error).message}\n`);
  process.exit(1);
});
