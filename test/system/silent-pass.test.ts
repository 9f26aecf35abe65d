// Never a silent pass, tried the hard way on the real positives in traces/ (runs whose expected
// verdict holds an error or warning): delete each catalogued event they contain, and each event
// family (the name's first two words), in turn; give one side only; cut both sides just before the
// offending access. No variant may come out clean (exit 0): either the regression is still
// reported, or a rule says what it is missing. (A clean run cut short: test/cut-traces.test.ts.)
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import { loadCatalog } from '../../src/model/catalog.js';
import { analyzeRun } from '../../src/replay/run.js';
import { RULES } from '../../src/rules/index.js';
import type { RunResult, Side } from '../../src/types.js';
import { realRunExpectations, ROOT, tempRun } from '../helpers.js';

const catalog = loadCatalog();
const expectations = realRunExpectations();
/** The real positives: their expected verdict holds an error or a warning. */
const POSITIVES = Object.entries(expectations)
  .filter(([, e]) => e.exitCode === 1)
  .map(([run]) => run)
  // One file per side: combined logs and per-thread folders are checked by their own tests.
  .filter((run) => !run.includes('twice') && (['src', 'dst'] as const).every((s) => existsSync(join(ROOT, 'traces', run, `${s}.log`))));

/** Lines of a log-format trace as [event name, line]. */
function parse(text: string): Array<{ name: string | null; ts: number | null; line: string }> {
  return text.split('\n').map((line) => {
    const m = /^(?:\d+@([\d.]+):|(\d{4}-\d\d-\d\dT[\d:.]+)Z )?([A-Za-z_][A-Za-z0-9_]*)(?: |$)/.exec(line);
    const ts = m?.[1] ? Number(m[1]) : m?.[2] ? Date.parse(`${m[2]}Z`) / 1000 : null;
    return { name: m?.[3] ?? null, ts, line };
  });
}

function family(name: string): string {
  return name.split('_').slice(0, 2).join('_');
}

async function check(files: Partial<Record<Side, string>>, ext = '.log'): Promise<{ code: number; run: RunResult }> {
  const dir = tempRun(Object.fromEntries(Object.entries(files).map(([side, text]) => [`${side}${ext}`, text])));
  const inputs = Object.keys(files).map((side) => ({ path: join(dir, `${side}${ext}`), side: side as Side }));
  const run = await analyzeRun({ name: dir, inputs }, { rules: RULES, catalog, stuckAfterMs: 1000, maxUnparsedSamples: 0, readers: 'inline' });
  return { code: exitCodeFor([run]), run };
}

function describeRun(r: RunResult): string {
  return `${r.verdict}; findings ${r.findings.map((f) => f.rule).join(',') || '-'}; clean rules ${r.rulesChecked.filter((id) => !r.findings.some((f) => f.rule === id) && !r.inconclusive.some((i) => i.rule === id) && !r.notApplicable.some((n) => n.rule === id)).join(',')}`;
}

describe('never a silent pass: real positives with evidence taken away', () => {
  for (const run of POSITIVES) {
    it(`${run}: each catalogued event and each family deleted, one side alone, both cut before the access`, async () => {
      const text = Object.fromEntries((['src', 'dst'] as const).map((s) => [s, readFileSync(join(ROOT, 'traces', run, `${s}.log`), 'utf8')])) as Record<Side, string>;
      const lines = { src: parse(text.src), dst: parse(text.dst) };
      const present = new Set([...lines.src, ...lines.dst].map((l) => l.name).filter((n): n is string => n !== null && catalog.byEvent.has(n)));
      const variants: Array<[string, (name: string) => boolean]> = [
        ...[...present].map((ev): [string, (n: string) => boolean] => [`without ${ev}`, (n) => n === ev]),
        ...[...new Set([...present].map(family))].map((fam): [string, (n: string) => boolean] => [`without ${fam}_*`, (n) => family(n) === fam]),
      ];
      const silent: string[] = [];
      for (const [what, drop] of variants) {
        const keep = (s: Side) => lines[s].filter((l) => l.name === null || !drop(l.name)).map((l) => l.line).join('\n');
        const { code, run: r } = await check({ src: keep('src'), dst: keep('dst') });
        if (code === 0) silent.push(`${what}: ${describeRun(r)}`);
      }
      for (const side of ['src', 'dst'] as const) {
        const { code, run: r } = await check({ [side]: text[side] });
        if (code === 0) silent.push(`${side} alone: ${describeRun(r)}`);
      }
      const full = await check(text);
      assert.equal(full.code, 1, `${run} itself: ${describeRun(full.run)}`);
      const access = full.run.findings.find((f) => f.severity !== 'info')!.locations[0]!;
      if (access.ts !== null) {
        const cut = (s: Side) => lines[s].filter((l) => l.ts === null || l.ts < access.ts!).map((l) => l.line).join('\n') + '\n';
        const { code, run: r } = await check({ src: cut('src'), dst: cut('dst') });
        if (code === 0) silent.push(`cut before ${access.event}: ${describeRun(r)}`);
      }
      assert.deepEqual(silent, [], `${run}: variants that came out clean`);
    });
  }
});

