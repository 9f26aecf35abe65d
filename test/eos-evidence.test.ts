// The race's evidence as a QEMU engineer checks it: the nearest owner write before and after the
// EOS with the time gaps, the counts before / inside / after the EOS window, and whether the
// inside writes predate the EOS. Expected values are read here from the trace lines themselves
// (a parse of our own, not the tool's), for real compat-mode runs of QEMU 10.0.13 and 11.1.3.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkJson, ROOT } from './helpers.js';

const RUNS = [
  'traces/10.0.13/c-postcopy-preempt-pre72-1',
  'traces/10.0.13/c-postcopy-preempt-pre72-2',
  'traces/10.0.13/cap-postcopy-preempt-compat-1',
  'traces/10.0.13-selfbuilt/c-postcopy-preempt-compat-simple-1',
  'traces/11.1.3/c-postcopy-preempt-compat-1',
  'traces/11.1.3/cap-postcopy-preempt-compat-1',
  'traces/11.1.3/cap-postcopy-preempt-compat-2',
];

interface Line {
  n: number;
  tid: string | null;
  us: number;
  event: string;
}

/** `TID@sec.usec:event` (QEMU <= 10.0) or `YYYY-MM-DDTHH:MM:SS[.frac]Z event` (>= 10.1), in microseconds. */
function parse(text: string): Line[] {
  const out: Line[] = [];
  text.split('\n').forEach((raw, i) => {
    const a = /^(\d+)@(\d+)\.(\d{6}):(\w+)/.exec(raw);
    if (a) return void out.push({ n: i + 1, tid: a[1]!, us: Number(a[2]) * 1e6 + Number(a[3]), event: a[4]! });
    const b = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?Z (\w+)/.exec(raw);
    if (b) out.push({ n: i + 1, tid: null, us: Date.parse(`${b[1]}Z`) * 1000 + Number((b[2] ?? '0').padEnd(6, '0')), event: b[3]! });
  });
  return out;
}

/** What the source log says about its one EOS window and the urgent-page writes around it. */
function fromTrace(run: string) {
  const lines = parse(readFileSync(join(ROOT, run, 'src.log'), 'utf8'));
  const one = (event: string) => {
    const hits = lines.filter((l) => l.event === event);
    assert.equal(hits.length, 1, `${run}: one ${event}`);
    return hits[0]!;
  };
  const begin = one('migration_completion_postcopy_end');
  const end = one('migration_completion_postcopy_end_after_complete');
  const writes = lines.filter((l) => l.event === 'postcopy_preempt_send_host_page');
  // One writer of urgent pages (the return-path thread) in a >= 8.0 source.
  assert.ok(new Set(writes.map((w) => w.tid)).size === 1, `${run}: urgent pages from one thread`);
  const before = writes.filter((w) => w.n < begin.n);
  const inside = writes.filter((w) => w.n > begin.n && w.n < end.n);
  const after = writes.filter((w) => w.n > end.n);
  const lastBefore = [...before, ...inside].at(-1) ?? null;
  const firstAfter = after[0] ?? null;
  const sectionEnds = lines.filter((l) => l.event === 'savevm_section_end' && l.n > begin.n && l.n < end.n && (l.tid === null || l.tid === begin.tid));
  const lastSectionEnd = sectionEnds.at(-1) ?? null;
  return {
    before: before.length,
    inside: inside.length,
    after: after.length,
    beforeLine: lastBefore?.n ?? null,
    beforeUs: lastBefore ? end.us - lastBefore.us : null,
    afterLine: firstAfter?.n ?? null,
    afterUs: firstAfter ? firstAfter.us - end.us : null,
    predate: inside.length && lastSectionEnd ? inside.every((w) => w.n < lastSectionEnd.n) : null,
  };
}

describe('qemufile-concurrent-access: nearest owner writes, gaps and counts match the trace lines', async () => {
  const { report } = await checkJson(...RUNS);
  for (const run of RUNS) {
    it(run, () => {
      const got = report.runs.find((r) => r.name === run);
      assert.ok(got, `${run} checked`);
      const f = got.findings.find((x) => x.rule === 'qemufile-concurrent-access');
      assert.ok(f?.details, `${run}: the race is reported`);
      const want = fromTrace(run);
      const d = f.details;
      assert.deepEqual(
        {
          before: d.ownerWritesBefore,
          inside: d.ownerWritesInside,
          after: d.ownerWritesAfter,
          beforeLine: d.nearestOwnerWriteBeforeLine,
          beforeUs: d.nearestOwnerWriteBeforeUs,
          afterLine: d.nearestOwnerWriteAfterLine,
          afterUs: d.nearestOwnerWriteAfterUs,
          predate: d.insideWritesPredateEos,
        },
        want,
      );
      // The text a person reads says the same.
      if (want.predate) assert.match(f.message, /predate the EOS itself/);
      if (want.predate === false) assert.match(f.message, /inside the window come after the last main-channel write .*, in the interval where the EOS is written/);
      if (want.afterLine !== null) assert.match(f.message, new RegExp(`Nearest after it: .*\\(src\\.log:${want.afterLine}\\)`));
      if (want.beforeLine !== null) assert.match(f.message, new RegExp(`Nearest before the EOS: .*\\(src\\.log:${want.beforeLine}\\)`));
    });
  }
});
