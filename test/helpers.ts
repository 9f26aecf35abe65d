// Test helpers: run the built CLI, find the repo, write small synthetic traces.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (tests run from dist/test/). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = join(ROOT, 'dist/src/cli/main.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', ...env },
    maxBuffer: 64 << 20,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Writes files into a fresh temp dir; returns the dir. */
export function tempRun(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(join(tmpdir(), 'migtrace-test-'));
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

