// Never a silent pass, for the real positives that are test suites' logs (QEMU's migration-test,
// traces/qtest): in the test whose expected verdict holds a finding, delete each catalogued event
// it contains, and each event family (the name's first two words), in turn; cut the log just
// before the offending access. That test must never read clean, and the run never exit 0.
// (Separate source/destination files: silent-pass.test.ts.) About 25 s a log.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { loadCatalog } from '../../src/model/catalog.js';
import type { Report } from '../../src/types.js';
import { cli, ROOT, tempRun } from '../helpers.js';

const catalog = loadCatalog();
/** Suite logs holding a test whose expectation is a finding (traces/qtest/README.md). */
const LOGS = ['10.0.13-postcopy-compat', '10.0.13-postcopy-revert-6621883f93'];

interface MetaTest {
  path: string;
  stream_lines: [number, number | null];
  expect?: { verdict: string; findings?: Array<{ rule: string }> };
}

function nameOf(line: string): string | null {
  return /^(?:\d+@[\d.]+:|\d{4}-\d\d-\d\dT[\d:.]+Z )?([A-Za-z_][A-Za-z0-9_]*)(?: |$)/.exec(line)?.[1] ?? null;
}

const family = (name: string) => name.split('_').slice(0, 2).join('_');

/** The suite's verdict on `text` (a whole log): exit code, and each test's verdict. */
async function judge(text: string): Promise<{ code: number; tests: Map<string, string | null>; report: Report }> {
  const dir = tempRun({ 'qtest.log': text });
  const r = await cli(['check', join(dir, 'qtest.log'), '-f', 'json', '-q']);
  const report = JSON.parse(r.stdout) as Report;
  return { code: r.code, tests: new Map((report.runs[0]?.tests ?? []).map((t) => [t.name, t.verdict])), report };
}

describe('never a silent pass: test suites’ logs with evidence taken away', () => {
  for (const log of LOGS) {
    const folder = join(ROOT, 'traces/qtest', log);
    const meta = JSON.parse(readFileSync(join(folder, 'meta.json'), 'utf8')) as { tests: MetaTest[] };
    const lines = gunzipSync(readFileSync(join(folder, 'qtest.log.gz'))).toString('utf8').split('\n');
    for (const t of meta.tests.filter((x) => x.expect?.verdict === 'findings')) {
      it(`${log} ${t.path}: each catalogued event and family deleted from the test, the log cut before the access`, async () => {
        const [from, to] = [t.stream_lines[0], t.stream_lines[1] ?? lines.length];
        const inTest = (i: number) => i + 1 >= from && i + 1 <= to;
        const present = new Set(lines.filter((_, i) => inTest(i)).map(nameOf).filter((n): n is string => n !== null && catalog.byEvent.has(n)));
        assert.ok(present.size > 20, `${t.path}: only ${present.size} catalogued events in lines ${from}-${to}`);
        const variants: Array<[string, (n: string) => boolean]> = [
          ...[...present].map((ev): [string, (n: string) => boolean] => [`without ${ev}`, (n) => n === ev]),
          ...[...new Set([...present].map(family))].map((fam): [string, (n: string) => boolean] => [`without ${fam}_*`, (n) => family(n) === fam]),
        ];
        const silent: string[] = [];
        for (const [what, drop] of variants) {
          const v = await judge(lines.filter((l, i) => !inTest(i) || !drop(nameOf(l) ?? '')).join('\n'));
          if (v.code === 0 || v.tests.get(t.path) === 'clean') silent.push(`${what}: test ${v.tests.get(t.path)}, exit ${v.code}`);
        }
        const full = await judge(lines.join('\n'));
        assert.equal(full.code, 1, `${log} itself`);
        assert.equal(full.tests.get(t.path), 'findings');
        const access = full.report.runs[0]!.findings.find((f) => f.test === t.path && f.severity !== 'info')!.locations[0]!;
        const cut = await judge(lines.slice(0, access.line - 1).join('\n') + '\n');
        if (cut.code === 0 || cut.tests.get(t.path) === 'clean') silent.push(`cut before line ${access.line}: test ${cut.tests.get(t.path)}, exit ${cut.code}`);
        assert.deepEqual(silent, [], `${log} ${t.path}: variants that came out clean`);
      });
    }
  }
});
