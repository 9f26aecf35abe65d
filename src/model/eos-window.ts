// The source EOS window on postcopy_qemufile_src (§C.3 S4, §D.1): the EOS write has no trace event;
// it lies between migration_completion_postcopy_end and _after_complete on the migration thread,
// after that thread's last main-channel section. One run per (file, side, thread). The table is
// the model; qemufile-concurrent-access reacts to it (opens, narrows and closes its windows).
import type { Guards, Table } from './automaton.js';
import type { CatalogRow } from './catalog.js';

export type EosWindowState = 'idle' | 'open' | 'eos-only' | 'closed';
export type EosWindowGuard = 'beginRow' | 'endRow';
export type EosWindowAction = 'openWindow' | 'narrow' | 'closeWindow';

/** The guards: the begin and end rows are the catalog's window bounds (its `window` column). */
export const EOS_WINDOW_GUARDS: Guards<EosWindowGuard, unknown, { row: CatalogRow }> = {
  beginRow: (_, e) => e.row.window === 'begin',
  endRow: (_, e) => e.row.window === 'end',
};

// prettier-ignore
export const EOS_WINDOW: Table<EosWindowState, EosWindowGuard, EosWindowAction> = {
  name: 'EOS window',
  states: ['idle', 'open', 'eos-only', 'closed'],
  initial: 'idle',
  transitions: [
    { from: 'idle', on: 'eos-window-begin', guard: 'beginRow', to: 'open', action: 'openWindow', models: 'migration_completion_postcopy_end: migration_completion enters postcopy completion; the EOS comes before _after_complete (§C.3 S4)' },
    { from: 'closed', on: 'eos-window-begin', guard: 'beginRow', to: 'open', action: 'openWindow', models: 'the completion of a later migration: a new window (§C.3 S4)' },
    { from: 'open', on: 'eos-window-begin', guard: 'beginRow', to: 'open', action: 'openWindow', models: 'a begin with no end: the earlier window stays unfinished' },
    { from: 'eos-only', on: 'eos-window-begin', guard: 'beginRow', to: 'open', action: 'openWindow', models: 'a begin with no end: the earlier window stays unfinished' },
    { from: 'open', on: 'section-end', to: 'eos-only', action: 'narrow', models: 'savevm_section_end on to_dst_file by the same thread (without thread ids, on the same side: only the migration thread saves sections there), in qemu_savevm_state_complete_postcopy: after the last one only the EOS is left (§D.1)' },
    { from: 'eos-only', on: 'section-end', to: '=', action: 'narrow', models: 'a later section: the EOS-only part starts later (§D.1)' },
    { from: 'open', on: 'eos-window-end', guard: 'endRow', to: 'closed', action: 'closeWindow', models: 'migration_completion_postcopy_end_after_complete: the EOS was the last thing before it (§C.3 S4)' },
    { from: 'eos-only', on: 'eos-window-end', guard: 'endRow', to: 'closed', action: 'closeWindow', models: 'migration_completion_postcopy_end_after_complete: the EOS was the last thing before it (§C.3 S4)' },
  ],
};
