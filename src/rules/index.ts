// The rule registry: every rule, in report order. Adding a rule = one module + one line here.
import type { Rule } from './rule.js';
import { RULE as concurrentAccess } from './qemufile-concurrent-access.js';
import { RULE as quitAsFailure } from './preempt-quit-as-network-failure.js';
import { RULE as quitStuck } from './preempt-quit-stuck.js';
import { RULE as networkFailure } from './postcopy-network-failure.js';
import { RULE as quitTooEarly } from './preempt-quit-too-early.js';
import { RULE as splitBrain } from './postcopy-split-brain.js';
import { RULE as channelBeforeMain } from './preempt-channel-before-main.js';
import { RULE as channelNotReady } from './preempt-channel-not-ready-at-listen.js';
import { RULE as recoveryHang } from './recovery-hang.js';
import { RULE as migrationStuck } from './migration-stuck.js';
import { RULE as nonOwnerClose } from './qemufile-nonowner-close.js';

export const RULES: readonly Rule[] = [
  concurrentAccess,
  nonOwnerClose,
  quitAsFailure,
  quitStuck,
  quitTooEarly,
  splitBrain,
  channelBeforeMain,
  channelNotReady,
  recoveryHang,
  migrationStuck,
  networkFailure,
];

export function findRule(id: string): Rule | undefined {
  return RULES.find((r) => r.id === id);
}
