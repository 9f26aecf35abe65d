// Two lifecycles read from the migration states (migrate_set_state, §C.1) that rules decide on:
// a postcopy recovery whose return path fails again (§E #11, §C.3 S8-S10), and a cancel that has
// not reached `cancelled` yet. The tables are the model; recovery-hang and migration-stuck react
// to them (they keep the events that anchor their findings).
import type { Guards, Table } from './automaton.js';
import type { FieldEvent } from './return-path.js';

// One run per migration, on the source.
// prettier-ignore
export const POSTCOPY_RECOVERY: Table<'watching' | 'recovering' | 'rp-failed' | 'paused-again', 'recover' | 'notRecover' | 'pausedOrFailed', 'enterRecover' | 'rpFailed' | 'pausedAgain'> = {
  name: 'postcopy recovery',
  states: ['watching', 'recovering', 'rp-failed', 'paused-again'],
  initial: 'watching',
  transitions: [
    { from: 'watching', on: 'state', guard: 'recover', to: 'recovering', action: 'enterRecover', models: 'new state postcopy-recover: the resume has started, the migration thread waits for the new return path on rp_sem (§C.3 S10, §E #11)' },
    { from: '*', on: 'state', guard: 'recover', to: '=', action: 'enterRecover', models: 'new state postcopy-recover again: counted; a failure already seen stands (§C.3 S10)' },
    { from: 'recovering', on: 'state', guard: 'notRecover', to: 'watching', models: 'the recovery left postcopy-recover (done, or paused again)' },
    { from: 'recovering', on: 'rp-bad-end', to: 'rp-failed', action: 'rpFailed', models: 'source_return_path_thread_bad_end in postcopy-recover: the new return path failed (§C.3 S8, §E #11)' },
    { from: 'rp-failed', on: 'state', guard: 'pausedOrFailed', to: 'paused-again', action: 'pausedAgain', models: 'postcopy-paused (or failed) after that failure: >= 8.2 kicks the migration thread back to paused (§E #11)' },
  ],
};

export const POSTCOPY_RECOVERY_GUARDS: Guards<'recover' | 'notRecover' | 'pausedOrFailed', unknown, FieldEvent> = {
  recover: (_, e) => e.field('state') === 'postcopy-recover',
  notRecover: (_, e) => {
    const s = e.field('state');
    return s !== null && s !== 'postcopy-recover';
  },
  pausedOrFailed: (_, e) => {
    const s = e.field('state');
    return s === 'postcopy-paused' || s === 'failed';
  },
};

// One run per side and migration.
// prettier-ignore
export const CANCEL: Table<'none' | 'cancelling', 'cancelling' | 'cancelEnded', 'cancelRequested' | 'cancelEnded'> = {
  name: 'cancel',
  states: ['none', 'cancelling'],
  initial: 'none',
  transitions: [
    { from: 'none', on: 'state', guard: 'cancelling', to: 'cancelling', action: 'cancelRequested', models: 'new state cancelling: migrate_cancel / migration_cancel asked the migration to stop (§C.1)' },
    { from: 'cancelling', on: 'state', guard: 'cancelEnded', to: 'none', action: 'cancelEnded', models: 'new state cancelled (or failed): the cancel is over (§C.1)' },
    { from: 'cancelling', on: 'state', guard: 'cancelling', to: '=', models: 'cancelling again: the first request is the one that hangs (§C.1)' },
  ],
};

export const CANCEL_GUARDS: Guards<'cancelling' | 'cancelEnded', unknown, FieldEvent> = {
  cancelling: (_, e) => e.field('state') === 'cancelling',
  cancelEnded: (_, e) => {
    const s = e.field('state');
    return s === 'cancelled' || s === 'failed';
  },
};
