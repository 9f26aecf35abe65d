// --format text: for people. One block per run: what was inferred, each finding with both sides
// of the conflict (ThreadSanitizer style: each access with file:line, TID, role, event, time),
// what every rule concluded, data quality, and one summary line per run at the end.
import { threadLabel } from './thread-label.js';
import { binaryInputs, placeOf } from './place.js';
import { evidenceText, headings } from './evidence.js';
import chalk from 'chalk';
import type { EpisodeResult, Finding, Location, Report, RunResult } from '../types.js';

export interface TextOptions {
  verbose: boolean;
  /** A run's migrations read back one at a time (a streamed report) instead of its `episodes`. */
  episodesOf?: (run: RunResult) => Iterable<EpisodeResult> | undefined;
}

const SEV = {
  error: (s: string) => chalk.red.bold(s),
  warning: (s: string) => chalk.yellow.bold(s),
  info: (s: string) => chalk.cyan.bold(s),
};

function ts(t: number | null): string {
  return t === null ? '-' : t.toFixed(6);
}

function locLine(l: Location, indent: string, binary: ReadonlySet<string>): string[] {
  const who = threadLabel(l);
  const out = [`${indent}${chalk.bold(placeOf(l, binary))}  ${who}  @${ts(l.ts)}  ${chalk.magenta(l.event)}`];
  if (l.note) out.push(`${indent}  ${chalk.dim('↳')} ${l.note}`);
  if (l.text) out.push(`${indent}  ${chalk.dim(`| ${l.text}`)}`);
  return out;
}

function renderFinding(f: Finding, binary: ReadonlySet<string>): string[] {
  const accepted = f.suppressed ? chalk.dim(` — suppressed: ${f.suppressed.reason ?? ''}`) : f.baseline === 'known' ? chalk.dim(' — known (in the baseline)') : f.baseline === 'new' ? chalk.bold(' — new') : '';
  const head = `${SEV[f.severity](f.severity.toUpperCase())} ${chalk.bold(f.rule)} [${evidenceText(f.evidence)}]${f.object ? ` on ${f.object}` : ''}${f.test ? chalk.dim(` (test ${f.test})`) : f.episode ? chalk.dim(` (migration ${f.episode})`) : ''}${accepted}`;
  const out = [head, ...wrap(f.message, 100).map((l) => `  ${l}`)];
  if (f.threads && f.threads !== 'thread ids') out.push(chalk.dim(`  threads told apart by ${f.threads}`));
  out.push('');
  const [first, second, ...rest] = f.locations;
  const heads = headings(f);
  if (first) {
    out.push(`  ${chalk.underline(heads.first)}:`);
    out.push(...locLine(first, '    ', binary));
  }
  if (second) {
    if (heads.second !== heads.first) out.push(`  ${chalk.underline(heads.second)}:`);
    out.push(...locLine(second, '    ', binary));
  }
  if (rest.length) {
    out.push(`  ${chalk.underline('Context')}:`);
    for (const l of rest) out.push(...locLine(l, '    ', binary));
  }
  out.push(`  ${chalk.dim(`${f.commits.length ? `guards QEMU ${f.commits.join(', ')} · ` : ''}more: migtrace explain ${f.rule}`)}`);
  return out;
}

export function wrap(text: string, width: number): string[] {
  const words = text.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let cur = '';
  for (const w of words) {
    if (cur && cur.length + 1 + w.length > width) {
      lines.push(cur);
      cur = w;
    } else cur = cur ? `${cur} ${w}` : w;
  }
  if (cur) lines.push(cur);
  return lines;
}

function verdictWord(r: RunResult): string {
  if (r.verdict === 'findings') return chalk.red.bold('FINDINGS');
  if (r.verdict === 'inconclusive') return chalk.yellow.bold('INCONCLUSIVE');
  return chalk.green.bold('CLEAN');
}

// A generator of lines: a run of thousands of migrations lists each, and is never one string.
function* renderRun(r: RunResult, opts: TextOptions): Generator<string> {
  let out: string[] = [chalk.bold(`━━ ${r.name}`)];
  for (const i of r.inputs) {
    // The path once, relative to the run where it lies in it; the side's evidence names it again.
    const rel = i.path.startsWith(`${r.name}/`) ? i.path.slice(r.name.length + 1) : i.path;
    out.push(`  input  ${i.mixed ? 'both' : (i.side ?? '?')}  ${rel}  ${chalk.dim(`(${i.format}; side: ${i.sideEvidence.split(i.path).join(rel)})`)}`);
  }
  const src = r.qemu.src;
  const dst = r.qemu.dst;
  out.push(`  qemu   src ${src.range}${src.writerModel && src.writerModel !== 'unknown' ? `, urgent pages by the ${src.writerModel}` : ''} · dst ${dst.range}${dst.cleanupThread && dst.cleanupThread !== 'unknown' ? `, cleanup on the ${dst.cleanupThread} thread` : ''}`);
  const compat = r.mode.compatPre72 === null ? 'unknown' : r.mode.compatPre72 ? 'yes' : 'no';
  out.push(`  mode   postcopy ${r.mode.postcopy ? 'yes' : 'no'} · preempt ${r.mode.preempt ? 'yes' : 'no'} · x-preempt-pre-7-2 compat ${compat}`);
  if (opts.verbose) {
    for (const e of [...src.evidence, ...dst.evidence, ...r.mode.evidence]) out.push(chalk.dim(`         ${e.claim}${e.file ? ` (${e.event} at ${e.file}:${e.line})` : ''}`));
    for (const t of r.threads) out.push(chalk.dim(`  thread ${t.side}:${t.tid} ${t.role} — ${t.how}, ${t.events} events`));
  }
  out.push('');
  yield* out;
  out = [];
  const episodes = opts.episodesOf?.(r) ?? r.episodes;
  if (r.tests) yield* [...renderTests(r), ''];
  else if (episodes) {
    yield `  ${chalk.underline('Migrations in this trace')}:`;
    for (const e of episodes) {
      const states = [e.states.src.length ? `src ${e.states.src.join('→')}` : '', e.states.dst.length ? `dst ${e.states.dst.join('→')}` : ''].filter(Boolean).join('; ');
      const word = e.verdict === 'findings' ? chalk.red('findings') : e.verdict === 'inconclusive' ? chalk.yellow('inconclusive') : chalk.green('clean');
      yield `    ${String(e.index).padStart(3)}. ${word}${e.findings.length ? ` (${e.findings.map((f) => f.rule).join(', ')})` : ''}  ${chalk.dim(`${ts(e.from)}–${ts(e.to)}  ${states}`)}`;
    }
    yield '';
  }
  const binary = binaryInputs(r);
  if (r.tests) {
    for (const t of r.tests.filter((x) => r.findings.some((f) => f.test === x.name))) {
      out.push(chalk.bold(`  ── test ${t.name}${t.tap ? ` (${t.tap.split(' ').slice(0, -1).join(' ')})` : ''}`), '');
      for (const f of r.findings.filter((x) => x.test === t.name)) out.push(...renderFinding(f, binary), '');
    }
  } else for (const f of r.findings) out.push(...renderFinding(f, binary), '');
  out.push(`  ${chalk.underline('Rules')}:`);
  const idWidth = Math.max(0, ...r.rulesChecked.map((id) => id.length)) + 2;
  for (const id of r.rulesChecked) {
    const fs = r.findings.filter((f) => f.rule === id);
    const inc = r.inconclusive.find((i) => i.rule === id);
    const na = r.notApplicable.find((n) => n.rule === id);
    const state = fs.length
      ? SEV[fs[0]!.severity](`${fs.length} finding${fs.length > 1 ? 's' : ''}`)
      : inc
        ? `${chalk.yellow('inconclusive')}: ${inc.reason}${inc.missing ? ` (missing: ${inc.missing.join(', ')})` : ''}`
        : na
          ? `${chalk.dim('not applicable')}: ${na.reason}`
          : chalk.green('clean') + (opts.verbose ? chalk.dim(`: ${r.clean?.find((c) => c.rule === id)?.note || 'nothing to report'}`) : '');
    out.push(`    ${id.padEnd(idWidth)}${state}`);
  }
  const s = r.stats;
  out.push(`  ${chalk.underline('Data')}: ${s.lines} lines: ${s.events} events, ${s.messages} messages, ${s.unparsed} unparsed`);
  for (const n of r.dataQuality.notes) out.push(`    ${chalk.yellow('!')} ${n}`);
  for (const u of r.dataQuality.unparsedSamples) out.push(`    ${u.file}:${u.line}: ${u.reason}: ${JSON.stringify(u.text)}`);
  if (r.stats.unparsed > r.dataQuality.unparsedSamples.length) out.push(chalk.dim(`    (${r.stats.unparsed - r.dataQuality.unparsedSamples.length} more unparsed lines not shown)`));
  if (opts.verbose && r.dataQuality.unassignedTids.length) {
    out.push(chalk.dim(`    threads with no migration role: ${r.dataQuality.unassignedTids.map((t) => `${t.side}:${t.tid} (${t.events})`).join(', ')}`));
  }
  for (const why of r.verdictReasons) out.push(`  ${chalk.yellow('inconclusive because')} ${why}`);
  out.push('');
  yield* out;
}

/** A test suite's log: each test, its TAP result and verdict (or why it has none). */
function renderTests(r: RunResult): string[] {
  const out = [`  ${chalk.underline('Tests in this log')}:`];
  for (const t of r.tests ?? []) {
    const word = t.verdict === 'findings' ? chalk.red('findings') : t.verdict === 'inconclusive' ? chalk.yellow('inconclusive') : t.verdict === 'clean' ? chalk.green('clean') : chalk.dim('not in the log');
    const fs = r.findings.filter((f) => f.test === t.name);
    const tap = t.tap ? t.tap.split(' ').slice(0, -1).join(' ') : 'no TAP result';
    out.push(`    ${word}${fs.length ? ` (${fs.map((f) => f.rule).join(', ')})` : ''}  ${t.name}  ${chalk.dim(`${tap}; lines ${t.lines[0]}-${t.lines[1]}; ${t.notes.join('; ')}`)}`);
  }
  return out;
}

export function summaryLine(r: RunResult): string {
  const count = (sev: string) => r.findings.filter((f) => f.severity === sev).length;
  const parts = [['error', count('error')], ['warning', count('warning')], ['info', count('info')]]
    .filter(([, n]) => (n as number) > 0)
    .map(([s, n]) => `${n} ${s}${(n as number) > 1 ? 's' : ''}`);
  const mark = r.verdict === 'findings' ? chalk.red('✖') : r.verdict === 'inconclusive' ? chalk.yellow('?') : chalk.green('✔');
  return `${mark} ${r.name}: ${verdictWord(r)}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

/** One table row per run, for batches: verdict, finding counts by severity, undecided rules. */
export function summaryTable(runs: readonly RunResult[]): string[] {
  const count = (r: RunResult, sev: string) => r.findings.filter((f) => f.severity === sev).length;
  const rows = runs.map((r) => [r.verdict, String(count(r, 'error')), String(count(r, 'warning')), String(count(r, 'info')), String(r.inconclusive.length), r.name]);
  const head = ['verdict', 'errors', 'warnings', 'info', 'undecided', 'run'];
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : i === 0 ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join('  ');
  const colour = (v: string, text: string) => (v === 'findings' ? chalk.red(text) : v === 'inconclusive' ? chalk.yellow(text) : chalk.green(text));
  const by = (v: string) => runs.filter((r) => r.verdict === v).length;
  return [
    chalk.bold(`Summary: ${runs.length} runs — ${by('findings')} with findings, ${by('inconclusive')} inconclusive, ${by('clean')} clean`),
    chalk.dim(line(head)),
    ...rows.map((row) => colour(row[0]!, line(row))),
  ];
}

/** A finding as one summary names it: severity, rule, evidence (and migration, known/suppressed). */
function findingTag(f: Finding): string {
  const accepted = f.suppressed ? ', suppressed' : f.baseline === 'known' ? ', known' : '';
  if (f.test) return `${f.severity} ${f.rule} [${evidenceText(f.evidence)}] (${f.test}${accepted})`;
  return `${f.severity} ${f.rule} [${evidenceText(f.evidence)}]${f.episode ? ` (migration ${f.episode}${accepted})` : accepted ? ` (${accepted.slice(2)})` : ''}`;
}

/** --summary: one line per run (verdict, run, the findings by name, or why it could not decide), then the totals. */
export function renderSummary(report: Report): string {
  const rows: Array<[string, string, string]> = report.runs.map((r) => {
    const tags = new Map<string, number>();
    for (const f of r.findings) tags.set(findingTag(f), (tags.get(findingTag(f)) ?? 0) + 1);
    const named = [...tags].map(([t, n]) => (n > 1 ? `${t} ×${n}` : t)).join(', ');
    const why = r.verdict === 'inconclusive' && r.verdictReasons.length ? `${named ? '; ' : ''}undecided: ${shorten(r.verdictReasons[0]!, 120)}${r.verdictReasons.length > 1 ? ` (and ${r.verdictReasons.length - 1} more)` : ''}` : '';
    const mark = r.verdict === 'findings' ? chalk.red('✖ FINDINGS') : r.verdict === 'inconclusive' ? chalk.yellow('? INCONCLUSIVE') : chalk.green('✔ CLEAN');
    return [mark, r.name, `${named}${why}`];
  });
  for (const u of report.unusable ?? []) rows.push([chalk.red('✖ NOT CHECKED'), u.run, shorten(u.error, 160)]);
  const width = '? INCONCLUSIVE'.length; // the widest mark: the same column in every summary
  const out = rows.map(([m, name, rest]) => `${m}${' '.repeat(width - stripAnsi(m).length)}  ${name}${rest ? `  ${rest}` : ''}`);
  const by = (v: string) => report.runs.filter((r) => r.verdict === v).length;
  const unusable = report.unusable?.length ?? 0;
  const total = report.runs.length + unusable;
  out.push(chalk.bold(`Summary: ${total} run${total === 1 ? '' : 's'} — ${by('findings')} with findings, ${by('inconclusive')} inconclusive, ${by('clean')} clean${unusable ? `, ${unusable} not checked` : ''}`));
  return `${out.join('\n')}\n`;
}

function shorten(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function stripAnsi(s: string): string {
  return s.replace(/\x1b\[[0-9;]*m/g, '');
}

/** In a batch a clean run is one line (unless --verbose): its rule table says nothing the line does not. */
function quiet(r: RunResult, opts: TextOptions, batch: boolean): boolean {
  return batch && !opts.verbose && r.verdict === 'clean' && r.findings.length === 0 && r.inconclusive.length === 0;
}

export function renderText(report: Report, opts: TextOptions): string {
  return `${[...textLines(report, opts)].join('\n')}\n`;
}

/** renderText's text in pieces (a line each), for a report too long to be one string. */
export function* renderTextPieces(report: Report, opts: TextOptions): Generator<string> {
  let any = false;
  for (const line of textLines(report, opts)) {
    any = true;
    yield `${line}\n`;
  }
  if (!any) yield '\n';
}

function* textLines(report: Report, opts: TextOptions): Generator<string> {
  const batch = report.runs.length > 1;
  if (batch) yield* [summaryTable(report.runs)[0]!, ''];
  for (const r of report.runs) {
    if (quiet(r, opts, batch)) yield summaryLine(r);
    else yield* renderRun(r, opts);
  }
  if (batch) yield* ['', ...summaryTable(report.runs)];
  else for (const r of report.runs) yield summaryLine(r);
  for (const u of report.unusable ?? []) yield chalk.red(`✖ ${u.run}: not checked, its input cannot be read: ${u.error}`);
}
