// Colours and geometry of the timeline: thread roles, migration states, the label gutter, the
// axis and the height of each kind of track.

export const ROLE: Record<string, string> = { main: '#64748b', migration: '#2563eb', rp: '#059669', multifd: '#0891b2', listen: '#7c3aed', fault: '#a16207', preempt: '#ea580c', other: '#94a3b8', all: '#475569', vcpu: '#94a3b8', 'io-task': '#94a3b8', unknown: '#94a3b8' };
export const STATE: Record<string, string> = { setup: '#e0e7ff', active: '#dbeafe', device: '#fde68a', 'postcopy-active': '#bbf7d0', 'postcopy-paused': '#fecaca', 'postcopy-recover': '#fed7aa', 'postcopy-recover-setup': '#fed7aa', completed: '#e5e7eb', failed: '#fca5a5', cancelled: '#fca5a5', cancelling: '#fecaca' };
export const GUTTER = 200;
export const PAD_R = 14;
export const AXIS = 30;
export const H = { side: 24, state: 20, file: 22, lane: 28 };
