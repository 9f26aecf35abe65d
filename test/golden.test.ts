// Golden tests: the built CLI over every run in traces/ and fixtures/, in every format, with stdout
// and exit code compared to test/golden/. After an intended change: `UPDATE_GOLDEN=1 npm test`,
// then review the diff of test/golden/ like code.
//
// What is stored, to keep the goldens small and reviewable:
//   - text and json of every run: test/golden/<run>/{text.txt,json.json};
//   - sarif, junit and github of a few picked runs (one per kind of outcome): <run>/{sarif.sarif.json,junit.xml,github.txt};
//     SARIF goldens hold tool.driver.rules (the long rule help, the same in every run) once, in sarif-rules.json;
//   - sarif, junit and github of every run in one `check traces fixtures` each: exit code and a
//     SHA-256 of stdout (all-runs.json), which catches any change the picked files do not show;
//   - exit-codes.json: the exit code of every run in every format it was run in.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { allRuns, cli, normalize, pool, ROOT, type Result } from './golden/support.js';

const UPDATE = process.env.UPDATE_GOLDEN === '1';
const GOLDEN = join(ROOT, 'test/golden');
const EXT = { text: 'txt', json: 'json', sarif: 'sarif.json', junit: 'xml', github: 'txt' } as const;
type Fmt = keyof typeof EXT;
const PER_RUN: Fmt[] = ['text', 'json'];
const PICKED_FORMATS: Fmt[] = ['sarif', 'junit', 'github'];
/** One run per kind of outcome: the racy pair, not applicable, clean, info, inconclusive, injected. */
const PICKED = [
  'traces/10.0.13/c-postcopy-preempt-pre72-1',
  'traces/10.0.13/c-postcopy-preempt-pre72-2',
  'traces/10.0.13/a-precopy-1',
  'traces/10.0.13/c-postcopy-preempt-1',
  'traces/7.2.22/d-preempt-pause-recover-1',
  'fixtures/no-tids',
  'fixtures/misread-quit',
];
const RULES_FILE = join(GOLDEN, 'sarif-rules.json');
const CODES_FILE = join(GOLDEN, 'exit-codes.json');
const ALL_FILE = join(GOLDEN, 'all-runs.json');
const RULES_REF = '<see test/golden/sarif-rules.json>';
const HINT = '(if intended: UPDATE_GOLDEN=1 npm test, and review the diff of test/golden/)';

const runs = allRuns();
const jobs = [
  ...runs.flatMap((run) => PER_RUN.map((fmt) => ({ run, fmt }))),
  ...PICKED.flatMap((run) => PICKED_FORMATS.map((fmt) => ({ run, fmt }))),
];
const results = new Map<string, Result>();
const allResults = new Map<Fmt, Result>();
const key = (run: string, fmt: Fmt) => `${run} -f ${fmt}`;

function readOr(path: string, fallback: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : fallback;
}

function write(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

function sortedJson(o: Record<string, unknown>): string {
  return `${JSON.stringify(Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]])), null, 2)}\n`;
}

/** Moves the SARIF rule descriptors out of the per-run golden; returns [golden text, rules JSON]. */
function splitSarif(stdout: string): [string, string] {
  const doc = JSON.parse(stdout) as { runs: Array<{ tool: { driver: { rules: unknown } } }> };
  const driver = doc.runs[0]!.tool.driver;
  const rules = `${JSON.stringify(driver.rules, null, 2)}\n`;
  driver.rules = RULES_REF;
  return [`${JSON.stringify(doc, null, 2)}\n`, rules];
}

describe('golden: every run in every format', () => {
  const codes = JSON.parse(readOr(CODES_FILE, '{}')) as Record<string, Record<string, number>>;
  const all = JSON.parse(readOr(ALL_FILE, '{}')) as Record<string, { code: number; sha256: string }>;
  const newCodes: Record<string, Record<string, number>> = {};
  const newAll: Record<string, { code: number; sha256: string }> = {};

  before(async () => {
    // Stale goldens (a run or a pick that is gone) must not linger.
    if (UPDATE) for (const d of ['traces', 'fixtures']) rmSync(join(GOLDEN, d), { recursive: true, force: true });
    const out = await pool(jobs, 2, ({ run, fmt }) => cli(['check', run, '-f', fmt, '-q']));
    jobs.forEach(({ run, fmt }, i) => results.set(key(run, fmt), out[i]!));
    const every = await pool(PICKED_FORMATS, 2, (fmt) => cli(['check', 'traces', 'fixtures', '-f', fmt, '-q']));
    PICKED_FORMATS.forEach((fmt, i) => allResults.set(fmt, every[i]!));
  });

  after(() => {
    if (!UPDATE) return;
    write(CODES_FILE, sortedJson(newCodes));
    write(ALL_FILE, sortedJson(newAll));
  });

  it('found the runs, and every picked run exists', () => {
    assert.ok(runs.length >= 10, `only ${runs.length} runs under traces/ and fixtures/`);
    for (const p of PICKED) assert.ok(runs.includes(p), `picked run ${p} is gone: pick another in test/golden.test.ts`);
  });

  for (const run of runs) {
    it(run, () => {
      for (const fmt of PICKED.includes(run) ? [...PER_RUN, ...PICKED_FORMATS] : PER_RUN) {
        const r = results.get(key(run, fmt))!;
        assert.ok(r.code === 0 || r.code === 1 || r.code === 3, `${key(run, fmt)} exited ${r.code}: ${r.stderr}`);
        let actual = normalize(r.stdout);
        const file = join(GOLDEN, run, `${fmt}.${EXT[fmt]}`);
        if (fmt === 'sarif') {
          const [doc, rules] = splitSarif(actual);
          actual = doc;
          if (UPDATE) write(RULES_FILE, rules);
          else assert.equal(rules, readOr(RULES_FILE, ''), `SARIF rules of ${run} differ from ${RULES_FILE} ${HINT}`);
        }
        (newCodes[run] ??= {})[fmt] = r.code;
        if (UPDATE) {
          write(file, actual);
          continue;
        }
        assert.equal(r.code, codes[run]?.[fmt], `exit code of ${key(run, fmt)} ${HINT}`);
        assert.equal(actual, readOr(file, '<no golden file>'), `stdout of ${key(run, fmt)} differs from ${file} ${HINT}`);
      }
    });
  }

  for (const fmt of PICKED_FORMATS) {
    it(`check traces fixtures -f ${fmt} (every run at once)`, () => {
      const r = allResults.get(fmt)!;
      assert.ok(r.code === 0 || r.code === 1 || r.code === 3, `exited ${r.code}: ${r.stderr}`);
      const got = { code: r.code, sha256: createHash('sha256').update(normalize(r.stdout)).digest('hex') };
      newAll[`check traces fixtures -f ${fmt}`] = got;
      if (UPDATE) return;
      assert.deepEqual(got, all[`check traces fixtures -f ${fmt}`], `stdout or exit code of 'check traces fixtures -f ${fmt}' changed ${HINT}`);
    });
  }
});
