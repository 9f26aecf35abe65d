// The HTML report (`check --html`, `timeline --html`): one self-contained file — inline CSS, JS and
// SVG, no network (a CSP forbids it) — with per run an interactive timeline (lanes per thread,
// QEMUFile owner spans and access windows, state bands, finding markers; zoom, pan, tooltips),
// the findings linked to their events, the inferred version/mode and the data-quality figures.
// Pure: a function of the analysis result and the timeline data to a string.
//
// Escaping: every text that goes into markup passes esc(); the per-run data goes into a
// <script type="application/json"> with <, >, & and U+2028/9 escaped, so no trace line can close
// the element; the page's script inserts text with textContent only.
import { bucketize, lowerBound, niceStep, panView, zoomView } from '../timeline/aggregate.js';
import { computeSpans } from '../timeline/spans.js';
import { planTracks } from '../timeline/tracks.js';
import { initialView } from '../timeline/windows.js';
import type { TimelineData } from '../timeline/types.js';
import type { Finding, Report, RunResult } from '../types.js';

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
export function htmlPayload(run: RunResult, data: TimelineData): Record<string, unknown> {
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
    evidence: f.evidence,
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
  return `<ol class="findings">${r.findings
    .map(
      (f, fi) => `<li class="finding sev-${esc(f.severity)}" id="r${runIdx}-f${fi}">
<div class="fhead"><span class="fnum">${fi + 1}</span> <span class="sev">${esc(f.severity.toUpperCase())}</span> <b>${esc(f.rule)}</b> [${esc(f.evidence)}]${f.object ? ` on <code>${esc(f.object)}</code>` : ''}</div>
<p>${esc(f.message)}</p>
<ul class="locs">${f.locations
        .map(
          (l, li) =>
            `<li><button class="loc" data-run="${runIdx}" data-f="${fi}" data-l="${li}" title="Show on the timeline">${esc(l.file)}:${l.line}</button> <span class="who">${esc(l.side ?? '?')}:${esc(l.role)} ${l.tid ?? ''}</span> <code>${esc(l.event)}</code>${l.note ? `<div class="note">${esc(l.note)}</div>` : ''}</li>`,
        )
        .join('')}</ul>
<div class="muted">guards QEMU ${f.commits.map(esc).join(', ')}</div></li>`,
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
  return `<details class="run" data-run="${i}"${open ? ' open' : ''}>
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

export function renderHtmlReport(report: Report, runs: HtmlRun[]): string {
  const title = runs.length === 1 ? `migtrace · ${runs[0]?.run.name ?? ''}` : `migtrace · ${runs.length} runs`;
  const first = runs.findIndex((h) => h.run.verdict !== 'clean');
  const sections = runs.map((h, i) => runSection(h, i, runs.length === 1 || i === (first < 0 ? 0 : first))).join('\n');
  const shared = [lowerBound, bucketize, niceStep, zoomView, panView].map((f) => f.toString()).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header><h1>migtrace</h1><span class="muted">${esc(report.tool.name)} ${esc(report.tool.version)} · QEMUFile ownership and postcopy-preempt shutdown · ${runs.length} run${runs.length === 1 ? '' : 's'}</span></header>
<main>
${sections}
</main>
<div id="tip" role="tooltip" hidden></div>
<script>
${shared}
${CLIENT}
</script>
</body>
</html>
`;
}

const CSS = `
:root{--fg:#1f2933;--muted:#6b7280;--line:#e5e7eb;--bg:#fff;--panel:#f8fafc;--bad:#c81e1e;--warn:#b45309;--ok:#047857}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;gap:12px;align-items:baseline;padding:10px 18px;border-bottom:1px solid var(--line);background:var(--panel)}
h1{font-size:18px;margin:0}
h3{font-size:15px;margin:18px 0 6px}
main{padding:8px 18px 40px}
code,pre,.mono{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12.5px}
.muted{color:var(--muted)}
details.run{border:1px solid var(--line);border-radius:8px;margin:10px 0;background:var(--bg)}
details.run>summary{cursor:pointer;padding:8px 12px;font-size:15px;list-style-position:inside}
.runname{font-weight:600}
.runbody{padding:0 12px 12px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:700;color:#fff}
.badge.bad{background:var(--bad)}.badge.warn{background:var(--warn)}.badge.ok{background:var(--ok)}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:4px 0}
.facts dt{color:var(--muted)}.facts dd{margin:0}
.evidence{margin:2px 0 6px}.evidence ul{margin:4px 0;padding-left:20px;font-size:13px}
.toolbar{display:flex;flex-wrap:wrap;gap:6px;align-items:center;margin:8px 0 4px}
.toolbar button,.wins button{font:inherit;font-size:13px;padding:2px 10px;border:1px solid #cbd5e1;border-radius:6px;background:#fff;cursor:pointer}
.toolbar button:hover,.wins button:hover{background:#eef2ff}
.wins{display:inline-flex;gap:4px;flex-wrap:wrap}
.view{margin-left:auto;font-size:12.5px}
.chart{border:1px solid var(--line);border-radius:6px;overflow:hidden;background:#fff}
svg.tl{display:block;width:100%;user-select:none;cursor:grab;touch-action:none}
svg.tl.dragging{cursor:grabbing}
svg.tl text{font:11.5px system-ui,"DejaVu Sans",sans-serif;fill:var(--fg)}
svg.tl text.lbl{font-size:12px}
svg.tl text.small{font-size:10.5px;fill:#374151}
svg.tl text.side{font-weight:700;font-size:12.5px}
svg.tl .grid{stroke:#eef0f3}
svg.tl .finding-marker{cursor:pointer}
svg.tl .finding-marker.pulse path{stroke:#111;stroke-width:2.5}
.legend{font-size:12px;margin:6px 2px;display:flex;flex-wrap:wrap;gap:4px 10px;align-items:center}
.sw{display:inline-block;width:14px;height:10px;vertical-align:middle;border-radius:2px}
.sw.win{background:#c7d2fe;height:6px}.sw.ev{background:#2563eb;width:3px}.sw.bar{background:#60a5fa;width:4px;height:12px}.sw.agg{background:#cbd5e1}
.sw.own{background:#059669;height:6px}.sw.acc{background:#f59e0b;opacity:.6}.sw.conf{background:#dc2626;opacity:.6}
.dia{color:#dc2626}
ol.findings{padding-left:0;list-style:none;margin:0}
.finding{border-left:4px solid var(--line);padding:4px 10px;margin:8px 0;background:var(--panel);border-radius:0 6px 6px 0}
.finding.sev-error{border-color:var(--bad)}.finding.sev-warning{border-color:var(--warn)}.finding.sev-info{border-color:#0891b2}
.finding p{margin:4px 0}
.fnum{display:inline-block;min-width:20px;text-align:center;background:#dc2626;color:#fff;border-radius:10px;font-weight:700;font-size:12px}
.sev{font-weight:700}
.sev-error .sev{color:var(--bad)}.sev-warning .sev{color:var(--warn)}.sev-info .sev{color:#0891b2}
ul.locs{margin:4px 0;padding-left:18px}
ul.locs li{margin:2px 0}
button.loc{font:12.5px ui-monospace,"DejaVu Sans Mono",monospace;border:0;background:none;color:#1d4ed8;text-decoration:underline;cursor:pointer;padding:0}
.who{color:var(--muted);font-size:12.5px}
.note{color:#374151;font-size:13px;margin-left:4px}
table.dq{border-collapse:collapse;font-size:13px}
table.dq th,table.dq td{border:1px solid var(--line);padding:2px 8px;text-align:right}
table.dq th:first-child,table.dq td:first-child{text-align:left}
ul.notes,ul.rules{font-size:13px;padding-left:20px}
#tip{position:fixed;z-index:10;max-width:min(720px,90vw);background:#111827;color:#f9fafb;border-radius:6px;padding:7px 9px;font-size:12.5px;box-shadow:0 4px 14px rgba(0,0,0,.25);pointer-events:none}
#tip b{color:#fff}#tip .tt{font-family:ui-monospace,"DejaVu Sans Mono",monospace;white-space:pre-wrap;word-break:break-all;color:#d1fae5;margin-top:3px}
#tip .dim{color:#9ca3af}
`;

// The page's script. Plain ES2020 in a string (no template literals inside), run once per page.
const CLIENT = String.raw`
(function () {
  'use strict';
  var NS = 'http://www.w3.org/2000/svg';
  var ROLE = { main: '#64748b', migration: '#2563eb', rp: '#059669', multifd: '#0891b2', listen: '#7c3aed', fault: '#a16207', preempt: '#ea580c', other: '#94a3b8', all: '#475569', vcpu: '#94a3b8', 'io-task': '#94a3b8', unknown: '#94a3b8' };
  var STATE = { setup: '#e0e7ff', active: '#dbeafe', device: '#fde68a', 'postcopy-active': '#bbf7d0', 'postcopy-paused': '#fecaca', 'postcopy-recover': '#fed7aa', 'postcopy-recover-setup': '#fed7aa', completed: '#e5e7eb', failed: '#fca5a5', cancelled: '#fca5a5', cancelling: '#fecaca' };
  var GUTTER = 200, PAD_R = 14, AXIS = 30;
  var H = { side: 24, state: 20, file: 22, lane: 28 };
  var tip = document.getElementById('tip');
  var views = [];

  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function txt(parent, x, y, s, cls, anchor) {
    var t = el('text', { x: x, y: y }, parent);
    if (cls) t.setAttribute('class', cls);
    if (anchor) t.setAttribute('text-anchor', anchor);
    t.textContent = s;
    return t;
  }
  function fmtDur(us) {
    if (us < 1000) return Math.round(us) + ' µs';
    if (us < 1e6) return (us / 1000).toFixed(us < 10000 ? 2 : 1) + ' ms';
    return (us / 1e6).toFixed(3) + ' s';
  }
  function View(section, idx) {
    var d = JSON.parse(section.querySelector('script.run-data').textContent);
    this.d = d; this.idx = idx; this.section = section;
    this.svg = section.querySelector('svg.tl');
    this.hatch = 'hatch-' + idx;
    var nl = d.lanes.length, i;
    var per = [];
    for (i = 0; i < nl; i++) per.push([]);
    for (i = 0; i < d.ev.t.length; i++) per[d.ev.l[i]].push(i);
    this.laneIdx = per;
    this.laneT = per.map(function (ix) { var a = new Float64Array(ix.length); for (var j = 0; j < ix.length; j++) a[j] = d.ev.t[ix[j]]; return a; });
    // Histogram cells (events not kept one by one), per lane, by bucket middle.
    var hc = d.hist.cells, hl = [];
    for (i = 0; i < nl; i++) hl.push({ mid: [], count: [], name: [] });
    for (i = 0; i + 3 < hc.length; i += 4) {
      var lane = hl[hc[i + 1]];
      if (!lane) continue;
      lane.mid.push(d.hist.o + (hc[i] + 0.5) * d.hist.w); lane.count.push(hc[i + 3]); lane.name.push(hc[i + 2]);
    }
    this.hist = hl.map(function (h) {
      var order = h.mid.map(function (_, j) { return j; }).sort(function (a, b) { return h.mid[a] - h.mid[b]; });
      return { mid: Float64Array.from(order.map(function (j) { return h.mid[j]; })), count: order.map(function (j) { return h.count[j]; }), name: order.map(function (j) { return h.name[j]; }) };
    });
    this.lo = 0; this.hi = Math.max(1, d.tEnd);
    this.focus = this.focusView();
    this.v0 = this.focus[0]; this.v1 = this.focus[1];
    this.tips = [];
    this.sel = null;
    this.bind();
    this.windowButtons();
    this.draw();
  }
  View.prototype.focusView = function () {
    var a = this.d.initial[0], b = this.d.initial[1], pad = (b - a) * 0.04 + 50;
    return [Math.max(this.lo, a - pad), Math.min(this.hi, b + pad)];
  };
  View.prototype.line = function (i) {
    var d = this.d;
    return d.ev.c[i] ? d.lanes[d.ev.l[i]].tid + '@' + this.fmtAbs(d.ev.t[i]) + ':' + d.names[d.ev.n[i]] + d.ev.x[i] : d.ev.x[i];
  };
  View.prototype.x = function (t) { return GUTTER + (t - this.v0) / (this.v1 - this.v0) * this.plotW; };
  View.prototype.tAt = function (px) { return this.v0 + (px - GUTTER) / this.plotW * (this.v1 - this.v0); };
  View.prototype.fmtT = function (t, step) {
    if (this.d.timeBase === 'order') return 'L' + Math.round(t);
    var digits = step ? Math.max(0, Math.min(6, 6 - Math.floor(Math.log10(step)))) : 6;
    return '+' + (t / 1e6).toFixed(digits);
  };
  View.prototype.fmtAbs = function (t) {
    if (this.d.timeBase === 'order') return 'line ' + Math.round(t);
    var a = this.d.t0 + t, s = Math.floor(a / 1e6), u = String(Math.round(a - s * 1e6));
    while (u.length < 6) u = '0' + u;
    return s + '.' + u;
  };
  View.prototype.set = function (v) { this.v0 = v[0]; this.v1 = v[1]; this.schedule(); };
  View.prototype.schedule = function () {
    var self = this;
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(function () { self.pending = false; self.draw(); });
  };
  View.prototype.windowButtons = function () {
    var self = this, box = this.section.querySelector('.wins');
    this.d.windows.forEach(function (w, i) {
      var b = document.createElement('button');
      b.textContent = 'W' + (i + 1);
      b.title = w.reasons.join(', ') + ' (' + self.fmtT(w.from) + ' … ' + self.fmtT(w.to) + ' s)';
      b.addEventListener('click', function () { var pad = (w.to - w.from) * 0.05; self.set([Math.max(self.lo, w.from - pad), Math.min(self.hi, w.to + pad)]); });
      box.appendChild(b);
    });
  };
  View.prototype.bind = function () {
    var self = this, svg = this.svg, drag = null;
    svg.addEventListener('wheel', function (e) {
      e.preventDefault();
      var r = svg.getBoundingClientRect(), anchor = self.tAt(e.clientX - r.left);
      if (anchor < self.v0 || anchor > self.v1) anchor = (self.v0 + self.v1) / 2;
      var dy = e.deltaMode === 1 ? e.deltaY * 30 : e.deltaY;
      if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(dy)) {
        var dx = e.shiftKey ? dy : e.deltaX;
        self.set(panView(self.v0, self.v1, dx / self.plotW * (self.v1 - self.v0), self.lo, self.hi));
        return;
      }
      self.set(zoomView(self.v0, self.v1, Math.pow(1.0018, dy), anchor, self.lo, self.hi, 4));
    }, { passive: false });
    svg.addEventListener('pointerdown', function (e) {
      if (e.button !== 0) return;
      drag = { x: e.clientX, v0: self.v0, v1: self.v1, moved: false };
      svg.setPointerCapture(e.pointerId);
    });
    svg.addEventListener('pointermove', function (e) {
      if (drag) {
        var dx = e.clientX - drag.x;
        if (Math.abs(dx) > 2) { drag.moved = true; svg.classList.add('dragging'); hideTip(); }
        if (drag.moved) self.set(panView(drag.v0, drag.v1, -dx / self.plotW * (drag.v1 - drag.v0), self.lo, self.hi));
        return;
      }
      var t = e.target.closest ? e.target.closest('[data-tip]') : null;
      if (t && svg.contains(t)) showTip(self.tipContent(+t.getAttribute('data-tip')), e.clientX, e.clientY);
      else hideTip();
    });
    svg.addEventListener('pointerup', function () { drag = null; svg.classList.remove('dragging'); });
    svg.addEventListener('pointerleave', function () { if (!drag) hideTip(); });
    this.section.querySelector('.toolbar').addEventListener('click', function (e) {
      var b = e.target.closest('button[data-act]');
      if (!b) return;
      var span = self.v1 - self.v0, mid = (self.v0 + self.v1) / 2, act = b.getAttribute('data-act');
      if (act === 'in') self.set(zoomView(self.v0, self.v1, 0.5, mid, self.lo, self.hi, 4));
      else if (act === 'out') self.set(zoomView(self.v0, self.v1, 2, mid, self.lo, self.hi, 4));
      else if (act === 'left') self.set(panView(self.v0, self.v1, -span * 0.25, self.lo, self.hi));
      else if (act === 'right') self.set(panView(self.v0, self.v1, span * 0.25, self.lo, self.hi));
      else if (act === 'fit') self.set([self.lo, self.hi]);
      else if (act === 'focus') self.set(self.focus);
    });
    window.addEventListener('resize', function () { self.schedule(); });
  };
  View.prototype.tipContent = function (k) {
    var d = this.d, tp = this.tips[k], box = document.createElement('div'), self = this;
    if (!tp) return box;
    function line(s, cls, tag) { var e = document.createElement(tag || 'div'); if (cls) e.className = cls; e.textContent = s; box.appendChild(e); return e; }
    function names(list) {
      var m = {}, keys = [];
      list.forEach(function (p) { if (!(p[0] in m)) { m[p[0]] = 0; keys.push(p[0]); } m[p[0]] += p[1]; });
      keys.sort(function (a, b) { return m[b] - m[a]; });
      keys.slice(0, 6).forEach(function (n) { line('×' + m[n] + ' ' + n, 'tt'); });
      if (keys.length > 6) line('… ' + (keys.length - 6) + ' more kinds', 'dim');
    }
    if (tp.kind === 'e' || tp.kind === 'm') {
      var i = tp.ev;
      if (tp.kind === 'm') {
        var f = d.findings[tp.f], loc = f.locations[tp.l];
        line('finding ' + (tp.f + 1) + ': ' + f.rule + ' [' + f.evidence + ']', null, 'b');
        if (loc.note) line(loc.note);
        if (i < 0) { line(loc.file + ':' + loc.line, 'dim'); if (loc.text) line(loc.text, 'tt'); return box; }
      }
      line(d.inputs[d.ev.i[i]] + ':' + d.ev.ln[i], null, tp.kind === 'e' ? 'b' : 'div');
      line(d.lanes[d.ev.l[i]].label + ' · ' + this.fmtT(d.ev.t[i]) + ' s (' + this.fmtAbs(d.ev.t[i]) + ')', 'dim');
      line(this.line(i), 'tt');
      if (tp.kind === 'e' && d.ev.f[i] >= 0) line('named by finding ' + (d.ev.f[i] + 1));
    } else if (tp.kind === 'b') {
      var ix = this.laneIdx[tp.lane], list = [];
      for (var j = tp.i0; j < tp.i0 + tp.n; j++) list.push([d.names[d.ev.n[ix[j]]], 1]);
      line(tp.n + ' events on ' + d.lanes[tp.lane].label, null, 'b');
      line(this.fmtT(d.ev.t[ix[tp.i0]]) + ' … ' + this.fmtT(d.ev.t[ix[tp.i0 + tp.n - 1]]) + ' s · zoom in to see each', 'dim');
      names(list);
    } else if (tp.kind === 'h') {
      var h = this.hist[tp.lane], hl = [], total = 0;
      for (var q = tp.i0; q < tp.i1; q++) { hl.push([d.hist.names[h.name[q]], h.count[q]]); total += h.count[q]; }
      line('≈' + total + ' events on ' + d.lanes[tp.lane].label, null, 'b');
      line('outside the kept windows: counted per time bucket (' + fmtDur(d.hist.w) + '), not kept one by one', 'dim');
      names(hl);
    } else if (tp.kind === 'state') {
      var s = d.states[tp.i];
      line((s.side === 'src' ? 'source' : 'destination') + ' state: ' + s.state, null, 'b');
      line(this.fmtT(s.from) + ' … ' + (s.open ? 'end of trace' : this.fmtT(s.to)) + ' s (' + fmtDur(s.to - s.from) + ')', 'dim');
    } else if (tp.kind === 'own') {
      var o = d.owners[tp.i];
      line(o.file + ' owned by ' + d.lanes[o.lane].label, null, 'b');
      line(this.fmtT(o.from) + ' … ' + (o.open ? 'end of trace' : this.fmtT(o.to)) + ' s', 'dim');
      line(o.why);
    } else if (tp.kind === 'acc') {
      var a = d.access[tp.i];
      line(a.label, null, 'b');
      line((a.file ? a.file + ' · ' : '') + d.lanes[a.lane].label + ' · ' + this.fmtT(a.from) + ' … ' + (a.open ? 'end of trace (never closed)' : this.fmtT(a.to)) + ' s (' + fmtDur(a.to - a.from) + ')', 'dim');
      if (a.conflict) line('a finding names this window', null);
    } else if (tp.kind === 'win') {
      var w = d.windows[tp.i];
      line('window ' + (tp.i + 1) + ': ' + w.reasons.join(', '), null, 'b');
      line(this.fmtT(w.from) + ' … ' + this.fmtT(w.to) + ' s' + (w.aggregated ? ' · ' + w.aggregated + ' events over the limit, counted' : ''), 'dim');
    } else if (tp.kind === 'lane') {
      var ln = d.lanes[tp.lane];
      line(ln.label + ' (' + (ln.side || '?') + ')', null, 'b');
      line(ln.events + ' events' + (ln.first !== null ? ' · ' + self.fmtT(ln.first) + ' … ' + self.fmtT(ln.last) + ' s' : '') + (ln.exited ? ' · exited' : ''), 'dim');
    }
    return box;
  };
  View.prototype.addTip = function (node, tp) { this.tips.push(tp); node.setAttribute('data-tip', String(this.tips.length - 1)); };
  View.prototype.draw = function () {
    var d = this.d, svg = this.svg, self = this;
    var W = Math.max(480, this.section.querySelector('.chart').clientWidth);
    this.plotW = W - GUTTER - PAD_R;
    this.tips = [];
    var y = AXIS, rows = [];
    d.tracks.forEach(function (tr) { rows.push({ tr: tr, y: y }); y += H[tr.kind]; });
    var height = y + 8;
    svg.setAttribute('width', W); svg.setAttribute('height', height); svg.setAttribute('viewBox', '0 0 ' + W + ' ' + height);
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var defs = el('defs', {}, svg);
    var pat = el('pattern', { id: this.hatch, width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' }, defs);
    el('rect', { width: 6, height: 6, fill: '#fecaca' }, pat);
    el('line', { x1: 0, y1: 0, x2: 0, y2: 6, stroke: '#dc2626', 'stroke-width': 2.5 }, pat);
    var clipId = 'clip-' + this.idx;
    var cp = el('clipPath', { id: clipId }, defs);
    el('rect', { x: GUTTER, y: 0, width: this.plotW, height: height }, cp);
    var plot = el('g', { 'clip-path': 'url(#' + clipId + ')' }, svg);
    var v0 = this.v0, v1 = this.v1, span = v1 - v0;
    var X = function (t) { return self.x(t); };
    var clampX = function (t) { return Math.max(GUTTER - 2, Math.min(GUTTER + self.plotW + 2, X(t))); };
    // Kept windows (where every event is shown) as a faint background.
    d.windows.forEach(function (w, i) {
      if (w.to < v0 || w.from > v1) return;
      var r = el('rect', { x: clampX(w.from), y: AXIS - 6, width: Math.max(1, clampX(w.to) - clampX(w.from)), height: 6, fill: '#c7d2fe' }, plot);
      self.addTip(r, { kind: 'win', i: i });
      el('rect', { x: clampX(w.from), y: AXIS, width: Math.max(1, clampX(w.to) - clampX(w.from)), height: height - AXIS, fill: '#f5f7ff' }, plot);
    });
    // Axis and grid.
    var step = niceStep(span, this.plotW / 120);
    for (var t = Math.ceil(v0 / step) * step; t <= v1; t += step) {
      var gx = X(t);
      el('line', { x1: gx, x2: gx, y1: AXIS - 4, y2: height, class: 'grid' }, plot);
      if (gx > GUTTER + 18 && gx < GUTTER + this.plotW - 18) txt(plot, gx, AXIS - 10, this.fmtT(t, step), 'small', 'middle');
    }
    txt(svg, 8, 16, this.d.timeBase === 'order' ? 'line' : 's since first event', 'small');
    rows.forEach(function (r) { self.drawTrack(svg, plot, r.tr, r.y, X, clampX); });
    // Finding markers above everything (one number per cluster, so close markers stay legible).
    var lastLabel = {};
    // Reverse order: each finding's first location (the offending access) ends up on top.
    d.markers.slice().reverse().forEach(function (m) {
      if (m.t < v0 || m.t > v1) return;
      var row = rows.filter(function (r) { return r.tr.kind === 'lane' && r.tr.lane === m.lane; })[0];
      if (!row) return;
      var mx = X(m.t), my = row.y + H.lane / 2;
      var g = el('g', { class: 'finding-marker', 'data-f': m.f, 'data-l': m.loc }, plot);
      el('path', { d: 'M' + mx + ' ' + (my - 8) + 'l7 8l-7 8l-7 -8z', fill: '#dc2626', stroke: '#fff', 'stroke-width': 1.5 }, g);
      var lk = m.lane + ':' + m.f, near = (lastLabel[lk] = lastLabel[lk] || []).some(function (x) { return Math.abs(mx - x) < 16; });
      if (!near) { txt(g, mx + 8, my - 5, String(m.f + 1), 'small'); lastLabel[lk].push(mx); }
      self.addTip(g, { kind: 'm', f: m.f, l: m.loc, ev: m.ev });
      if (self.sel && self.sel.f === m.f && self.sel.l === m.loc) g.classList.add('pulse');
    });
    if (this.sel && this.sel.t >= v0 && this.sel.t <= v1) el('line', { x1: X(this.sel.t), x2: X(this.sel.t), y1: AXIS, y2: height, stroke: '#dc2626', 'stroke-dasharray': '3 3' }, plot);
    this.section.querySelector('.view').textContent = 'view ' + this.fmtT(v0, step / 10) + ' … ' + this.fmtT(v1, step / 10) + ' s (' + fmtDur(span) + ')';
  };
  View.prototype.drawTrack = function (svg, plot, tr, y, X, clampX) {
    var d = this.d, self = this, v0 = this.v0, v1 = this.v1, h = H[tr.kind];
    var vis = function (a, b) { return b >= v0 && a <= v1; };
    if (tr.kind === 'side') {
      el('line', { x1: 0, x2: GUTTER + this.plotW + PAD_R, y1: y + 0.5, y2: y + 0.5, stroke: '#cbd5e1' }, svg);
      txt(svg, 8, y + 16, tr.label, 'side');
      return;
    }
    if (tr.kind === 'state') {
      txt(svg, 18, y + 14, 'state', 'lbl');
      d.states.forEach(function (s, i) {
        if (s.side !== tr.side || !vis(s.from, s.to)) return;
        var x0 = clampX(s.from), x1 = clampX(s.to);
        var r = el('rect', { x: x0, y: y + 3, width: Math.max(1, x1 - x0), height: h - 6, fill: STATE[s.state] || '#e5e7eb', stroke: '#fff' }, plot);
        self.addTip(r, { kind: 'state', i: i });
        if (x1 - x0 > 60) txt(plot, Math.max(x0, GUTTER) + 4, y + 14, s.state, 'small');
      });
      return;
    }
    if (tr.kind === 'file') {
      txt(svg, 18, y + 15, tr.file, 'lbl');
      d.owners.forEach(function (o, i) {
        if (o.file !== tr.file || !vis(o.from, o.to)) return;
        var x0 = clampX(o.from), x1 = clampX(o.to), lane = d.lanes[o.lane];
        var r = el('rect', { x: x0, y: y + 8, width: Math.max(1, x1 - x0), height: 7, rx: 2, fill: ROLE[lane.role] || '#64748b', opacity: 0.85 }, plot);
        self.addTip(r, { kind: 'own', i: i });
        if (x1 - x0 > 120) txt(plot, Math.max(x0, GUTTER) + 4, y + 6.5, 'owner ' + lane.label, 'small');
      });
      d.access.forEach(function (a, i) {
        if (a.file !== tr.file || !vis(a.from, a.to)) return;
        var x0 = clampX(a.from), x1 = clampX(a.to);
        var r = el('rect', { x: x0, y: y + 3, width: Math.max(3, x1 - x0), height: h - 6, fill: a.conflict ? 'url(#' + self.hatch + ')' : '#fde68a', stroke: a.conflict ? '#dc2626' : '#d97706', opacity: 0.9 }, plot);
        self.addTip(r, { kind: 'acc', i: i });
        if (x1 - x0 > 90) txt(plot, Math.max(x0, GUTTER) + 4, y + 15, (a.kind === 'eos' ? 'EOS window' : a.kind === 'cleanup' ? 'cleanup' : a.kind) + ' · ' + d.lanes[a.lane].label, 'small');
      });
      return;
    }
    // A thread lane: label, lifetime, access windows it runs, events.
    var lane = d.lanes[tr.lane], colour = ROLE[lane.role] || '#64748b', mid = y + h / 2;
    el('rect', { x: 6, y: mid - 5, width: 8, height: 10, rx: 2, fill: colour }, svg);
    var label = txt(svg, 18, mid + 4, lane.label, 'lbl');
    this.addTip(label, { kind: 'lane', lane: tr.lane });
    el('line', { x1: 0, x2: GUTTER + this.plotW + PAD_R, y1: y + h - 0.5, y2: y + h - 0.5, stroke: '#f1f5f9' }, svg);
    if (lane.first !== null) {
      var end = lane.exited || lane.role === 'other' || lane.role === 'all' ? lane.last : d.tEnd;
      if (vis(lane.first, end)) el('line', { x1: clampX(lane.first), x2: clampX(end), y1: mid, y2: mid, stroke: colour, 'stroke-opacity': 0.35, 'stroke-width': 2 }, plot);
    }
    d.access.forEach(function (a, i) {
      if (!vis(a.from, a.to)) return;
      var x0 = clampX(a.from), x1 = clampX(a.to);
      if (a.lane === tr.lane) {
        var r = el('rect', { x: x0, y: y + 2, width: Math.max(3, x1 - x0), height: h - 4, fill: a.conflict ? '#fecaca' : '#fef3c7', 'fill-opacity': 0.8, stroke: a.conflict ? '#f87171' : '#fcd34d' }, plot);
        self.addTip(r, { kind: 'acc', i: i });
      } else if (a.conflict && a.file) {
        // The file's owner running during a conflicting window: the other side of the race, shaded lighter.
        var owns = d.owners.some(function (o) { return o.file === a.file && o.lane === tr.lane && o.from <= a.to && o.to >= a.from; });
        if (owns) el('rect', { x: x0, y: y + 2, width: Math.max(3, x1 - x0), height: h - 4, fill: '#fee2e2', 'fill-opacity': 0.7 }, plot);
      }
    });
    // Per-pixel buckets: one event → its tick; several → a bar whose height grows with the count.
    var PX = 3, nb = Math.max(1, Math.floor(this.plotW / PX));
    var hs = this.hist[tr.lane];
    if (hs.mid.length) {
      var hb = bucketize(hs.mid, v0, v1, nb);
      var k = hb.lo;
      for (var b = 0; b < nb; b++) {
        if (hb.counts[b] === 0) continue;
        var i0 = hb.first[b], i1 = i0 + hb.counts[b], total = 0;
        for (k = i0; k < i1; k++) total += hs.count[k];
        var hh = Math.min(h - 6, 4 + 3 * Math.log2(total + 1));
        var hr = el('rect', { class: 'hb', x: GUTTER + b * PX, y: mid - hh / 2, width: PX - 0.5, height: hh, fill: '#cbd5e1' }, plot);
        this.addTip(hr, { kind: 'h', lane: tr.lane, i0: i0, i1: i1 });
      }
    }
    var bk = bucketize(this.laneT[tr.lane], v0, v1, nb), ix = this.laneIdx[tr.lane];
    for (var c = 0; c < nb; c++) {
      var n = bk.counts[c];
      if (n === 0) continue;
      var first = bk.first[c];
      if (n === 1) {
        var ei = ix[first], key = d.ev.k[ei] === 1;
        var ex = X(d.ev.t[ei]);
        var r1 = el('rect', { class: 'ev', x: ex - 1, y: mid - (key ? 9 : 6), width: 2.5, height: key ? 18 : 12, fill: colour, opacity: key ? 1 : 0.75 }, plot);
        this.addTip(r1, { kind: 'e', ev: ei });
      } else {
        var bh = Math.min(h - 4, 8 + 3 * Math.log2(n));
        var r2 = el('rect', { class: 'bk', x: GUTTER + c * PX, y: mid - bh / 2, width: PX - 0.5, height: bh, fill: colour, opacity: 0.55 }, plot);
        this.addTip(r2, { kind: 'b', lane: tr.lane, i0: first, n: n });
      }
    }
  };
  View.prototype.reveal = function (f, l) {
    var loc = this.d.findings[f].locations[l];
    if (loc.t === null) return;
    var half = Math.max(150, Math.min(1500, (this.v1 - this.v0) / 2));
    this.sel = { f: f, l: l, t: loc.t };
    this.v0 = Math.max(this.lo, loc.t - half); this.v1 = Math.min(this.hi, loc.t + half);
    this.draw();
    this.svg.scrollIntoView({ block: 'center' });
    var m = this.svg.querySelector('.finding-marker[data-f="' + f + '"][data-l="' + l + '"]');
    if (m) {
      var rc = m.getBoundingClientRect();
      showTip(this.tipContent(+m.getAttribute('data-tip')), rc.right, rc.bottom);
    }
  };
  function showTip(content, cx, cy) {
    tip.textContent = '';
    tip.appendChild(content);
    tip.hidden = false;
    var w = tip.offsetWidth, h = tip.offsetHeight;
    var x = cx + 14, y = cy + 14;
    if (x + w > innerWidth - 4) x = Math.max(4, cx - w - 14);
    if (y + h > innerHeight - 4) y = Math.max(4, cy - h - 14);
    tip.style.left = x + 'px'; tip.style.top = y + 'px';
  }
  function hideTip() { tip.hidden = true; }

  function init(section, idx) {
    if (views[idx]) return views[idx];
    views[idx] = new View(section, idx);
    return views[idx];
  }
  document.querySelectorAll('details.run').forEach(function (sec) {
    var idx = +sec.getAttribute('data-run');
    if (sec.open) init(sec, idx);
    sec.addEventListener('toggle', function () { if (sec.open) { var v = init(sec, idx); v.schedule(); } });
  });
  document.addEventListener('click', function (e) {
    var b = e.target.closest && e.target.closest('button.loc');
    if (!b) return;
    var idx = +b.getAttribute('data-run'), sec = document.querySelector('details.run[data-run="' + idx + '"]');
    sec.open = true;
    init(sec, idx).reveal(+b.getAttribute('data-f'), +b.getAttribute('data-l'));
  });
  window.migtraceViews = views;
})();
`;
