// Migration state transitions per side (`migrate_set_state new state X`, §C.1). The same event
// is logged by source and destination, so the input's side tells them apart.
import type { Side } from '../types.js';
import type { EventRef } from './threads.js';
import { fieldOf, type CatalogRow } from './catalog.js';

export interface StateChange {
  state: string;
  ref: EventRef;
}

const MAX_CHANGES = 10_000;

export class StateHistory {
  readonly changes: Record<Side, StateChange[]> = { src: [], dst: [] };
  dropped = 0;

  observe(ref: EventRef, rows: readonly CatalogRow[], args: string): void {
    if (ref.side === null) return;
    const state = fieldOf(rows, args, 'state');
    if (state === null) return;
    const list = this.changes[ref.side];
    if (list.length >= MAX_CHANGES) {
      this.dropped++;
      return;
    }
    list.push({ state, ref });
  }

  last(side: Side): string | null {
    const l = this.changes[side];
    return l.length ? (l[l.length - 1] as StateChange).state : null;
  }

  /** State changes of `side` to `state`, in order. */
  find(side: Side, state: string): StateChange[] {
    return this.changes[side].filter((c) => c.state === state);
  }
}
