// How every report names the thread of a location: its TID when the trace has one, else its role
// alone (a trace without thread ids, where events were put on their role's thread by name).
import type { Location } from '../types.js';

export function threadLabel(l: Location): string {
  const role = `${l.side ?? '?'}:${l.role}`;
  return l.tid !== null ? `TID ${l.tid} ${role}` : `${role} (no TID)`;
}

/** A stable id for a thread in one finding: `src:migration:22587`, or `src:migration:by-name`. */
export function threadId(l: Location): string {
  return `${l.side ?? '?'}:${l.role}:${l.tid ?? 'by-name'}`;
}
