// `migtrace explain [rule]`: what a rule means, the commits it guards, how to read its evidence.
import { readFileSync } from 'node:fs';
import chalk from 'chalk';
import type { Argv, CommandModule } from 'yargs';
import { findRule, RULES } from '../../rules/index.js';
import { UsageError } from '../errors.js';
import { MODEL_DOC, MODEL_DOC_PATH, citationIds, modelAnchors, resolveId } from '../../model/reference.js';
import { writeOut } from '../output.js';

export const explainCommand: CommandModule<object, { rule?: string }> = {
  command: 'explain [rule]',
  describe: 'Explain a rule (or list them all): meaning, QEMU commits, how to read the evidence',
  builder: (y: Argv) => y.positional('rule', { type: 'string', describe: 'Rule id, e.g. qemufile-concurrent-access' }) as Argv<{ rule?: string }>,
  handler: async (args) => {
    if (!args.rule) {
      const lines = RULES.map((r) => `  ${chalk.bold(r.id.padEnd(34))} ${r.severity.padEnd(7)} ${r.title}`);
      await writeOut(`Rules (migtrace explain <id> for details):\n${lines.join('\n')}\n`);
      return;
    }
    const r = findRule(args.rule);
    if (!r) throw new UsageError(`no rule '${args.rule}'; rules: ${RULES.map((x) => x.id).join(', ')}`);
    await writeOut(
      `${chalk.bold(r.id)} (${r.severity}): ${r.title}\n\n${r.explain}\n\n${evidenceKinds(r.evidence)}${r.commits.length ? `Guards QEMU commits: ${r.commits.join(', ')}\n` : ''}${modelSections(r.refs)}`,
    );
  },
};

/** The evidence kinds its findings carry (`[kind]` in reports), as the rule declares them. */
function evidenceKinds(kinds: Readonly<Record<string, string>>): string {
  const width = Math.max(...Object.keys(kinds).map((k) => k.length));
  return `Evidence kinds:\n${Object.entries(kinds).map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n')}\n`;
}

/** The cited sections with their titles, and where the document is (a copy without it still names them). */
function modelSections(refs: readonly string[]): string {
  const anchors = readAnchors();
  if (!anchors) return `Model sections: ${refs.map((s) => `§${s}`).join(', ')} (${MODEL_DOC} in the migtrace repository)\n`;
  const width = Math.max(0, ...refs.map((s) => s.length)) + 3;
  const lines = refs.map((s) => {
    const titles = citationIds(s).map((id) => resolveId(id, anchors) ?? '(not in the document)');
    return `  ${`§${s}`.padEnd(width)}${titles.join('; ')}`;
  });
  return `Model sections, in ${MODEL_DOC} (${MODEL_DOC_PATH}):\n${lines.join('\n')}\n`;
}

function readAnchors(): Map<string, string> | null {
  try {
    return modelAnchors(readFileSync(MODEL_DOC_PATH, 'utf8'));
  } catch {
    return null;
  }
}
