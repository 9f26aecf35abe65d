// SARIF: valid against the SARIF 2.1.0 JSON schema (the copy shipped in the npm package
// @microsoft/sarif-multitool-ts, assets/sarif-2.1.0.schema.json: the SARIF SDK's 2.1.0 schema
// in JSON Schema 2020-12), plus what GitHub code scanning needs beyond the schema: a startLine on
// every result, relative URIs, stable ruleIds and partialFingerprints.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { renderSarif } from '../src/report/sarif.js';
import { RULES } from '../src/rules/index.js';
import { cli, finding, FIXTURE_RUNS, loc, RACY_RUNS, report, ROOT, run } from './helpers.js';

const require = createRequire(import.meta.url);
type Validate = ((doc: unknown) => boolean) & { errors?: unknown[] | null };

function sarifValidator(): Validate {
  const Ajv2020 = (require('ajv/dist/2020') as { default: new (o: object) => { compile(s: object): Validate } }).default;
  const addFormats = (require('ajv-formats') as { default: (a: unknown) => void }).default;
  const pkg = require.resolve('@microsoft/sarif-multitool-ts'); // → <pkg>/dist/index.js
  const schema = JSON.parse(readFileSync(join(pkg, '../../assets/sarif-2.1.0.schema.json'), 'utf8')) as object;
  // strict: false because the schema uses annotations Ajv's strict mode does not know.
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv.compile(schema);
}

interface Sarif {
  version: string;
  runs: Array<{
    tool: { driver: { rules: Array<{ id: string; shortDescription: { text: string }; fullDescription: { text: string }; help: { text: string }; properties: { commits: string[] } }> } };
    invocations: Array<{ executionSuccessful: boolean; toolExecutionNotifications: Array<{ level: string; message: { text: string }; associatedRule?: { id: string } }> }>;
    results: Array<{
      ruleId: string;
      level: string;
      message: { text: string };
      locations: Array<{ physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }>;
      relatedLocations: Array<{ message: { text: string }; physicalLocation: { region: { startLine: number } } }>;
      codeFlows: Array<{ threadFlows: Array<{ id: string; locations: Array<{ executionOrder: number; properties: { ts: number | null; tid: number | null } }> }> }>;
      partialFingerprints: Record<string, string>;
      baselineState?: string;
      suppressions?: Array<{ kind: string; status: string; justification: string }>;
      properties: { run: string };
    }>;
  }>;
}

const targets = [...FIXTURE_RUNS(), ...RACY_RUNS];
const out = new Map<string, Sarif>();
let validate: Validate;

before(async () => {
  validate = sarifValidator();
  const rs = await Promise.all(targets.map((t) => cli(['check', t, '-f', 'sarif', '-q'])));
  targets.forEach((t, i) => {
    assert.ok([0, 1, 3].includes(rs[i]!.code), `${t}: exit ${rs[i]!.code}: ${rs[i]!.stderr}`);
    out.set(t, JSON.parse(rs[i]!.stdout) as Sarif);
  });
});

function assertValid(doc: unknown, what: string): void {
  const ok = validate(doc);
  assert.ok(ok, `${what}: not valid SARIF 2.1.0:\n${JSON.stringify(validate.errors, null, 2)}`);
}

describe('SARIF against the 2.1.0 schema', () => {
  for (const t of targets) {
    it(`${t} is valid`, () => assertValid(out.get(t), t));
  }
  it('the validator does reject an invalid log (so the tests above mean something)', () => {
    const bad = structuredClone(out.get(RACY_RUNS[1]!)!);
    (bad.runs[0]!.results[0] as { level: string }).level = 'fatal';
    assert.equal(validate(bad), false);
  });
  it('a log with baselineState and suppressions is valid too', () => {
    const f1 = finding({ baseline: 'known' });
    const f2 = finding({ rule: 'preempt-quit-stuck', baseline: 'new', suppressed: { reason: 'accepted <until> fix', until: '2999-01-01', source: 's.txt:2' } });
    const doc = JSON.parse(renderSarif({ ...report([run('a', [f1, f2])]), baselineGone: [{ key: 'k', rule: 'r', summary: 's' }] }, { cwd: '/repo' })) as Sarif;
    assertValid(doc, 'synthetic');
    assert.equal(doc.runs[0]!.results[0]!.baselineState, 'unchanged');
    assert.equal(doc.runs[0]!.results[1]!.baselineState, 'new');
    assert.deepEqual(doc.runs[0]!.results[1]!.suppressions?.[0]?.justification, 'accepted <until> fix');
  });
});

describe('SARIF content', () => {
  it('one rule descriptor per registered rule, with title, explain text and commits', () => {
    const rules = out.get(RACY_RUNS[0]!)!.runs[0]!.tool.driver.rules;
    assert.deepEqual(rules.map((r) => r.id), RULES.map((r) => r.id));
    for (const r of RULES) {
      const d = rules.find((x) => x.id === r.id)!;
      assert.equal(d.shortDescription.text, r.title);
      assert.equal(d.fullDescription.text, r.explain);
      assert.equal(d.help.text, r.explain);
      assert.deepEqual(d.properties.commits, r.commits);
    }
  });

  it('every result has a relative URI and a startLine >= 1, and names its run', () => {
    for (const [t, doc] of out) {
      for (const r of doc.runs[0]!.results) {
        const p = r.locations[0]!.physicalLocation;
        assert.ok(p.region.startLine >= 1, t);
        assert.ok(!p.artifactLocation.uri.startsWith('/') && !p.artifactLocation.uri.includes('\\'), p.artifactLocation.uri);
        assert.ok(p.artifactLocation.uri.startsWith(`${t}/`), `${p.artifactLocation.uri} is under ${t}`);
        assert.equal(r.properties.run, t);
        assert.ok(['error', 'warning', 'note'].includes(r.level));
      }
    }
  });

  it('the racy run: both accesses, the context as related locations, one threadFlow per thread in time order', () => {
    const r = out.get(RACY_RUNS[1]!)!.runs[0]!.results.find((x) => x.ruleId === 'qemufile-concurrent-access')!;
    assert.equal(r.level, 'error');
    assert.equal(r.locations[0]!.physicalLocation.region.startLine, 4318);
    assert.equal(r.relatedLocations[0]!.physicalLocation.region.startLine, 4315);
    assert.match(r.relatedLocations[0]!.message.text, /owner write/);
    const flows = r.codeFlows[0]!.threadFlows;
    assert.deepEqual(flows.map((f) => f.id).sort(), ['src:migration:22587', 'src:rp:22585']);
    const orders = flows.flatMap((f) => f.locations.map((l) => ({ o: l.executionOrder, ts: l.properties.ts! })));
    const n = 1 + r.relatedLocations.length;
    assert.deepEqual(orders.map((x) => x.o).sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i + 1), 'every location once');
    for (const f of flows) {
      const ts = f.locations.map((l) => l.properties.ts!);
      assert.deepEqual(ts, [...ts].sort((a, b) => a - b), `${f.id} in time order`);
    }
    const byOrder = [...orders].sort((a, b) => a.o - b.o).map((x) => x.ts);
    assert.deepEqual(byOrder, [...byOrder].sort((a, b) => a - b), 'executionOrder follows time');
  });

  it('partialFingerprints: equal for two runs of the same scenario, free of TIDs, times, lines and pointers', () => {
    const [a, b] = RACY_RUNS.map((t) => out.get(t)!.runs[0]!.results);
    const race = (rs: typeof a) => rs!.find((x) => x.ruleId === 'qemufile-concurrent-access')!;
    assert.notEqual(race(a).locations[0]!.physicalLocation.region.startLine, race(b).locations[0]!.physicalLocation.region.startLine);
    assert.deepEqual(race(a).partialFingerprints, race(b).partialFingerprints);
    const keys = (rs: typeof a) => rs!.map((x) => x.partialFingerprints['migtrace/v2']).sort();
    assert.deepEqual(keys(a), keys(b), 'every finding of the scenario keeps its key');
    for (const doc of out.values()) {
      for (const r of doc.runs[0]!.results) {
        const fp = r.partialFingerprints['migtrace/v2']!;
        assert.ok(fp.startsWith(`${r.ruleId}|`));
        assert.doesNotMatch(fp, /\d{3,}|0x[0-9a-f]{2,}|\s/i, fp);
      }
    }
  });

  it('the fingerprint ignores pointer values in the object, TIDs, times and lines', () => {
    const f = (n: number) =>
      finding({ object: `QEMUFile 0x55${n}f00`, locations: [loc({ tid: n, ts: n, line: n }), loc({ role: 'rp', event: 'ev_b', tid: n + 1, ts: n + 1, line: n + 1 })] });
    const fp = (x: ReturnType<typeof f>) => (JSON.parse(renderSarif(report([run('r', [x])]))) as Sarif).runs[0]!.results[0]!.partialFingerprints;
    assert.deepEqual(fp(f(100)), fp(f(200)));
  });

  it('inconclusive rules become tool execution notifications; the execution still succeeded', () => {
    // A source trace alone: the destination rules cannot decide.
    const inv = out.get('fixtures/channel-before-pong')!.runs[0]!.invocations[0]!;
    assert.equal(inv.executionSuccessful, true);
    const inc = inv.toolExecutionNotifications.filter((n) => n.level === 'warning');
    assert.ok(inc.some((n) => n.associatedRule?.id === 'preempt-quit-stuck'));
    for (const n of inc) assert.match(n.message.text, /^fixtures\/channel-before-pong: \S+ is inconclusive: /);
    assert.ok(inc.some((n) => /no destination trace/.test(n.message.text)));
  });

  it('URIs are relative to the working directory even when the run is given as an absolute path', async () => {
    const r = await cli(['check', join(ROOT, RACY_RUNS[1]!), '-f', 'sarif', '-q']);
    const doc = JSON.parse(r.stdout) as Sarif;
    assert.equal(doc.runs[0]!.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri, `${RACY_RUNS[1]}/src.log`);
  });

  it('paths with spaces or # are percent-encoded URI references', () => {
    const doc = JSON.parse(renderSarif(report([run('r', [finding({ locations: [loc({ file: '/repo/my runs/#1/src.log' })] })])]), { cwd: '/repo' })) as Sarif;
    assert.equal(doc.runs[0]!.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri, 'my%20runs/%231/src.log');
  });
});
