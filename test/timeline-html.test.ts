// The HTML report as text: self-contained (no network, no external assets), everything escaped,
// the per-run data readable back; and writeHtmlReport (what `check --html FILE` calls) on a real run.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { HTML_LIMITS } from '../src/cli/commands/timeline.js';
import { analyzeWithTimeline } from '../src/cli/analyze-timeline.js';
import { writeHtmlReport } from '../src/cli/html-report.js';
import { loadCatalog, rowsFor } from '../src/model/catalog.js';
import type { TraceRecord } from '../src/ingest/trace-input.js';
import { esc, jsonForScript, renderHtmlReport } from '../src/report/html.js';
import { TimelineCollector } from '../src/timeline/collect.js';
import { htmlCollector } from '../src/timeline/limits.js';
import { analyzeRun } from '../src/replay/run.js';
import type { RunResult } from '../src/types.js';
import { ROOT, tempRun } from './helpers.js';
import { RULES } from '../src/rules/index.js';

const catalog = loadCatalog();
const EVIL = `</script><script>alert(1)</script><img src=x onerror=alert(2)> & "q" 'a' \u2028`;

function evilRun(): RunResult {
  const loc = { file: 'src.log', line: 2, tid: 12, role: 'rp' as const, side: 'src' as const, event: 'postcopy_preempt_send_host_page', ts: 1700000000.000002, text: EVIL, note: EVIL };
  return {
    name: `run ${EVIL}`,
    inputs: [{ path: 'src.log', side: 'src', sideEvidence: EVIL, format: 'log' }],
    qemu: { src: { range: '>=8.0', writerModel: 'return-path-thread (>=8.0)', evidence: [{ claim: EVIL, file: 'src.log', line: 1 }] }, dst: { range: 'unknown', evidence: [] } },
    mode: { postcopy: true, preempt: true, compatPre72: true, evidence: [] },
    verdict: 'findings',
    verdictReasons: [],
    findings: [{ rule: 'qemufile-concurrent-access', severity: 'error', message: EVIL, evidence: { kind: 'interleaved', qualifier: EVIL }, commits: ['6621883f93'], object: 'postcopy_qemufile_src', locations: [loc] }],
    inconclusive: [{ rule: 'x', reason: EVIL }],
    notApplicable: [],
    rulesChecked: [],
    threads: [{ side: 'src', tid: 12, role: 'rp', how: 'test', events: 2 }],
    stats: { lines: 2, events: 2, messages: 0, unparsed: 1 },
    dataQuality: { perInput: [], unparsedSamples: [{ file: 'src.log', line: 3, text: EVIL, reason: EVIL }], unassignedTids: [], notes: [EVIL] },
  } as RunResult;
}

function evilHtml(): string {
  const run = evilRun();
  const c = new TimelineCollector({ select: { kind: 'auto', marginUs: 3000 }, ...HTML_LIMITS });
  const add = (r: TraceRecord & { kind: 'event' }) => c.onEvent(r, { rows: rowsFor(catalog, r.name, r.args), role: 'rp' });
  add({ kind: 'event', name: 'source_return_path_thread_entry', side: 'src', args: '', tid: 12, ts: 1700000000000001, input: 0, line: 1, raw: '12@1700000000.000001:source_return_path_thread_entry' });
  add({ kind: 'event', name: 'postcopy_preempt_send_host_page', side: 'src', args: EVIL, tid: 12, ts: 1700000000000002, input: 0, line: 2, raw: `12@1700000000.000002:postcopy_preempt_send_host_page ${EVIL}` });
  return renderHtmlReport({ tool: { name: 'migtrace', version: '0.0.0' }, runs: [run] }, [{ run, data: c.finish(run) }]);
}

describe('HTML report: self-contained and escaped', () => {
  const html = evilHtml();
  it('no markup from the trace or the analysis reaches the page unescaped', () => {
    assert.equal((html.match(/<script\b/g) ?? []).length, 2, 'the data block and the page script, nothing else');
    assert.equal((html.match(/<\/script>/g) ?? []).length, 2);
    assert.doesNotMatch(html, /<img/);
    assert.match(html, /&lt;img src=x onerror=alert\(2\)&gt; &amp; &quot;q&quot; &#39;a&#39;/);
    for (const m of html.matchAll(/<script[^>]*>([\s\S]*?)<\/script>/g)) assert.doesNotMatch(m[1] as string, /\u2028/, 'a raw line separator would end a JS string in older engines');
  });
  it('the data block reads back intact', () => {
    const m = /<script type="application\/json" class="run-data">([\s\S]*?)<\/script>/.exec(html);
    assert.ok(m);
    const data = JSON.parse(m[1] as string) as { ev: { x: string[] }; findings: Array<{ message: string; locations: Array<{ ev: number }> }> };
    assert.ok(data.ev.x.some((x) => x.endsWith(EVIL.trimEnd())));
    assert.equal(data.findings[0]?.message, EVIL);
    assert.equal(data.findings[0]?.locations[0]?.ev, 1, 'the finding’s location is linked to its event (input path + line)');
  });
  it('loads nothing from anywhere: no external URL, a CSP that forbids it', () => {
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">/);
    assert.doesNotMatch(html, /\b(?:src|href)\s*=\s*["']?(?:https?:|\/\/)/i);
    assert.doesNotMatch(html, /@import|url\(\s*["']?(?:https?:|\/\/)/i);
    const urls = html.match(/https?:\/\/[^\s"'<>)]+/g) ?? [];
    assert.deepEqual([...new Set(urls)], ['http://www.w3.org/2000/svg'], 'only the SVG namespace name, which is not fetched');
  });
  it('esc and jsonForScript', () => {
    assert.equal(esc(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    assert.equal(jsonForScript({ s: '</script>&\u2029' }), '{"s":"\\u003c/script\\u003e\\u0026\\u2029"}');
  });
});

describe('writeHtmlReport (check --html FILE)', () => {
  it('writes one file with every run of the report, their findings linked to events', async () => {
    const runs = [];
    const timelines = [];
    const specOf = (name: string) => ({ name, inputs: ['src.log', 'dst.log'].map((f) => ({ path: join(ROOT, 'traces/10.0.13', name, f) })) });
    for (const name of ['c-postcopy-preempt-pre72-2', 'c-postcopy-preempt-1']) {
      // What check --html gives each run of a batch.
      const c = htmlCollector(true);
      const run = await analyzeRun(specOf(name), { rules: RULES, catalog, stuckAfterMs: 1000, maxUnparsedSamples: 20, observers: [c] });
      runs.push(run);
      timelines.push(c.finish(run));
    }
    const file = join(tempRun({}), 'sub', 'report.html');
    await writeHtmlReport({ tool: { name: 'migtrace', version: '0.1.0' }, runs }, timelines, file);
    const html = readFileSync(file, 'utf8');
    assert.equal((html.match(/<details class="run"/g) ?? []).length, 2);
    assert.match(html, /<details class="run" data-run="0" open>/, 'the run with findings opens');
    assert.match(html, /data-run="0" data-f="0" data-l="0" title="Show on the timeline">[^<]*src\.log:4318</);
    const blocks = [...html.matchAll(/<script type="application\/json" class="run-data">([\s\S]*?)<\/script>/g)].map((m) => JSON.parse(m[1] as string) as { lanes: Array<{ label: string }>; findings: Array<{ locations: Array<{ ev: number }> }>; ev: { t: number[] } });
    assert.deepEqual(
      blocks[0]?.lanes.map((l) => l.label).filter((l) => !l.includes('threads')),
      ['main 22579', 'migration 22587', 'rp 22585', 'main 22575', 'listen 22590', 'fault 22588', 'preempt 22589'],
    );
    assert.ok(blocks[0]?.findings[0]?.locations.every((l) => l.ev >= 0), 'every location of finding 1 is a kept event');
    // In a report of several runs, the events outside the selected windows are counts only.
    const kept = blocks[0]?.ev.t.length ?? 0;
    assert.ok(kept > 0 && kept < 21205, `a run of a batch keeps its windows' events, not all 21205 (kept ${kept})`);
    assert.match(html, /events outside the selected windows are shown as counts/);
    assert.match(html, /<a href="#run-0">c-postcopy-preempt-pre72-2<\/a>/, 'the summary at the top links the run');
    const alone = join(tempRun({}), 'alone.html');
    const { run: run0, data: data0 } = await analyzeWithTimeline(specOf('c-postcopy-preempt-pre72-2'), { rules: RULES, catalog, stuckAfterMs: 1000, maxUnparsedSamples: 20 }, { select: { kind: 'auto', marginUs: 3000 }, ...HTML_LIMITS });
    await writeHtmlReport({ tool: { name: 'migtrace', version: '0.1.0' }, runs: [run0] }, [data0], alone);
    const one = [...readFileSync(alone, 'utf8').matchAll(/<script type="application\/json" class="run-data">([\s\S]*?)<\/script>/g)].map((m) => JSON.parse(m[1] as string) as { ev: { t: number[] } });
    assert.equal(one[0]?.ev.t.length, 21205, 'a 21k-event run alone is embedded whole');
  });
  it('an unwritable file is a usage error naming it', async () => {
    const dir = tempRun({ f: 'x' });
    await assert.rejects(writeHtmlReport({ tool: { name: 'migtrace', version: '0' }, runs: [] }, [], join(dir, 'f', 'r.html')), /--html .*r\.html: cannot write/);
  });
});
