// The rule registry: every rule, in report order. Adding a rule = one module + one line here.
import type { Rule } from './rule.js';
import { RULE as concurrentAccess } from './qemufile-concurrent-access.js';
import { RULE as quitAsFailure } from './preempt-quit-as-network-failure.js';
import { RULE as quitStuck } from './preempt-quit-stuck.js';
import { RULE as networkFailure } from './postcopy-network-failure.js';

export const RULES: readonly Rule[] = [concurrentAccess, quitAsFailure, quitStuck, networkFailure];

export function findRule(id: string): Rule | undefined {
  return RULES.find((r) => r.id === id);
}
