// Markdown summary for $GITHUB_STEP_SUMMARY (check.ts appends it under --format github): one table
// row per run with verdict, findings and inconclusive reasons, then baseline entries no longer
// seen. GitHub caps a step summary at 1 MiB, so rows past the budget are counted, not shown.
import type { Report, RunResult, Severity } from '../types.js';
import { isAccepted } from './sarif.js';

export const SUMMARY_BUDGET = 1024 * 1024;

function cell(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

/** Inline code in a table cell: GFM splits cells on | even inside backticks unless it is escaped. */
function code(s: string, inTable = true): string {
  const t = s.replace(/`/g, "'").replace(/\r?\n/g, ' ');
  return `\`${inTable ? t.replace(/\|/g, '\\|') : t}\``;
}

const VERDICT = { clean: '✅ clean', findings: '❌ findings', inconclusive: '⚠️ inconclusive' } as const;

function findingsCell(r: RunResult): string {
  if (!r.findings.length) return '—';
  const parts: string[] = [];
  for (const sev of ['error', 'warning', 'info'] as Severity[]) {
    const fs = r.findings.filter((f) => f.severity === sev);
    if (!fs.length) continue;
    const rules = [...new Set(fs.map((f) => f.rule))].map((r) => code(r)).join(', ');
    parts.push(`${fs.length} ${sev}${fs.length > 1 ? 's' : ''}: ${rules}`);
  }
  const known = r.findings.filter((f) => f.baseline === 'known' && !f.suppressed).length;
  const suppressed = r.findings.filter((f) => f.suppressed).length;
  const fresh = r.findings.filter((f) => f.baseline === 'new' && !isAccepted(f)).length;
  const notes = [fresh ? `${fresh} new` : '', known ? `${known} in baseline` : '', suppressed ? `${suppressed} suppressed` : ''].filter(Boolean);
  return cell(parts.join('\n')) + (notes.length ? `<br>(${notes.join(', ')})` : '');
}

function inconclusiveCell(r: RunResult): string {
  if (!r.inconclusive.length) return '—';
  return cell(r.inconclusive.map((i) => `${i.rule}: ${i.reason}`).join('\n'));
}

export function renderMarkdownSummary(report: Report, budget = SUMMARY_BUDGET): string {
  const head = [
    `### ${report.tool.name} ${report.tool.version}`,
    '',
    '| Run | Verdict | Findings | Inconclusive |',
    '| --- | --- | --- | --- |',
  ];
  const count = (v: RunResult['verdict']) => report.runs.filter((r) => r.verdict === v).length;
  const tail = [
    '',
    `${report.runs.length} run${report.runs.length === 1 ? '' : 's'}: ${count('clean')} clean, ${count('findings')} with findings, ${count('inconclusive')} inconclusive.`,
  ];
  if (report.unusable?.length) {
    tail.push('', `Not checked — input cannot be read (${report.unusable.length}):`, '');
    for (const u of report.unusable) tail.push(`- ${code(u.run, false)}: ${cell(u.error)}`);
  }
  if (report.baselineGone?.length) {
    tail.push('', `Baseline entries no longer seen (${report.baselineGone.length}; fixed, or their run was not checked — prune with \`--write-baseline\`):`, '');
    for (const e of report.baselineGone) tail.push(`- ${code(e.key, false)}${e.summary ? ` — ${cell(e.summary)}` : ''}`);
  }
  const size = (lines: string[]) => Buffer.byteLength(lines.join('\n'), 'utf8') + lines.length;
  let used = size(head) + size(tail) + 200;
  const rows: string[] = [];
  let dropped = 0;
  for (const r of report.runs) {
    // A run whose failing findings were all accepted (baseline, suppressions) does not fail the job.
    const accepted = r.verdict === 'findings' && !r.findings.some((f) => f.severity !== 'info' && !isAccepted(f));
    const row = `| ${code(r.name)} | ${accepted ? '☑️ accepted findings' : VERDICT[r.verdict]} | ${findingsCell(r)} | ${inconclusiveCell(r)} |`;
    const n = Buffer.byteLength(row, 'utf8') + 1;
    if (dropped || used + n > budget) {
      dropped++;
      continue;
    }
    used += n;
    rows.push(row);
  }
  if (dropped) rows.push(`| … | | ${dropped} more run${dropped > 1 ? 's' : ''} not shown (summary size limit) | |`);
  return `${[...head, ...rows, ...tail].join('\n')}\n`;
}
