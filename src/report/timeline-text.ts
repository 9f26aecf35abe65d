// `migtrace timeline` in the terminal: the rows laid out by timeline/rows.ts drawn as characters.
// Fits the given width (80 by default); colour only adds emphasis, every mark is also a character,
// so the view reads the same with chalk level 0. Trace text is stripped of control characters
// (a trace line must not be able to drive the terminal).
import chalk from 'chalk';
import { fmtDuration, layoutRows, visibleLanes, type Glyph, type TextRow } from '../timeline/rows.js';
import { contestedFiles } from '../timeline/spans.js';
import type { Lane, Spans, TimelineData, TlEvent } from '../timeline/types.js';
import type { RunResult } from '../types.js';
import { evidenceText } from './evidence.js';

export interface TimelineTextOptions {
  width: number;
  maxRowsPerWindow?: number;
}

const GLYPH: Record<Glyph, string> = { none: ' ', alive: '│', owns: '┃', window: '║', event: '●', finding: '◆', group: '×' };

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

export function clean(s: string): string {
  return s.replace(/\t/g, ' ').replace(CONTROL, '?');
}

function cut(s: string, width: number): string {
  if (width <= 0) return '';
  return s.length <= width ? s : `${s.slice(0, Math.max(0, width - 1))}…`;
}

export function fmtTime(t: number, data: TimelineData): string {
  if (data.timeBase === 'order') return `L${t}`;
  return `+${((t - data.t0) / 1e6).toFixed(6)}`;
}

function fmtAbs(t: number): string {
  return `${Math.floor(t / 1e6)}.${String(Math.round(t % 1e6)).padStart(6, '0')}`;
}

/** The event's text from its name on (the TID@time prefix is already in the columns). */
function eventText(e: TlEvent): string {
  const i = e.text.indexOf(e.name);
  return clean(i >= 0 ? e.text.slice(i) : e.text);
}

function laneCode(i: number): string {
  return i < 26 ? String.fromCharCode(65 + i) : String(i - 25);
}

export function renderTimelineText(data: TimelineData, spans: Spans, run: RunResult, opts: TimelineTextOptions): string {
  const width = Math.max(60, opts.width);
  const lanes = visibleLanes(data);
  const marked = contestedFiles(spans, run);
  const rows = layoutRows(data, spans, run, { maxRowsPerWindow: opts.maxRowsPerWindow ?? 60, markFiles: marked });
  const col = new Map(lanes.map((l, i) => [l.id, i]));
  const code = (laneId: number) => {
    const i = col.get(laneId);
    return i === undefined ? '?' : laneCode(i);
  };
  const out: string[] = [];
  const line = (s: string) => out.push(s);
  const dur = (us: number) => (data.timeBase === 'order' ? `${us} line${us === 1 ? '' : 's'}` : fmtDuration(us));

  // ---- header: what the run is, lanes, files, findings
  line(chalk.bold(cut(`migtrace timeline · ${clean(run.name)}`, width)));
  const src = run.qemu.src;
  const dst = run.qemu.dst;
  const writer = src.writerModel && src.writerModel !== 'unknown' ? ` (urgent pages: ${src.writerModel.startsWith('migration') ? 'migration' : 'rp'} thread)` : '';
  const cleanup = dst.cleanupThread && dst.cleanupThread !== 'unknown' ? ` (cleanup: ${dst.cleanupThread})` : '';
  line(cut(`qemu   src ${src.range}${writer} · dst ${dst.range}${cleanup}`, width));
  const mode = [run.mode.postcopy ? 'postcopy' : 'precopy', run.mode.preempt ? 'preempt' : null, run.mode.compatPre72 ? 'x-preempt-pre-7-2 compat' : null].filter(Boolean).join(' · ');
  line(cut(`mode   ${mode}`, width));
  if (data.timeBase === 'order') line(cut('time   no timestamps in this trace: rows are in line order (L = line number)', width));
  else line(cut(`time   seconds since ${fmtAbs(data.t0)} (first event); --from/--to take either`, width));
  for (const side of ['src', 'dst', null] as const) {
    const mine = lanes.filter((l) => l.side === side);
    if (!mine.length) continue;
    const items = mine.map((l) => `${code(l.id)} ${laneName(l)}`);
    wrapItems(side ?? '?', items);
  }
  for (const file of marked) {
    const owners = spans.owners.filter((o) => o.file === file);
    const wins = spans.windows.filter((w) => w.file === file);
    const parts = [
      ...owners.map((o) => `owner ${code(o.lane)} ${laneName(data.lanes[o.lane] as Lane)} ${fmtTime(o.from, data)}…${o.open ? 'end' : fmtTime(o.to, data)}`),
      ...wins.map((w) => `${w.kind === 'eos' ? 'EOS window' : w.kind === 'cleanup' ? 'cleanup' : w.kind} ${code(w.lane)} ${fmtTime(w.from, data)}…${w.open ? 'end' : fmtTime(w.to, data)}${w.conflict ? ' ✖' : ''}`),
    ];
    wrapItems('file', [file, ...parts], '  ');
  }
  line(cut(`marks  ● event  ◆ finding  × repeated  ┃ owns a file above  ║ in a window`, width));
  run.findings.forEach((f, i) => {
    const sev = f.severity === 'error' ? chalk.red.bold('ERROR') : f.severity === 'warning' ? chalk.yellow.bold('WARNING') : chalk.cyan.bold('INFO');
    const rest = cut(` ${f.rule} [${evidenceText(f.evidence)}]${f.object ? ` on ${f.object}` : ''}`, width - 5 - String(i + 1).length - f.severity.length);
    line(`[${i + 1}] ${sev}${rest}`);
  });
  if (!run.findings.length) line(chalk.dim('no findings'));

  // ---- column header and rows
  const timeW = Math.max(8, ...rows.map((r) => (r.kind === 'event' ? fmtTime(r.event.t, data).length : r.kind === 'group' ? fmtTime(r.t, data).length : 0)));
  const sideBreak = lanes.findIndex((l) => l.side !== lanes[0]?.side);
  const cells = (g: Glyph[], colour = true) =>
    g
      .map((x, i) => {
        const ch = GLYPH[x];
        const painted = !colour ? ch : x === 'owns' ? chalk.cyan(ch) : x === 'window' ? chalk.yellow(ch) : x === 'finding' ? chalk.red.bold(ch) : x === 'event' || x === 'group' ? chalk.bold(ch) : chalk.dim(ch);
        return (i === sideBreak && i > 0 ? '  ' : '') + painted + ' ';
      })
      .join('');
  const laneW = lanes.length * 2 + (sideBreak > 0 ? 2 : 0);
  const textW = width - timeW - 2 - laneW - 1;
  const header = lanes.map((_, i) => (i === sideBreak && i > 0 ? '  ' : '') + laneCode(i) + ' ').join('');
  line('');
  line(chalk.dim(`${'time'.padStart(timeW)}  ${header}`));

  for (const r of rows) renderRow(r);
  line('');
  const shown = rows.filter((r) => r.kind === 'event' || r.kind === 'group').length;
  const summary = `${data.totalEvents} events; ${data.windows.length} window${data.windows.length === 1 ? '' : 's'} shown in ${shown} rows`;
  line(chalk.dim(cut(summary, width)));
  for (const n of data.notes) line(chalk.dim(cut(`note: ${clean(n)}`, width)));
  return `${out.join('\n')}\n`;

  function wrapItems(label: string, items: string[], sep = '   '): void {
    let cur = `${label.padEnd(6)} `;
    for (const it of items) {
      const piece = cur.trim().length > label.length ? `${sep}${it}` : it;
      if (cur.length + piece.length > width && cur.trim().length > label.length) {
        line(cur.trimEnd());
        cur = `${' '.repeat(7)}${it}`;
      } else cur += piece;
    }
    line(cut(cur.trimEnd(), width));
  }

  function renderRow(r: TextRow): void {
    const blankTime = ' '.repeat(timeW);
    switch (r.kind) {
      case 'window': {
        const w = r.window;
        const range = `${fmtTime(w.from, data)}…${fmtTime(w.to, data)}`;
        const extra = r.hidden ? ` · +${r.hidden} on other threads` : '';
        const head = `── ${r.index + 1} · ${range} (${dur(w.to - w.from)}) · ${w.reasons.join(', ')}${extra} `;
        line(chalk.bold(cut(head, width).padEnd(width, '─')));
        return;
      }
      case 'gap': {
        const top = r.top.map((t) => `${t.count}× ${t.name}${col.has(t.lane) ? ` (${code(t.lane)})` : ''}`).join(', ');
        const span = r.to > r.from ? `${dur(r.to - r.from)}, ` : '';
        line(chalk.dim(cut(`${'⋮'.padStart(timeW)}  ${span}${r.count} event${r.count === 1 ? '' : 's'} not shown${top ? `: ${top}` : ''}`, width)));
        return;
      }
      case 'event': {
        const e = r.event;
        const who = col.has(e.lane) ? `${(data.lanes[e.lane] as Lane).short} ` : 'msg ';
        let text = cut(`${who.padEnd(4)}${eventText(e)}`, textW);
        if (e.findings.length) text = chalk.red.bold(text);
        else if (e.signal === 'state') text = chalk.magenta.bold(text);
        else if (e.key) text = chalk.bold(text);
        const time = fmtTime(e.t, data).padStart(timeW);
        line(`${r.inGap ? chalk.dim(time) : time}  ${cells(r.lanes)}${text}`);
        return;
      }
      case 'group': {
        const who = `${(data.lanes[r.lane] as Lane).short} `.padEnd(4);
        const approx = r.approx ? '≈' : '';
        let body: string;
        if (r.nameCount > 1) {
          // The repeated event by name, the rest as a count: "×422 postcopy_preempt_send_host_page +1266 (3 kinds)".
          const more = r.count > r.nameCount ? ` +${r.count - r.nameCount} (${r.otherKinds} other kind${r.otherKinds === 1 ? '' : 's'})` : '';
          body = `${who}${approx}×${r.nameCount} ${r.name}${more}`;
        } else body = `${who}${approx}${r.count} events: ${r.names.map((n) => n.name).join(', ')}`;
        const over = r.tEnd > r.t ? ` over ${dur(r.tEnd - r.t)}` : '';
        if (body.length + over.length <= textW) body += over;
        line(`${fmtTime(r.t, data).padStart(timeW)}  ${cells(r.lanes)}${chalk.dim(cut(body, textW))}`);
        return;
      }
      case 'note': {
        const text = cut(`    ${clean(r.text)}`, textW);
        const painted = r.tone === 'finding' ? chalk.red(text) : chalk.yellow(text);
        line(`${blankTime}  ${cells(r.lanes.map((g) => (g === 'event' || g === 'finding' || g === 'group' ? 'alive' : g)))}${painted}`);
        return;
      }
      case 'omitted':
        line(chalk.dim(`${blankTime}  ${cells(r.lanes)}… ${r.count} more rows (narrow with --from/--to)`));
        return;
    }
  }
}

function laneName(l: Lane): string {
  if (l.role === 'other' || l.role === 'all') return l.label;
  return `${l.short} ${l.tid ?? ''}`.trim();
}
