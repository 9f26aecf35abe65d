// Golden tests: `check` over every run in traces/ and fixtures/, in every format, compared with
// test/golden/. After an intended change: `UPDATE_GOLDEN=1 node --test dist/test/golden.test.js`,
// then review the diff of test/golden/ like code.
//
// Each run is analysed twice (and once more in the whole corpus): `check RUN -f text --json F
// --sarif F --junit F` gives the text on stdout and the other reports in files (what -f json,
// sarif and junit print: test/cli.test.ts checks they are the same), `check RUN -f github` the
// annotations. What is stored, all of it readable text:
//   - every run in every format: test/golden/<run>/{text.txt,json.json,sarif.sarif.json,junit.xml,github.txt};
//     SARIF goldens hold tool.driver.rules (the long rule help, the same in every run) once, in sarif-rules.json;
//   - exit-codes.json: the exit code of every run (the same in every format), and of the whole corpus;
//   - `check traces fixtures` (every run at once; -j 1, as cli.test.ts checks that worker threads
//     report the same): its annotations (all-runs/github.txt: the per-level cap applies to the
//     whole corpus); its SARIF and JUnit must be the runs' own reports put together (results,
//     notifications, suites, totals).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveRuns } from '../src/assembly/folders.js';
import { renderGithub } from '../src/report/github.js';
import type { Report } from '../src/types.js';
import { cli, normalize, ROOT, type CliResult } from './helpers.js';

const UPDATE = process.env.UPDATE_GOLDEN === '1';
const GOLDEN = join(ROOT, 'test/golden');
const EXT = { text: 'txt', json: 'json', sarif: 'sarif.json', junit: 'xml', github: 'txt' } as const;
type Fmt = keyof typeof EXT;
type FileFormat = 'json' | 'sarif' | 'junit';
const RULES_FILE = join(GOLDEN, 'sarif-rules.json');
const CODES_FILE = join(GOLDEN, 'exit-codes.json');
const ALL_GITHUB = join(GOLDEN, 'all-runs/github.txt');
const ALL = 'check traces fixtures';
const RULES_REF = '<see test/golden/sarif-rules.json>';
const HINT = '(if intended: UPDATE_GOLDEN=1 node --test dist/test/golden.test.js, and review the diff of test/golden/)';

interface RunOutput {
  code: number;
  stderr: string;
  /** Normalised report in each format. */
  out: Record<Fmt, string>;
}

// Every run `check traces fixtures` finds, in the order it reports them (a run's name is its folder).
const runs = (await resolveRuns(['traces', 'fixtures'])).map((r) => r.name);
const tmp = mkdtempSync(join(tmpdir(), 'migtrace-golden-'));
const outputs = new Map<string, RunOutput>();
let all: { code: number; stderr: string; github: string; sarif: string; junit: string; rendered: string };

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

/** Moves the SARIF rule descriptors out of a report; returns [golden text, rules JSON]. */
function splitSarif(text: string): [string, string] {
  const doc = JSON.parse(text) as { runs: Array<{ tool: { driver: { rules: unknown } } }> };
  const driver = doc.runs[0]!.tool.driver;
  const rules = `${JSON.stringify(driver.rules, null, 2)}\n`;
  driver.rules = RULES_REF;
  return [`${JSON.stringify(doc, null, 2)}\n`, rules];
}

/**
 * `check ARGS --json/--sarif/--junit FILES`: stdout, each report file, normalised, and the GitHub
 * annotations rendered from that JSON report (one analysis for every format; that `-f github`
 * prints what this renders, exit code included, is checked on the whole corpus below).
 */
async function withFiles(args: string[], name: string): Promise<{ r: CliResult; files: Record<FileFormat, string>; github: string }> {
  const dir = join(tmp, name.replace(/\W+/g, '_'));
  const path = (f: string) => join(dir, f);
  const r = await cli([...args, '-q', '--json', path('json'), '--sarif', path('sarif'), '--junit', path('junit')]);
  const raw = (f: string) => (existsSync(path(f)) ? readFileSync(path(f), 'utf8') : null);
  const read = (f: string) => normalize(raw(f) ?? `<no ${f} file: exit ${r.code}: ${r.stderr}>`);
  const json = raw('json');
  const github = json === null ? '<no json file>' : normalize(renderGithub(JSON.parse(json) as Report, { cwd: process.cwd() }));
  return { r, files: { json: read('json'), sarif: read('sarif'), junit: read('junit') }, github };
}

/** The <testsuite> elements of a JUnit report, and its totals. */
function junitParts(xml: string): { suites: string; totals: Record<string, number> } {
  const open = /^<testsuites name="migtrace" tests="(\d+)" failures="(\d+)" errors="(\d+)" skipped="(\d+)" time="0">$/m.exec(xml);
  assert.ok(open, `no <testsuites> line in\n${xml.slice(0, 300)}`);
  const start = xml.indexOf('\n', open.index) + 1;
  const end = xml.lastIndexOf('</testsuites>');
  const [tests, failures, errors, skipped] = open.slice(1).map(Number) as [number, number, number, number];
  return { suites: xml.slice(start, end), totals: { tests, failures, errors, skipped } };
}

interface SarifDoc {
  runs: Array<{ invocations: Array<{ toolExecutionNotifications: unknown[] }>; results: unknown[]; properties: { runs: unknown[] } }>;
}

describe('golden: every run in every format', () => {
  const codes = JSON.parse(readOr(CODES_FILE, '{}')) as Record<string, number>;
  const newCodes: Record<string, number> = {};

  before(async () => {
    // Stale goldens (a run that is gone) must not linger.
    if (UPDATE) for (const d of ['traces', 'fixtures']) rmSync(join(GOLDEN, d), { recursive: true, force: true });
    for (const run of runs) {
      const { r, files, github } = await withFiles(['check', run, '-f', 'text'], run);
      outputs.set(run, { code: r.code, stderr: r.stderr, out: { text: normalize(r.stdout), ...files, github } });
    }
    const every = await withFiles(['check', 'traces', 'fixtures', '-f', 'github', '-j', '1'], 'all');
    all = { code: every.r.code, stderr: every.r.stderr, github: normalize(every.r.stdout), sarif: every.files.sarif, junit: every.files.junit, rendered: every.github };
  });

  after(() => {
    rmSync(tmp, { recursive: true, force: true });
    if (UPDATE) write(CODES_FILE, sortedJson(newCodes));
  });

  it('found the runs', () => assert.ok(runs.length >= 10, `only ${runs.length} runs under traces/ and fixtures/`));

  for (const run of runs) {
    it(run, () => {
      const o = outputs.get(run)!;
      assert.ok(o.code === 0 || o.code === 1 || o.code === 3, `${run} exited ${o.code}: ${o.stderr}`);
      newCodes[run] = o.code;
      if (!UPDATE) assert.equal(o.code, codes[run], `exit code of check ${run} ${HINT}`);
      for (const fmt of Object.keys(EXT) as Fmt[]) {
        let actual = o.out[fmt];
        const file = join(GOLDEN, run, `${fmt}.${EXT[fmt]}`);
        if (fmt === 'sarif') {
          const [doc, rules] = splitSarif(actual);
          actual = doc;
          if (UPDATE) write(RULES_FILE, rules);
          else assert.equal(rules, readOr(RULES_FILE, ''), `SARIF rules of ${run} differ from ${RULES_FILE} ${HINT}`);
        }
        if (UPDATE) write(file, actual);
        else assert.equal(actual, readOr(file, '<no golden file>'), `${fmt} report of ${run} differs from ${file} ${HINT}`);
      }
    });
  }

  describe(`${ALL} (every run at once)`, () => {
    it('exit code, and the annotations of the whole corpus', () => {
      assert.ok(all.code === 0 || all.code === 1 || all.code === 3, `exited ${all.code}: ${all.stderr}`);
      newCodes[ALL] = all.code;
      const each = runs.map((r) => outputs.get(r)!.code);
      assert.equal(all.code, each.includes(1) ? 1 : each.includes(3) ? 3 : 0, 'the worst run decides');
      assert.equal(all.github, all.rendered, '-f github prints the annotations of its own JSON report');
      if (UPDATE) return write(ALL_GITHUB, all.github);
      assert.equal(all.code, codes[ALL], `exit code of ${ALL} ${HINT}`);
      assert.equal(all.github, readOr(ALL_GITHUB, '<no golden file>'), `annotations of ${ALL} differ from ${ALL_GITHUB} ${HINT}`);
    });

    it('its JUnit is the runs’ own suites, in order, with their totals', () => {
      const parts = runs.map((r) => junitParts(outputs.get(r)!.out.junit));
      const got = junitParts(all.junit);
      assert.equal(got.suites, parts.map((p) => p.suites).join(''));
      for (const k of ['tests', 'failures', 'errors', 'skipped']) assert.equal(got.totals[k], parts.reduce((a, p) => a + p.totals[k]!, 0), k);
      assert.equal(all.junit.slice(0, all.junit.indexOf('<testsuites')), outputs.get(runs[0]!)!.out.junit.slice(0, outputs.get(runs[0]!)!.out.junit.indexOf('<testsuites')));
    });

    it('its SARIF is the runs’ own results, notifications and run list, in order, in one SARIF run', () => {
      const docs = runs.map((r) => JSON.parse(outputs.get(r)!.out.sarif) as SarifDoc);
      const want = structuredClone(docs[0]!);
      const w = want.runs[0]!;
      w.results = docs.flatMap((d) => d.runs[0]!.results);
      w.invocations[0]!.toolExecutionNotifications = docs.flatMap((d) => d.runs[0]!.invocations[0]!.toolExecutionNotifications);
      w.properties.runs = docs.flatMap((d) => d.runs[0]!.properties.runs);
      assert.deepEqual(JSON.parse(all.sarif), want);
    });
  });
});
