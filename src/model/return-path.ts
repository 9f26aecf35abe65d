// The source return-path thread's files as the threads around it see them (§B.1, §C.3 S5-S6,
// §C.3 S9-S10): a close (qemu_file_fclose, no argument) is told by where it sits on its thread. The
// tables are the model; qemufile-nonowner-close reacts to them (records the anchors of each
// position). One run of RP_JOIN and SRC_CLEANUP per thread; one run of RP_RESUME per migration.
import type { Guards, Table } from './automaton.js';

/** An event as the guards read it: its argument fields (catalog fieldOf). */
export interface FieldEvent {
  field(name: string): string | null;
}

/** Whether a thread is inside its join of the return-path thread. */
// prettier-ignore
export const RP_JOIN: Table<'outside' | 'joining', never, 'joinBegins' | 'joinEnds'> = {
  name: 'return-path join',
  states: ['outside', 'joining'],
  initial: 'outside',
  transitions: [
    { from: '*', on: 'rp-join-begin', to: 'joining', action: 'joinBegins', models: 'migration_return_path_end_before: the thread joins the return-path thread; from 8.2 it then releases the rp files (§C.3 S5)' },
    { from: 'joining', on: 'rp-join-end', to: 'outside', action: 'joinEnds', models: 'migration_return_path_end_after: the join returned (§C.3 S5)' },
  ],
};

/** Whether a thread ran the source's migration cleanup (which closes to_dst_file and the preempt file). */
// prettier-ignore
export const SRC_CLEANUP: Table<'before' | 'after', never, 'cleanupStarts'> = {
  name: 'source cleanup',
  states: ['before', 'after'],
  initial: 'before',
  transitions: [
    { from: '*', on: 'cleanup', to: 'after', action: 'cleanupStarts', models: 'migrate_fd_cleanup (<= 9.2) / migration_cleanup (>= 10.0) on the main thread: the closes that follow are the cleanup\'s (§C.3 S6)' },
  ],
};

export const RP_RESUME_GUARDS: Guards<'postcopyPaused' | 'postcopyActive', unknown, FieldEvent> = {
  postcopyPaused: (_, e) => e.field('state') === 'postcopy-paused',
  postcopyActive: (_, e) => e.field('state') === 'postcopy-active',
};

/** Whether a postcopy resume has re-opened the return path (a new from_dst_file) since the pause. */
// prettier-ignore
export const RP_RESUME: Table<'not-paused' | 'paused' | 'reopened', 'postcopyPaused' | 'postcopyActive', 'reopens' | 'resumed'> = {
  name: 'return path across a postcopy resume',
  states: ['not-paused', 'paused', 'reopened'],
  initial: 'not-paused',
  transitions: [
    { from: 'reopened', on: 'state', guard: 'postcopyPaused', to: '=', models: 'a pause again before the resume completed: the re-opened return path stays the newest (§C.3 S9)' },
    { from: '*', on: 'state', guard: 'postcopyPaused', to: 'paused', models: 'migrate_set_state new state postcopy-paused on the source (§C.3 S9)' },
    { from: '*', on: 'state', guard: 'postcopyActive', to: 'not-paused', action: 'resumed', models: 'new state postcopy-active: the resume completed (§C.3 S10)' },
    { from: 'paused', on: 'rp-open', to: 'reopened', action: 'reopens', models: 'open_return_path_on_source during a resume: a new from_dst_file (§C.3 S10)' },
    { from: 'reopened', on: 'rp-open', to: '=', action: 'reopens', models: 'another open during the same resume: the newest counts (§C.3 S10)' },
  ],
};
