// Shared by the report, baseline and golden tests: run the built CLI as a user would (no colour,
// repo root as cwd), list every run under traces/ and fixtures/, normalise output for goldens, and
// build small synthetic reports for reporter unit tests.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Finding, Location, Report, RunResult } from '../../src/types.js';

/** Repository root (tests run from dist/test/golden/). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CLI = join(ROOT, 'dist/src/cli/main.js');
export const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args, '--no-color'],
      { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', GITHUB_STEP_SUMMARY: '', ...env } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs jobs with at most `limit` at a time (a CLI run is mostly CPU; 2 cores here). */
export async function pool<T, R>(items: readonly T[], limit: number, job: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await job(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Every run folder (holds src.log or dst.log) under traces/ and fixtures/, relative, sorted. */
export function allRuns(): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const entries = readdirSync(join(ROOT, rel), { withFileTypes: true });
    if (entries.some((e) => e.isFile() && (e.name === 'src.log' || e.name === 'dst.log'))) out.push(rel);
    for (const e of entries) if (e.isDirectory() && !e.name.startsWith('.')) walk(`${rel}/${e.name}`);
  };
  walk('traces');
  walk('fixtures');
  return out.sort();
}

export const FIXTURE_RUNS = (): string[] => allRuns().filter((r) => r.startsWith('fixtures/'));
export const RACY_RUNS = ['traces/10.0.13/c-postcopy-preempt-pre72-1', 'traces/10.0.13/c-postcopy-preempt-pre72-2'];

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Absolute paths → relative, tool version → <version>: what may differ between machines and releases. */
export function normalize(text: string): string {
  const root = ROOT.replace(/\/$/, '');
  return text
    .replace(new RegExp(`${escapeRe(root)}/`, 'g'), '')
    .replace(new RegExp(escapeRe(root), 'g'), '.')
    .replace(/("name": "migtrace",\s*"version": )"[^"]*"/g, '$1"<version>"')
    .replace(/("semanticVersion": )"[^"]*"/g, '$1"<version>"')
    .replace(new RegExp(`(### migtrace )${escapeRe(VERSION)}`, 'g'), '$1<version>');
}

// --- synthetic reports for reporter unit tests -------------------------------------------------

export function loc(over: Partial<Location> = {}): Location {
  return { file: 'traces/x/src.log', line: 10, tid: 100, role: 'migration', side: 'src', event: 'ev_a', ts: 1700000000.5, ...over };
}

export function finding(over: Partial<Finding> = {}): Finding {
  return {
    rule: 'qemufile-concurrent-access',
    severity: 'error',
    message: 'two threads wrote one file',
    evidence: 'interleaved',
    commits: ['6621883f93'],
    object: 'postcopy_qemufile_src',
    locations: [loc(), loc({ line: 8, tid: 101, role: 'rp', event: 'ev_b', ts: 1700000000.4 })],
    ...over,
  };
}

export function run(name: string, findings: Finding[] = [], over: Partial<RunResult> = {}): RunResult {
  return {
    name,
    inputs: [{ path: `${name}/src.log`, side: 'src', sideEvidence: 'forced', format: 'log' }],
    qemu: { src: { range: '>=10.0', evidence: [] }, dst: { range: 'unknown', evidence: [] } },
    mode: { postcopy: true, preempt: true, compatPre72: true, evidence: [] },
    verdict: findings.length ? 'findings' : 'clean',
    verdictReasons: [],
    findings,
    inconclusive: [],
    notApplicable: [],
    rulesChecked: ['qemufile-concurrent-access', 'preempt-quit-as-network-failure', 'preempt-quit-stuck', 'postcopy-network-failure'],
    threads: [],
    stats: { lines: 0, events: 0, messages: 0, unparsed: 0 },
    dataQuality: { perInput: [], unparsedSamples: [], unassignedTids: [], notes: [] },
    ...over,
  };
}

export function report(runs: RunResult[]): Report {
  return { tool: { name: 'migtrace', version: '9.9.9' }, runs };
}
