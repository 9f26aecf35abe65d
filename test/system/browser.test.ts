// The HTML report in a real browser: Debian's chromium driven by playwright-core (which downloads
// no browser). Opens the report of a real racy run and checks the lanes, the finding markers, a
// tooltip with the trace line, zoom/pan and the finding links; then a 100k-event run for speed.
// Saves test/artifacts/html-report.png (and docs/html-report.png with MIGTRACE_DOCS_SCREENSHOT=1).
//
// A system test (npm run test:system): .ci/run installs Chromium first (scripts/install-chromium.sh);
// the test installs nothing. Skips — saying why, on the console and in the test report — only when
// Chromium is not there or cannot be launched. Anything else fails.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it, type TestContext } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { HTML_LIMITS } from '../../src/cli/commands/timeline.js';
import { analyzeWithTimeline } from '../../src/cli/analyze-timeline.js';
import { writeHtmlReport } from '../../src/cli/html-report.js';
import { loadCatalog } from '../../src/model/catalog.js';
import { VERSION } from '../../src/cli/version.js';
import { ROOT, tempRun } from '../helpers.js';
import { RULES } from '../../src/rules/index.js';

const CHROMIUM = process.env.MIGTRACE_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test/artifacts');
const RUN = 'traces/10.0.13/c-postcopy-preempt-pre72-2';
const catalog = loadCatalog();

let browser: Browser | null = null;
let skipReason: string | null = null;

/** Why Chromium cannot be used, or null. */
function missingChromium(): string | null {
  if (existsSync(CHROMIUM)) return null;
  return `Chromium is not at ${CHROMIUM}: install it with scripts/install-chromium.sh (as .ci/run does), or set MIGTRACE_CHROMIUM to a Chromium binary`;
}

function skipIfNoBrowser(t: TestContext): boolean {
  if (!skipReason) return false;
  console.log(`browser test skipped: ${skipReason}`);
  t.skip(skipReason);
  return true;
}

async function report(runDir: string, file: string, name = runDir): Promise<void> {
  // Paths as a user in the repository would give them (they show in tooltips and the screenshot).
  const rel = relative(process.cwd(), runDir);
  const dir = rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : runDir;
  const spec = { name, inputs: ['src.log', 'dst.log'].map((f) => ({ path: join(dir, f) })).filter((i) => existsSync(i.path)) };
  const { run, data } = await analyzeWithTimeline(spec, { rules: RULES, catalog, stuckAfterMs: 1000, maxUnparsedSamples: 20 }, { select: { kind: 'auto', marginUs: 3000 }, ...HTML_LIMITS });
  await writeHtmlReport({ tool: { name: 'migtrace', version: VERSION }, runs: [run] }, [data], file);
}

async function open(file: string, width = 1400, height = 860): Promise<{ page: Page; errors: string[]; requests: string[] }> {
  const page = await (browser as Browser).newPage({ viewport: { width, height } });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(pathToFileURL(file).href);
  await page.waitForSelector('svg.tl .finding-marker, svg.tl text.lbl');
  return { page, errors, requests };
}

/** Hovers the first element matching `selector` that is not covered by another (markers sit on top of ticks). */
async function hoverVisible(page: Page, selector: string, which: 'first' | 'last' = 'first'): Promise<void> {
  const at = await page.evaluate(
    ([sel, last]) => {
      const all = Array.from(document.querySelectorAll(sel));
      if (last) all.reverse();
      for (const el of all) {
        const r = el.getBoundingClientRect();
        // Whole pixels: that is where the mouse lands (a 2.5 px tick beside a bar must be hit exactly).
        const x = Math.round(r.left + r.width / 2);
        const y = Math.round(r.top + r.height / 2);
        const hit = document.elementFromPoint(x, y);
        if (r.width > 0 && x > 0 && y > 0 && x < innerWidth && y < innerHeight && hit && el.contains(hit)) return { x, y };
      }
      return null;
    },
    [selector, which === 'last'] as const,
  );
  assert.ok(at, `an uncovered ${selector} on screen`);
  await page.mouse.move(at.x, at.y);
}

/** Index of the run's finding of `rule` (rules may be added before it). */
async function findingIndex(page: Page, rule: string): Promise<number> {
  const i = await page.evaluate((r) => (window as unknown as { migtraceViews: Array<{ d: { findings: Array<{ rule: string }> } }> }).migtraceViews[0]!.d.findings.findIndex((f) => f.rule === r), rule);
  assert.ok(i >= 0, `a ${rule} finding`);
  return i;
}

const viewSpan = async (page: Page) => {
  const text = (await page.locator('.view').first().textContent()) ?? '';
  const m = /view \+([\d.]+) … \+([\d.]+) s/.exec(text);
  assert.ok(m, `view label: ${text}`);
  return Number(m[2]) - Number(m[1]);
};

describe('HTML report in headless Chromium', () => {
  before(async () => {
    skipReason = missingChromium();
    if (skipReason) return;
    try {
      // --no-sandbox: CI containers run as root, where Chromium's sandbox refuses to start.
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    } catch (e) {
      skipReason = `Chromium at ${CHROMIUM} cannot be launched: ${String((e as Error).message).split('\n')[0]}`;
    }
  });
  after(async () => {
    await browser?.close();
  });

  it('a real racy run: lanes, finding markers, a tooltip with file:line and the trace line; nothing loaded from outside', async (t) => {
    if (skipIfNoBrowser(t)) return;
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, 'html-report.html');
    await report(join(ROOT, RUN), file, RUN);
    const { page, errors, requests } = await open(file);
    try {
      const labels = await page.locator('svg.tl text.lbl').allTextContents();
      for (const l of ['main 22579', 'migration 22587', 'rp 22585', 'main 22575', 'listen 22590', 'fault 22588', 'preempt 22589', 'postcopy_qemufile_src', 'postcopy_qemufile_dst', 'state']) {
        assert.ok(labels.includes(l), `lane ${l} in ${labels.join(', ')}`);
      }
      assert.deepEqual(await page.locator('svg.tl text.side').allTextContents(), ['source', 'destination']);
      // The opening view is the end of postcopy: every location of the race finding is on screen.
      const f = await findingIndex(page, 'qemufile-concurrent-access');
      const markers = page.locator(`svg.tl .finding-marker[data-f="${f}"]`);
      // One marker per location: the EOS access, the owner's nearest writes before and after it, context.
      assert.equal(await markers.count(), 6);
      const eos = `svg.tl .finding-marker[data-f="${f}"][data-l="0"]`;
      await hoverVisible(page, eos);
      const tip = page.locator('#tip');
      await tip.waitFor({ state: 'visible' });
      const text = (await tip.textContent()) ?? '';
      assert.match(text, new RegExp(`finding ${f + 1}: qemufile-concurrent-access \\[interleaved\\]`));
      assert.match(text, /c-postcopy-preempt-pre72-2\/src\.log:4318/);
      assert.match(text, /22587@1795635181\.989219:migration_completion_postcopy_end_after_complete/);
      // An ordinary event's tooltip: file:line and the line itself.
      await page.mouse.move(5, 5);
      await tip.waitFor({ state: 'hidden' });
      await hoverVisible(page, 'svg.tl rect.ev');
      await tip.waitFor({ state: 'visible' });
      assert.match((await tip.textContent()) ?? '', /\.log:\d+.*@\d+\.\d{6}:\w+/s);
      // For the picture: the owner's last write inside the EOS window, with its tooltip.
      await hoverVisible(page, `svg.tl .finding-marker[data-f="${f}"][data-l="1"]`);
      await tip.waitFor({ state: 'visible' });
      await page.screenshot({ path: join(ARTIFACTS, 'html-report.png') });
      if (process.env.MIGTRACE_DOCS_SCREENSHOT === '1') await page.screenshot({ path: join(ROOT, 'docs/html-report.png') });
      assert.deepEqual(errors, []);
      assert.deepEqual(requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:')), []);
    } finally {
      await page.close();
    }
  });

  it('zoom (buttons, wheel), pan (drag), whole run, and a finding location zooms to its event', async (t) => {
    if (skipIfNoBrowser(t)) return;
    const file = join(ARTIFACTS, 'html-report.html');
    if (!existsSync(file)) await report(join(ROOT, RUN), file, RUN);
    const { page, errors } = await open(file);
    try {
      const s0 = await viewSpan(page);
      await page.click('button[data-act="in"]');
      await page.waitForTimeout(50);
      const s1 = await viewSpan(page);
      assert.ok(Math.abs(s1 - s0 / 2) < s0 * 0.02, `zoom in halves the span: ${s0} → ${s1}`);
      const box = (await page.locator('svg.tl').boundingBox())!;
      await page.mouse.move(box.x + box.width * 0.6, box.y + 200);
      await page.mouse.wheel(0, 400);
      await page.waitForTimeout(50);
      assert.ok((await viewSpan(page)) > s1, 'wheel down zooms out');
      const before = (await page.locator('.view').textContent()) ?? '';
      await page.mouse.move(box.x + box.width * 0.7, box.y + 200);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.5, box.y + 200, { steps: 5 });
      await page.mouse.up();
      await page.waitForTimeout(50);
      assert.notEqual(await page.locator('.view').textContent(), before, 'drag pans');
      await page.click('button[data-act="fit"]');
      await page.waitForTimeout(50);
      assert.ok((await viewSpan(page)) > 5, 'whole run: the trace spans about 5.2 s');
      // The finding's second location (the last owner write inside the EOS window).
      const f = await findingIndex(page, 'qemufile-concurrent-access');
      await page.click(`button.loc[data-f="${f}"][data-l="1"]`);
      await page.waitForTimeout(50);
      assert.ok((await viewSpan(page)) < 0.01, 'zoomed to the event');
      assert.equal(await page.locator(`svg.tl .finding-marker.pulse[data-f="${f}"][data-l="1"]`).count(), 1);
      await page.locator('#tip').waitFor({ state: 'visible' });
      assert.match((await page.locator('#tip').textContent()) ?? '', /src\.log:4315.*postcopy_preempt_send_host_page ramblock pc\.ram offset 0x247b/s);
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });

  it('stays responsive with 100k events: per-pixel buckets when zoomed out, single events when zoomed in', async (t) => {
    if (skipIfNoBrowser(t)) return;
    // A synthetic postcopy: the rp thread writes a page every 20 µs for 2 s (100k events).
    const lines = ['1@1700000000.000000:migration_thread_setup_complete ', '1@1700000000.000010:postcopy_start ', '2@1700000000.000020:source_return_path_thread_entry '];
    for (let i = 0; i < 100_000; i++) {
      const us = 100 + i * 20;
      lines.push(`2@${1700000000 + Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}:postcopy_preempt_send_host_page ramblock pc.ram offset 0x${i.toString(16)}`);
    }
    lines.push('1@1700000002.000200:migration_completion_postcopy_end ', '1@1700000002.000300:migration_completion_postcopy_end_after_complete ');
    const dir = tempRun({});
    writeFileSync(join(dir, 'src.log'), `${lines.join('\n')}\n`);
    const file = join(dir, 'big.html');
    const spec = { name: 'synthetic 100k', inputs: [{ path: join(dir, 'src.log'), side: 'src' as const }] };
    const { run, data } = await analyzeWithTimeline(spec, { rules: RULES, catalog, stuckAfterMs: 1000, maxUnparsedSamples: 20 }, { select: { kind: 'auto', marginUs: 3000 }, ...HTML_LIMITS });
    await writeHtmlReport({ tool: { name: 'migtrace', version: 'test' }, runs: [run] }, [data], file);
    const { page, errors } = await open(file);
    try {
      assert.equal(await page.evaluate(() => (window as unknown as { migtraceViews: Array<{ d: { ev: { t: number[] } } }> }).migtraceViews[0]!.d.ev.t.length), 100_005);
      await page.click('button[data-act="fit"]');
      const ms = await page.evaluate(() => {
        const v = (window as unknown as { migtraceViews: Array<{ draw(): void }> }).migtraceViews[0]!;
        const t0 = performance.now();
        for (let i = 0; i < 5; i++) v.draw();
        return (performance.now() - t0) / 5;
      });
      console.log(`100k events: full redraw in ${ms.toFixed(1)} ms`);
      assert.ok(ms < 250, `a full redraw of 100k events takes ${ms.toFixed(1)} ms`);
      const nodes = await page.locator('svg.tl *').count();
      assert.ok(nodes < 5000, `${nodes} SVG nodes for 100k events: aggregated per pixel`);
      await hoverVisible(page, 'svg.tl rect.bk', 'last');
      assert.match((await page.locator('#tip').textContent()) ?? '', /\d+ events on rp 2.*×\d+ postcopy_preempt_send_host_page/s);
      for (let i = 0; i < 12; i++) await page.click('button[data-act="in"]');
      assert.ok((await page.locator('svg.tl rect.ev').count()) > 10, 'zoomed in: single events');
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });
});
