// Where one migration attempt ends and the next begins, per side, from migrate_set_state (§C.1).
// A long-lived source can be migrated more than once (a cancelled or failed attempt, then a retry):
// `setup` opens the next migration when this side already had a `setup` in the current one, or when
// the current one already ended (completed / failed / cancelled; with timestamps, on either side:
// both processes' events are merged in time). A postcopy pause and recovery stays inside one
// migration; QEMU's `migration_cancel` on QMP quit is not a state change, so it splits nothing.
import { Automaton, type Monitor, type Table } from './automaton.js';
import { fieldOf, type CatalogRow } from './catalog.js';

type Phase = 'idle' | 'migrating' | 'ended';
type Guard = 'setup' | 'setupAfterOtherEnded' | 'terminal';

/** The other side's run, and whether the events carry timestamps (then both sides' ends count). */
export interface BoundaryContext {
  other: Monitor<string>;
  timed: boolean;
}

export interface StateEvent {
  rows: readonly CatalogRow[];
  args: string;
}

// prettier-ignore
export const MIGRATION_PHASES: Table<Phase, Guard, 'nextMigration'> = {
  name: 'migration phases of one side',
  states: ['idle', 'migrating', 'ended'],
  initial: 'idle',
  transitions: [
    { from: 'idle', on: 'state', guard: 'setupAfterOtherEnded', to: 'migrating', action: 'nextMigration', models: 'new state setup after the other process ended its migration: a retry (§C.1)' },
    { from: 'idle', on: 'state', guard: 'setup', to: 'migrating', models: 'migrate_set_state new state setup: migrate_init starts a migration (§C.1)' },
    { from: 'idle', on: 'state', guard: 'terminal', to: 'ended', models: 'completed, failed or cancelled without a setup in the trace (§C.1)' },
    { from: 'migrating', on: 'state', guard: 'setup', to: '=', action: 'nextMigration', models: 'a second setup: the next migration of the same process (§C.1)' },
    { from: 'migrating', on: 'state', guard: 'terminal', to: 'ended', models: 'completed, failed or cancelled: the migration is over (§C.1)' },
    { from: 'ended', on: 'state', guard: 'setup', to: 'migrating', action: 'nextMigration', models: 'setup after the end: the next migration (§C.1)' },
  ],
};

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
/** The `state` field of a state event (the guards of every table that reads `state`). */
export const stateOf = (e: StateEvent) => fieldOf(e.rows, e.args, 'state');

export const PHASES = new Automaton<Phase, Guard, 'nextMigration', BoundaryContext, StateEvent>(
  MIGRATION_PHASES,
  {
    setup: (_, e) => stateOf(e) === 'setup',
    setupAfterOtherEnded: (c, e) => c.timed && c.other.state === 'ended' && stateOf(e) === 'setup',
    terminal: (_, e) => {
      const s = stateOf(e);
      return s !== null && TERMINAL.has(s);
    },
  },
  { nextMigration: () => {} }, // the reaction is the replay's: it opens the next episode before feeding the event
);
