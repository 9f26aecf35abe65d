// The real binary `simple` traces against their logs. A QEMU built with
// `--enable-trace-backends=log,simple` writes both forms of one run (`-D <side>.log` and
// `-trace events=F,file=<side>.simple`), so for every bundled run folder with src.simple,
// dst.simple and the build's trace-events-all beside src.log and dst.log, the analyzer must say the
// same about both: the same verdict, exit code, finding rules and evidence. The simple records carry the
// process id only, so the binary form is decided from event names where the logs have thread ids.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Report, RunResult } from '../src/types.js';
import { cli, ROOT } from './helpers.js';
import { evidenceText } from '../src/report/evidence.js';

const FILES = ['src.log', 'dst.log', 'src.simple', 'dst.simple', 'trace-events-all'];

/** traces/<group>/<run> folders holding both forms of the same processes. */
function twins(): string[] {
  const out: string[] = [];
  for (const g of readdirSync(join(ROOT, 'traces'), { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const r of readdirSync(join(ROOT, 'traces', g.name), { withFileTypes: true }).filter((d) => d.isDirectory())) {
      const dir = join('traces', g.name, r.name);
      if (FILES.every((f) => existsSync(join(ROOT, dir, f)))) out.push(dir);
    }
  }
  return out.sort();
}

async function check(args: string[]): Promise<{ code: number; run: RunResult }> {
  const r = await cli(['check', ...args, '-f', 'json', '-q']);
  assert.ok(r.stdout, `check ${args.join(' ')}: no JSON (exit ${r.code}): ${r.stderr}`);
  const report = JSON.parse(r.stdout) as Report;
  assert.equal(report.runs.length, 1);
  return { code: r.code, run: report.runs[0]! };
}

const rules = (run: RunResult): string[] => [...new Set(run.findings.map((f) => f.rule))].sort();
const evidence = (run: RunResult): string[] => run.findings.map((f) => `${f.rule} [${evidenceText(f.evidence)}]`).sort();

describe('simple traces give their logs’ verdicts', () => {
  const dirs = twins();
  it('there are real simple-trace twins to check (default mode, compat, three reverted fixes)', () => {
    assert.ok(dirs.length >= 5, `found ${dirs.join(', ')}`);
  });
  for (const dir of dirs) {
    it(`${dir}: src.simple + dst.simple decide as src.log + dst.log`, async () => {
      const log = await check(['--src', join(dir, 'src.log'), '--dst', join(dir, 'dst.log')]);
      const bin = await check(['--src', join(dir, 'src.simple'), '--dst', join(dir, 'dst.simple'), '--trace-events', join(dir, 'trace-events-all')]);
      assert.deepEqual(
        bin.run.inputs.map((i) => i.format),
        ['simple', 'simple'],
        'both read as simple traces',
      );
      const why = `log: ${log.run.verdict} ${JSON.stringify(log.run.verdictReasons)}; simple: ${bin.run.verdict} ${JSON.stringify(bin.run.verdictReasons)}`;
      assert.equal(bin.run.verdict, log.run.verdict, why);
      assert.equal(bin.code, log.code, why);
      assert.deepEqual(rules(bin.run), rules(log.run), `findings: log ${JSON.stringify(log.run.findings.map((f) => [f.rule, f.evidence]))}, simple ${JSON.stringify(bin.run.findings.map((f) => [f.rule, f.evidence]))}`);
      assert.deepEqual(evidence(bin.run), evidence(log.run), 'the same evidence for each rule');
      // The binary form has no thread ids: a finding that rests on threads says it told them apart by name.
      for (const f of bin.run.findings) if (f.threads) assert.equal(f.threads, 'event names (no thread ids)', `${f.rule}`);
    });
  }
});
