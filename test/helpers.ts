// Test helpers, shared by every test file: run the CLI in this process (cli/app.ts's main, as the
// bin does, with its output captured), each read-only check once per test file (cached), the
// built bin itself where a test is about the process (standard input); the runs under traces/ and
// fixtures/ and what each must give; small synthetic traces and reports; golden-file normalising.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli/app.js';
import type { Finding, Location, Report, RunResult } from '../src/types.js';
import { analyzeRun, type AnalyzeOptions, type RunSpec } from '../src/replay/run.js';

/** Repository root (tests run from dist/test/). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = join(ROOT, 'dist/src/cli/main.js');
export const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

// The CLI runs here as a user in the repository would: relative paths are relative to the root.
process.chdir(ROOT);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Collects what is written to it; not a terminal. */
class Capture extends Writable {
  private chunks: Buffer[] = [];
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: (e?: Error | null) => void): void {
    this.chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    done();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/**
 * `migtrace ARGS` in this process, without colour and without a step summary, as the bin would
 * run with NO_COLOR=1 and stdout/stderr not terminals. `env` adds to the process's environment.
 */
export async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await main(args, { stdout, stderr, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', GITHUB_STEP_SUMMARY: '', ...env }, colorLevel: 0 });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

const cache = new Map<string, Promise<CliResult>>();

/**
 * `cli(args)`, run once per test file for the same arguments: for invocations that only read
 * (no files written, no standard input), so the corpus is analysed once however many tests look.
 */
export function cliOnce(args: string[]): Promise<CliResult> {
  const key = JSON.stringify(args);
  let r = cache.get(key);
  if (!r) cache.set(key, (r = cli(args)));
  return r;
}

/** `check TARGETS -f json -q`, once per test file, parsed (a fresh copy for each caller). */
export async function checkJson(...targets: string[]): Promise<{ code: number; report: Report; stderr: string }> {
  const r = await cliOnce(['check', ...targets, '-f', 'json', '-q']);
  if (!r.stdout) throw new Error(`check ${targets.join(' ')}: no JSON on stdout (exit ${r.code}): ${r.stderr}`);
  return { code: r.code, report: JSON.parse(r.stdout) as Report, stderr: r.stderr };
}

/**
 * The built bin in a child process: only where the process itself is what is tested (standard
 * input, which one process reads once).
 */
export function bin(args: string[], input?: string | Buffer): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
    maxBuffer: 256 << 20,
    ...(input !== undefined ? { input } : {}),
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

// --- inputs ---------------------------------------------------------------------------------------

const tempDirs: string[] = [];
// A test file that writes a thousand variants of a real trace leaves gigabytes otherwise.
process.on('exit', () => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

/** Writes files into a fresh temp dir, removed when the test file's process exits; returns the dir. */
export function tempRun(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(join(tmpdir(), 'migtrace-test-'));
  tempDirs.push(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

/**
 * A tiny trace in the log format: each entry is [tid, seconds offset, "event args"].
 * Timestamps start at a fixed epoch so tests are deterministic.
 */
export function logLines(entries: Array<[number, number, string]>, base = 1700000000): string {
  return entries
    .map(([tid, off, ev]) => {
      const us = Math.round(off * 1e6) + base * 1e6;
      const sec = Math.floor(us / 1e6);
      const frac = String(us % 1e6).padStart(6, '0');
      return `${tid}@${sec}.${frac}:${ev}`;
    })
    .join('\n')
    .concat('\n');
}

export interface Expected {
  verdict: string;
  exitCode: number;
  findings: Array<{ rule: string; evidence?: string }>;
  notApplicable?: string[];
  unparsed?: number;
}

/**
 * What each real run must give: `expect` in its meta.json (runs made by `migtrace capture`), or
 * traces/expected.json (the shared development runs, whose files are kept exactly as captured).
 */
export function realRunExpectations(): Record<string, Expected> {
  const out = JSON.parse(readFileSync(join(ROOT, 'traces/expected.json'), 'utf8')) as Record<string, Expected>;
  delete (out as Record<string, unknown>)['//'];
  for (const v of readdirSync(join(ROOT, 'traces'), { withFileTypes: true })) {
    if (!v.isDirectory()) continue;
    for (const r of readdirSync(join(ROOT, 'traces', v.name))) {
      const meta = join(ROOT, 'traces', v.name, r, 'meta.json');
      if (!existsSync(meta)) continue;
      const m = JSON.parse(readFileSync(meta, 'utf8')) as { expect?: Expected };
      if (m.expect) out[`${v.name}/${r}`] = m.expect;
    }
  }
  return out;
}

/** Every run folder (holds src.log, dst.log or combined.log) under traces/ and fixtures/, relative, sorted. */
export function allRuns(): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const entries = readdirSync(join(ROOT, rel), { withFileTypes: true });
    if (entries.some((e) => e.isFile() && ['src.log', 'dst.log', 'combined.log'].includes(e.name))) out.push(rel);
    for (const e of entries) if (e.isDirectory() && !e.name.startsWith('.')) walk(`${rel}/${e.name}`);
  };
  walk('traces');
  walk('fixtures');
  return out.sort();
}

export const FIXTURE_RUNS = (): string[] => allRuns().filter((r) => r.startsWith('fixtures/'));
export const RACY_RUNS = ['traces/10.0.13/c-postcopy-preempt-pre72-1', 'traces/10.0.13/c-postcopy-preempt-pre72-2'];

// --- golden files ---------------------------------------------------------------------------------

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

// --- synthetic reports for reporter unit tests ----------------------------------------------------

export function loc(over: Partial<Location> = {}): Location {
  return { file: 'traces/x/src.log', line: 10, tid: 100, role: 'migration', side: 'src', event: 'ev_a', ts: 1700000000.5, ...over };
}

export function finding(over: Partial<Finding> = {}): Finding {
  return {
    rule: 'qemufile-concurrent-access',
    severity: 'error',
    message: 'two threads wrote one file',
    evidence: { kind: 'interleaved' },
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

/** Every run folder under traces/ with a log per side or a combined log. */
export function realRunDirs(): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const p = join(d, e.name);
      if (existsSync(join(p, 'src.log')) || existsSync(join(p, 'combined.log'))) out.push(p);
      else walk(p);
    }
  };
  walk(join(ROOT, 'traces'));
  return out.sort();
}

/** A run analysed with its inputs read in this thread, then on reader threads: both results as JSON. */
export async function inlineAndOnThreads(spec: RunSpec, opts: Omit<AnalyzeOptions, 'readers'>): Promise<[string, string]> {
  const inline = await analyzeRun(spec, { ...opts, readers: 'inline' });
  const worker = await analyzeRun(spec, { ...opts, readers: 'worker' });
  return [JSON.stringify(inline), JSON.stringify(worker)];
}
