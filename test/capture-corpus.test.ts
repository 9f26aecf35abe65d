// The corpus runs made with `migtrace capture --combined-log` and `--scenario migrate-twice`
// (traces/<version>/combined-*, traces/<version>/twice-*), checked with the CLI on the run
// folder (`check <dir> -f json`: combined.log alone, or src.log with dst1.log and dst2.log):
//   - a combined log (both QEMU processes' stderr in one file, as qtest's migration-test and CI
//     jobs produce) must give the same verdict and the same finding rules as the separate-file
//     capture of the same version and scenario (cap-<scenario>-1);
//   - a log holding two migrations (a cancelled attempt, then a retry to a fresh destination)
//     must be reported as that many episodes, each with the verdict recorded in meta.json
//     `expect.episodes` (worked out from the QMP transcript, states and guest console);
//   - a default log of QEMU >= 10.1 (no thread ids) must give the verdict and finding rules of its
//     per-thread-file twin (the same scenario captured again with -d tid, meta.json `twin`).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { RunResult } from '../src/types.js';
import { checkJson, ROOT } from './helpers.js';

const TRACES = join(ROOT, 'traces');

interface Meta {
  scenario: string;
  combined_log?: boolean;
  log_form?: string;
  twin?: string;
  twin_of?: string;
  expect?: {
    verdict: string;
    exitCode: number;
    findings: Array<{ rule: string; evidence?: string }>;
    episodes?: Array<{ verdict: string }>;
  };
}

async function check(target: string): Promise<{ code: number; run: RunResult; stderr: string }> {
  const r = await checkJson(target);
  assert.equal(r.report.runs.length, 1, `check ${target}: one run`);
  return { code: r.code, run: r.report.runs[0]!, stderr: r.stderr };
}

const rules = (run: RunResult): string[] => [...new Set(run.findings.map((f) => f.rule))].sort();
const meta = (dir: string): Meta => JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Meta;

/** traces/<version>/<prefix>* run folders (cross-version pairs live in traces/cross/, not here). */
function runsNamed(prefix: string): Array<{ version: string; name: string; dir: string }> {
  const out: Array<{ version: string; name: string; dir: string }> = [];
  for (const v of readdirSync(TRACES, { withFileTypes: true })) {
    if (!v.isDirectory()) continue;
    for (const r of readdirSync(join(TRACES, v.name), { withFileTypes: true })) {
      if (r.isDirectory() && r.name.startsWith(prefix) && existsSync(join(TRACES, v.name, r.name, 'meta.json'))) {
        out.push({ version: v.name, name: r.name, dir: join(TRACES, v.name, r.name) });
      }
    }
  }
  return out;
}

const COMBINED = runsNamed('combined-');
const TWICE = runsNamed('twice-');
const TWINNED = runsNamed('').filter((r) => meta(r.dir).twin !== undefined);

describe('corpus: combined logs give what separate files give', () => {
  it('there are combined runs to check', () => assert.ok(COMBINED.length >= 3, `found ${COMBINED.map((r) => r.name).join(', ')}`));
  for (const { version, name, dir } of COMBINED) {
    it(`${version}/${name}: same verdict and finding rules as ${version}/cap-${meta(dir).scenario}-1`, async () => {
      const m = meta(dir);
      assert.equal(m.combined_log, true, 'captured with --combined-log');
      assert.ok(existsSync(join(dir, 'combined.log')) && !existsSync(join(dir, 'src.log')) && !existsSync(join(dir, 'dst.log')), 'one combined.log, no per-side logs');
      const capDir = join(TRACES, version, `cap-${m.scenario}-1`);
      assert.ok(existsSync(capDir), `${capDir} (the separate-file capture to compare with) exists`);
      const ref = await check(capDir);
      // The folder is the run: src/assembly/folders.ts takes a folder holding only combined.log for one.
      const got = await check(dir);
      assert.deepEqual(got.run.inputs.map((i) => i.path.split('/').pop()), ['combined.log']);
      assert.equal(got.run.inputs[0]!.mixed, true, `read as one stream of both processes: ${got.run.inputs[0]!.sideEvidence}`);
      assert.equal(got.run.verdict, ref.run.verdict, `verdict: ${JSON.stringify(got.run.verdictReasons)}`);
      assert.equal(got.code, ref.code, 'exit code');
      if (got.run.threads.every((t) => t.tid === null)) {
        // No thread ids (QEMU >= 10.1): events both processes log cannot be placed, so a rule that
        // reads them may say inconclusive instead of its finding; it never finds something else.
        for (const rule of rules(got.run)) assert.ok(rules(ref.run).includes(rule), `${rule} is not found with separate files`);
        for (const rule of rules(ref.run)) assert.ok(rules(got.run).includes(rule) || got.run.inconclusive.some((i) => i.rule === rule), `${rule}: neither found nor inconclusive`);
        assert.ok(got.run.dataQuality.notes.some((n) => /could not be placed on either side/.test(n)), 'says which events could not be placed');
      } else assert.deepEqual(rules(got.run), rules(ref.run), `finding rules: ${JSON.stringify(got.run.findings.map((f) => [f.rule, f.evidence]))}`);
      if (m.expect) assert.equal(got.run.verdict, m.expect.verdict, 'the verdict recorded in meta.json expect');
    });
  }
});

describe('corpus: a source migrated twice is reported as two episodes', () => {
  it('there are migrate-twice runs to check', () => assert.ok(TWICE.length >= 3, `found ${TWICE.map((r) => r.name).join(', ')}`));
  for (const { version, name, dir } of TWICE) {
    const m = meta(dir);
    const want = m.expect?.episodes ?? [];
    it(`${version}/${name}: ${want.length} episodes, ${want.map((e) => e.verdict).join(' then ')}`, async () => {
      assert.equal(m.scenario, 'migrate-twice');
      assert.ok(m.expect && want.length === 2, 'meta.json expect.episodes names both migrations');
      const got = await check(dir);
      // Every process's log is read: one combined.log, or src.log with dst1.log and dst2.log.
      const files = got.run.inputs.map((i) => i.path.split('/').pop()).sort();
      assert.deepEqual(files, m.combined_log ? ['combined.log'] : ['dst1.log', 'dst2.log', 'src.log']);
      const eps = got.run.episodes ?? [];
      assert.equal(eps.length, want.length, `episodes: ${JSON.stringify(eps.map((e) => [e.index, e.verdict, e.states]))}`);
      want.forEach((w, i) => {
        assert.equal(eps[i]!.index, i + 1);
        assert.equal(eps[i]!.verdict, w.verdict, `episode ${i + 1}: ${JSON.stringify(eps[i]!.verdictReasons)} ${JSON.stringify(eps[i]!.findings.map((f) => f.rule))}`);
      });
      // The source's side of each: the first cancelled during precopy, the second through postcopy.
      assert.deepEqual(eps[0]!.states.src.slice(-2), ['cancelling', 'cancelled']);
      assert.ok(!eps[0]!.states.src.includes('postcopy-active'));
      assert.deepEqual(eps[1]!.states.src.slice(-2), ['postcopy-active', 'completed']);
      // The run sums them up: the worst episode's verdict and exit code.
      assert.equal(got.run.verdict, m.expect!.verdict);
      assert.equal(got.code, m.expect!.exitCode);
    });
    it(`${version}/${name}: each destination's states are in its episode`, async () => {
      const eps = (await check(dir)).run.episodes ?? [];
      assert.equal(eps[0]?.states.dst.at(-1), 'failed', 'dst1 fails its load when the source cancels');
      assert.ok(!eps[0]?.states.dst.includes('postcopy-active'));
      assert.deepEqual(eps[1]?.states.dst.slice(-2), ['postcopy-active', 'completed'], 'dst2');
    });
  }
});

describe('corpus: a default log without thread ids gives what its per-thread twin gives', () => {
  it('there are twin pairs to check', () => assert.ok(TWINNED.length >= 5, `found ${TWINNED.map((r) => r.name).join(', ')}`));
  for (const { version, name, dir } of TWINNED) {
    const m = meta(dir);
    const twinDir = join(dir, m.twin!);
    it(`${version}/${name} and ${m.twin}: the same verdict and finding rules`, async () => {
      assert.equal(m.log_form, 'per-process-log');
      const t = meta(twinDir);
      assert.equal(join(twinDir, t.twin_of!), dir, 'the twin names this run back');
      assert.equal(t.log_form, 'per-thread-files');
      assert.equal(t.scenario, m.scenario);
      assert.ok(existsSync(join(twinDir, 'threads')) && !existsSync(join(twinDir, 'src.log')), 'the twin has threads/ only');
      const a = await check(dir);
      const b = await check(twinDir);
      assert.equal(a.run.verdict, b.run.verdict, `verdicts: ${JSON.stringify(a.run.verdictReasons)} vs ${JSON.stringify(b.run.verdictReasons)}`);
      assert.equal(a.code, b.code, 'exit code');
      assert.deepEqual(rules(a.run), rules(b.run), 'finding rules');
      if (m.expect) assert.equal(a.run.verdict, m.expect.verdict, 'the verdict recorded in meta.json expect');
    });
  }
});
