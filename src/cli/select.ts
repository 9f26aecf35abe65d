// --select / --ignore: which rules a check reports. Applied to the finished runs, so a rule left out
// neither fails nor makes a run inconclusive; each run says which rules were left out, so an exit 0
// is never read as "every rule passed".
import { globToRegExp } from '../baseline/suppressions.js';
import { decideVerdict } from '../replay/run.js';
import type { EpisodeResult, RunResult } from '../types.js';
import { RULES } from '../rules/index.js';

export class RuleSelectionError extends Error {}

/** The rule ids `patterns` name (ids or * / ? globs); a pattern that names no rule is an error. */
export function rulesMatching(patterns: readonly string[], option: string): Set<string> {
  const out = new Set<string>();
  for (const p of patterns) {
    const re = globToRegExp(p);
    const hit = RULES.filter((r) => re.test(r.id));
    if (hit.length === 0) throw new RuleSelectionError(`${option} ${p}: no such rule (rules: ${RULES.map((r) => r.id).join(', ')})`);
    for (const r of hit) out.add(r.id);
  }
  return out;
}

/** The rules a check keeps: those selected (all when none is), minus those ignored. */
export function keptRules(select: readonly string[], ignore: readonly string[]): Set<string> {
  const selected = select.length ? rulesMatching(select, '--select') : new Set(RULES.map((r) => r.id));
  for (const id of rulesMatching(ignore, '--ignore')) selected.delete(id);
  return selected;
}

/** The run with only the kept rules' results, and its verdicts decided again from them. */
export function selectRules(run: RunResult, kept: ReadonlySet<string>): RunResult {
  const left = run.rulesChecked.filter((id) => !kept.has(id));
  if (left.length === 0) return run;
  const keep = <T extends { rule: string }>(xs: T[]) => xs.filter((x) => kept.has(x.rule));
  const anyEvents = !run.verdictReasons.includes('no trace events in any input');
  const findings = keep(run.findings);
  const inconclusive = keep(run.inconclusive);
  const v = decideVerdict(findings, inconclusive, anyEvents);
  return {
    ...run,
    findings,
    inconclusive,
    notApplicable: keep(run.notApplicable),
    ...(run.clean ? { clean: keep(run.clean) } : {}),
    rulesChecked: run.rulesChecked.filter((id) => kept.has(id)),
    verdict: v.verdict,
    verdictReasons: v.reasons,
    ...(run.episodes ? { episodes: run.episodes.map((e) => selectEpisode(e, kept)) } : {}),
    dataQuality: { ...run.dataQuality, notes: [`rules not checked (--select/--ignore): ${left.join(', ')}`, ...run.dataQuality.notes] },
  };
}

/** One migration of a run with only the kept rules' results (a streamed report maps each as it is read). */
export function selectEpisode(e: EpisodeResult, kept: ReadonlySet<string>): EpisodeResult {
  const keep = <T extends { rule: string }>(xs: T[]) => xs.filter((x) => kept.has(x.rule));
  const ev = decideVerdict(keep(e.findings), keep(e.inconclusive), true);
  return { ...e, findings: keep(e.findings), inconclusive: keep(e.inconclusive), notApplicable: keep(e.notApplicable), verdict: ev.verdict, verdictReasons: ev.reasons };
}
