// --format github: GitHub Actions workflow commands (GitHub's documentation), one annotation per finding
// nobody accepted, on the trace line of its first access. GitHub shows at most 10 annotations of
// each level per step and drops the rest silently, so past 9 the 10th says how many were left out.
import type { Finding, Report, RunResult } from '../types.js';
import { binaryInputs } from './place.js';
import { findingBody } from './junit.js';
import { isAccepted, repoPath } from './sarif.js';

export interface GithubOptions {
  cwd?: string;
}

export const ANNOTATIONS_PER_LEVEL = 10;

type Level = 'error' | 'warning' | 'notice';

/** Message data: actions/toolkit escapeData. */
export function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Property values (file, title): actions/toolkit escapeProperty. */
export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

interface Annotation {
  level: Level;
  props: Record<string, string | number>;
  message: string;
}

function command(a: Annotation): string {
  const props = Object.entries(a.props)
    .map(([k, v]) => `${k}=${escapeProperty(String(v))}`)
    .join(',');
  return `::${a.level}${props ? ` ${props}` : ''}::${escapeData(a.message)}`;
}

const LEVEL: Record<Finding['severity'], Level> = { error: 'error', warning: 'warning', info: 'notice' };

function forFinding(f: Finding, run: RunResult, cwd: string | undefined): Annotation {
  const first = f.locations[0];
  const props: Record<string, string | number> = first ? { file: repoPath(first.file, cwd), line: Math.max(1, first.line) } : {};
  props.title = `migtrace ${f.rule} (${run.name})`;
  return { level: LEVEL[f.severity], props, message: findingBody(f, cwd, binaryInputs(run)) };
}

export function renderGithub(report: Report, opts: GithubOptions = {}): string {
  const all: Annotation[] = [];
  for (const run of report.runs) {
    for (const f of run.findings) if (!isAccepted(f)) all.push(forFinding(f, run, opts.cwd));
    // An inconclusive run fails the job (exit 3): say why where people look first.
    for (const i of run.inconclusive) {
      all.push({
        level: 'warning',
        props: { title: `migtrace ${i.rule} inconclusive (${run.name})` },
        message: `${run.name}: ${i.rule} could not decide: ${i.reason}${i.missing?.length ? ` (missing: ${i.missing.join(', ')})` : ''}`,
      });
    }
  }
  for (const u of report.unusable ?? []) all.push({ level: 'error', props: { title: `migtrace: ${u.run} not checked` }, message: `${u.run}: its input cannot be read: ${u.error}` });
  const out: string[] = [];
  for (const level of ['error', 'warning', 'notice'] as const) {
    const mine = all.filter((a) => a.level === level);
    const shown = mine.length > ANNOTATIONS_PER_LEVEL ? mine.slice(0, ANNOTATIONS_PER_LEVEL - 1) : mine;
    out.push(...shown.map(command));
    if (shown.length < mine.length) {
      const more = mine.length - shown.length;
      out.push(command({ level, props: { title: 'migtrace: more not shown' }, message: `${more} more ${level} annotation${more > 1 ? 's' : ''} not shown (GitHub keeps ${ANNOTATIONS_PER_LEVEL} per level per step): see the job summary, or the SARIF/JUnit/JSON report` }));
    }
  }
  return out.length ? `${out.join('\n')}\n` : '';
}
