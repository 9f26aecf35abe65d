// The HTML report (`check --html`, `timeline --html`): one self-contained file — inline CSS, JS and
// SVG, no network (a CSP forbids it) — with per run an interactive timeline (lanes per thread,
// QEMUFile owner spans and access windows, state bands, finding markers; zoom, pan, tooltips),
// the findings linked to their events, the inferred version/mode and the data-quality figures.
// Pure: a function of the analysis result and the timeline data to a string (and of the page's
// two fixed assets, read once: the stylesheet html.css and the page script, typed modules in
// html-client/ that the build bundles into dist/src/report/html-client.js).
//
// Escaping: every text that goes into markup passes esc(); the per-run data goes into a
// <script type="application/json"> with <, >, & and U+2028/9 escaped, so no trace line can close
// the element; the page's script inserts text with textContent only.
import { readFileSync } from 'node:fs';
import { binaryInputs, placeOf } from './place.js';
import type { RunData } from './html-client/data.js';
import { computeSpans } from '../timeline/spans.js';
import { planTracks } from '../timeline/tracks.js';
import { initialView } from '../timeline/windows.js';
import type { TimelineData } from '../timeline/types.js';
import type { Finding, Report, RunResult } from '../types.js';
import { evidenceText } from './evidence.js';

export interface HtmlRun {
  run: RunResult;
  data: TimelineData;
}

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** JSON safe inside a <script> element: nothing in it can end the element or the script. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** The data the page's script draws from; times are µs relative to the run's first event. */
/** The page's data for one run: RunData (html-client/data.ts) is the contract both ends are checked against. */
export function htmlPayload(run: RunResult, data: TimelineData): RunData {
  const spans = computeSpans(data, run);
  const rel = (t: number) => t - data.t0;
  const names: string[] = [];
  const nameId = new Map<string, number>();
  // x: the trace line; c=1 when it is the log backend's `TID@sec.usec:name…` and only the part
  // after the name is stored (the page rebuilds the rest): about half the size of a report.
  const ev = { t: [] as number[], l: [] as number[], n: [] as number[], i: [] as number[], ln: [] as number[], x: [] as string[], c: [] as number[], k: [] as number[], f: [] as number[] };
  const index = new Map<string, number>();
  data.events.forEach((e, i) => {
    let id = nameId.get(e.name);
    if (id === undefined) {
      id = names.length;
      names.push(e.name);
      nameId.set(e.name, id);
    }
    ev.t.push(rel(e.t));
    ev.l.push(e.lane);
    ev.n.push(id);
    ev.i.push(e.input);
    ev.ln.push(e.line);
    const tid = data.lanes[e.lane]?.tid ?? null;
    const prefix = tid !== null && data.timeBase === 'trace' ? `${tid}@${absTime(e.t)}:${e.name}` : null;
    const compact = prefix !== null && e.text.startsWith(prefix);
    ev.x.push(compact ? e.text.slice((prefix as string).length) : e.text);
    ev.c.push(compact ? 1 : 0);
    ev.k.push(e.key ? 1 : 0);
    ev.f.push(e.findings.length ? (e.findings[0] as number) : -1);
    index.set(`${e.input}:${e.line}`, i);
  });
  const laneByTid = new Map(data.lanes.filter((l) => l.tid !== null).map((l) => [`${l.side}:${l.tid}`, l.id]));
  const markers: Array<{ f: number; loc: number; ev: number; t: number; lane: number }> = [];
  const findings = run.findings.map((f: Finding, fi) => ({
    rule: f.rule,
    severity: f.severity,
    evidence: evidenceText(f.evidence),
    object: f.object ?? null,
    message: f.message,
    locations: f.locations.map((l, li) => {
      const input = data.inputs.indexOf(l.file);
      const evIdx = index.get(`${input}:${l.line}`) ?? -1;
      const t = evIdx >= 0 ? (ev.t[evIdx] as number) : l.ts === null ? null : rel(Math.round(l.ts * 1e6));
      const lane = evIdx >= 0 ? (ev.l[evIdx] as number) : (laneByTid.get(`${l.side}:${l.tid}`) ?? -1);
      if (t !== null && lane >= 0) markers.push({ f: fi, loc: li, ev: evIdx, t, lane });
      return { file: l.file, line: l.line, event: l.event, note: l.note ?? null, text: l.text ?? null, t, lane, ev: evIdx, role: l.role, tid: l.tid, side: l.side };
    }),
  }));
  const h = data.histogram;
  return {
    name: run.name,
    t0: data.t0,
    tEnd: rel(data.tEnd),
    timeBase: data.timeBase,
    inputs: data.inputs,
    lanes: data.lanes.map((l) => ({ label: l.label, side: l.side, role: l.role, tid: l.tid, first: l.first === null ? null : rel(l.first), last: l.last === null ? null : rel(l.last), exited: l.exited, events: l.events })),
    names,
    ev,
    hist: { w: h.width, o: rel(h.origin), names: h.names, cells: h.cells.flat() },
    contextComplete: data.contextComplete,
    windows: data.windows.map((w) => ({ from: rel(w.from), to: rel(w.to), reasons: w.reasons, aggregated: w.aggregated })),
    initial: initialView(data, run).map(rel),
    tracks: planTracks(data, spans),
    states: spans.states.map((s) => ({ side: s.side, state: s.state, from: rel(s.from), to: rel(s.to), open: s.open })),
    owners: spans.owners.map((o) => ({ file: o.file, lane: o.lane, from: rel(o.from), to: rel(o.to), open: o.open, why: o.why })),
    access: spans.windows.map((w) => ({ kind: w.kind, file: w.file, lane: w.lane, from: rel(w.from), to: rel(w.to), open: w.open, label: w.label, conflict: w.conflict })),
    markers,
    findings,
  };
}

/** µs since the epoch as QEMU prints it: sec.usec. */
function absTime(t: number): string {
  const sec = Math.floor(t / 1e6);
  return `${sec}.${String(t - sec * 1e6).padStart(6, '0')}`;
}

function verdictBadge(r: RunResult): string {
  const cls = r.verdict === 'findings' ? 'bad' : r.verdict === 'inconclusive' ? 'warn' : 'ok';
  return `<span class="badge ${cls}">${esc(r.verdict.toUpperCase())}</span>`;
}

function inference(r: RunResult): string {
  const src = r.qemu.src;
  const dst = r.qemu.dst;
  const compat = r.mode.compatPre72 === null ? 'unknown' : r.mode.compatPre72 ? 'yes' : 'no';
  const evidence = [...src.evidence.map((e) => ['src', e] as const), ...dst.evidence.map((e) => ['dst', e] as const), ...r.mode.evidence.map((e) => ['mode', e] as const)];
  return `<dl class="facts">
<dt>QEMU source</dt><dd>${esc(src.range)}${src.writerModel && src.writerModel !== 'unknown' ? ` · urgent pages by the ${esc(src.writerModel)}` : ''}</dd>
<dt>QEMU destination</dt><dd>${esc(dst.range)}${dst.cleanupThread && dst.cleanupThread !== 'unknown' ? ` · cleanup on the ${esc(dst.cleanupThread)} thread` : ''}</dd>
<dt>Mode</dt><dd>postcopy ${r.mode.postcopy ? 'yes' : 'no'} · preempt ${r.mode.preempt ? 'yes' : 'no'} · x-preempt-pre-7-2 compat ${esc(compat)}</dd>
</dl>
${evidence.length ? `<details class="evidence"><summary>Inference evidence (${evidence.length})</summary><ul>${evidence.map(([k, e]) => `<li><b>${esc(k)}</b> ${esc(e.claim)}${e.file ? ` <code>${esc(e.file)}${e.line ? `:${e.line}` : ''}</code>` : ''}</li>`).join('')}</ul></details>` : ''}`;
}

function dataQuality(r: RunResult, data: TimelineData): string {
  const rows = r.dataQuality.perInput
    .map(
      (p) =>
        `<tr><td><code>${esc(p.path)}</code></td><td>${p.lines}</td><td>${p.events}</td><td>${p.messages}</td><td>${p.unparsed}</td><td>${p.eventsWithoutTid}</td><td>${p.eventsWithoutTs}</td><td>${p.outOfOrder}</td></tr>`,
    )
    .join('');
  const notes = [...r.dataQuality.notes, ...data.notes];
  const samples = r.dataQuality.unparsedSamples.slice(0, 10);
  return `<table class="dq"><thead><tr><th>input</th><th>lines</th><th>events</th><th>messages</th><th>unparsed</th><th>no TID</th><th>no time</th><th>out of order</th></tr></thead><tbody>${rows}</tbody></table>
<p class="muted">Timeline: ${data.keptEvents} of ${data.totalEvents} events kept individually${data.contextComplete ? '' : ' (the rest as per-bucket counts)'}; ${r.dataQuality.unassignedTids.length} thread${r.dataQuality.unassignedTids.length === 1 ? '' : 's'} without a migration role.</p>
${notes.length ? `<ul class="notes">${notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}
${samples.length ? `<details><summary>Unparsed lines (${r.stats.unparsed})</summary><ul>${samples.map((s) => `<li><code>${esc(s.file)}:${s.line}</code> ${esc(s.reason)}: <code>${esc(s.text)}</code></li>`).join('')}</ul></details>` : ''}`;
}

function findingsHtml(r: RunResult, runIdx: number): string {
  if (!r.findings.length) return '<p class="muted">No findings.</p>';
  const binary = binaryInputs(r);
  return `<ol class="findings">${r.findings
    .map(
      (f, fi) => `<li class="finding sev-${esc(f.severity)}" id="r${runIdx}-f${fi}">
<div class="fhead"><span class="fnum">${fi + 1}</span> <span class="sev">${esc(f.severity.toUpperCase())}</span> <b>${esc(f.rule)}</b> [${esc(evidenceText(f.evidence))}]${f.object ? ` on <code>${esc(f.object)}</code>` : ''}</div>
<p>${esc(f.message)}</p>
<ul class="locs">${f.locations
        .map(
          (l, li) =>
            `<li><button class="loc" data-run="${runIdx}" data-f="${fi}" data-l="${li}" title="Show on the timeline">${esc(placeOf(l, binary))}</button> <span class="who">${esc(l.side ?? '?')}:${esc(l.role)} ${l.tid ?? ''}</span> <code>${esc(l.event)}</code>${l.note ? `<div class="note">${esc(l.note)}</div>` : ''}</li>`,
        )
        .join('')}</ul>
${f.commits.length ? `<div class="muted">guards QEMU ${f.commits.map(esc).join(', ')}</div>` : ''}</li>`,
    )
    .join('')}</ol>`;
}

function rulesHtml(r: RunResult): string {
  const items = [
    ...r.inconclusive.map((i) => `<li><b>${esc(i.rule)}</b>: inconclusive — ${esc(i.reason)}</li>`),
    ...r.notApplicable.map((n) => `<li><b>${esc(n.rule)}</b>: not applicable — ${esc(n.reason)}</li>`),
  ];
  return items.length ? `<ul class="rules">${items.join('')}</ul>` : '';
}

function runSection(h: HtmlRun, i: number, open: boolean): string {
  const r = h.run;
  return `<a id="run-${i}"></a><details class="run" data-run="${i}"${open ? ' open' : ''}>
<summary><span class="runname">${esc(r.name)}</span> ${verdictBadge(r)} <span class="muted">${r.findings.length} finding${r.findings.length === 1 ? '' : 's'} · ${r.stats.events} events</span></summary>
<div class="runbody">
<div class="top">${inference(r)}</div>
<div class="toolbar" role="toolbar" aria-label="Timeline controls">
<button data-act="in" title="Zoom in (or mouse wheel)">+</button><button data-act="out" title="Zoom out">−</button><button data-act="left" title="Pan left (or drag)">◀</button><button data-act="right" title="Pan right">▶</button><button data-act="focus" title="The windows around the findings and the end of postcopy">Focus</button><button data-act="fit" title="The whole run">Whole run</button>
<span class="wins"></span><span class="view muted"></span>
</div>
<div class="chart"><svg class="tl" role="img" aria-label="Timeline of ${esc(r.name)}"></svg></div>
<div class="legend muted"><span class="sw win"></span> selected window <span class="sw ev"></span> event <span class="sw bar"></span> several events in one pixel (height: count) <span class="sw agg"></span> counted, not kept <span class="sw own"></span> owner of a QEMUFile <span class="sw acc"></span> access window <span class="sw conf"></span> access window in a finding <span class="dia">◆</span> finding's event · wheel: zoom · drag: pan · click a location below to jump to it</div>
<h3>Findings</h3>
${findingsHtml(r, i)}
${rulesHtml(r)}
<h3>Data quality</h3>
${dataQuality(r, h.data)}
</div>
<script type="application/json" class="run-data">${jsonForScript(htmlPayload(r, h.data))}</script>
</details>`;
}

/** A batch opens on its totals and one row per run (verdict, findings by rule and evidence, link to the run). */
function batchSummary(report: Report, runs: HtmlRun[]): string {
  if (runs.length < 2 && !report.unusable?.length) return '';
  const by = (v: string) => runs.filter((h) => h.run.verdict === v).length;
  const rows = runs
    .map((h, i) => {
      const r = h.run;
      const tags = new Map<string, number>();
      for (const f of r.findings) {
        const t = `${f.severity} ${f.rule} [${evidenceText(f.evidence)}]`;
        tags.set(t, (tags.get(t) ?? 0) + 1);
      }
      const what = [...tags].map(([t, n]) => esc(n > 1 ? `${t} ×${n}` : t)).join('<br>') || (r.inconclusive.length ? esc(`undecided: ${r.inconclusive.map((x) => x.rule).join(', ')}`) : '—');
      return `<tr><td>${verdictBadge(r)}</td><td style="text-align:left"><a href="#run-${i}">${esc(r.name)}</a></td><td style="text-align:left">${what}</td></tr>`;
    })
    .join('');
  const unusable = (report.unusable ?? []).map((u) => `<tr><td><span class="badge bad">NOT CHECKED</span></td><td style="text-align:left">${esc(u.run)}</td><td style="text-align:left">${esc(u.error)}</td></tr>`).join('');
  return `<section class="summary"><h3>Summary: ${runs.length + (report.unusable?.length ?? 0)} runs — ${by('findings')} with findings, ${by('inconclusive')} inconclusive, ${by('clean')} clean${report.unusable?.length ? `, ${report.unusable.length} not checked` : ''}</h3>
<table class="dq"><thead><tr><th>verdict</th><th style="text-align:left">run</th><th style="text-align:left">findings</th></tr></thead><tbody>${rows}${unusable}</tbody></table></section>`;
}

export function renderHtmlReport(report: Report, runs: HtmlRun[]): string {
  const title = runs.length === 1 ? `migtrace · ${runs[0]?.run.name ?? ''}` : `migtrace · ${runs.length} runs`;
  const first = runs.findIndex((h) => h.run.verdict !== 'clean');
  const sections = runs.map((h, i) => runSection(h, i, runs.length === 1 || i === (first < 0 ? 0 : first))).join('\n');
  const { css, script } = pageAssets();
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>
${css}</style>
</head>
<body>
<header><h1>migtrace</h1><span class="muted">${esc(report.tool.name)} ${esc(report.tool.version)} · QEMUFile ownership and postcopy-preempt shutdown · ${runs.length} run${runs.length === 1 ? '' : 's'}</span></header>
<main>
${batchSummary(report, runs)}
${sections}
</main>
<div id="tip" role="tooltip" hidden></div>
<script>
${script}</script>
</body>
</html>
`;
}

let assets: { css: string; script: string } | null = null;

/** The stylesheet (shipped as src/report/html.css) and the bundled page script (made by
 *  `npm run build`, scripts/build-html-client.mjs), read on first use. */
function pageAssets(): { css: string; script: string } {
  if (assets) return assets;
  const read = (url: URL, what: string): string => {
    try {
      return readFileSync(url, 'utf8');
    } catch (e) {
      throw new Error(`the HTML report's ${what} is missing (${(e as Error).message}); run npm run build`);
    }
  };
  assets = {
    css: read(new URL('../../../src/report/html.css', import.meta.url), 'stylesheet'),
    script: read(new URL('./html-client.js', import.meta.url), 'page script'),
  };
  return assets;
}
