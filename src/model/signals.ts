// What the model does with an event, named in the catalog's `signal` column. The replay engine
// and the rules refer to signals, never to event names, so a renamed event can be taught to the
// tool with a catalog row (--catalog) and no code.
export const SIGNALS = [
  'none',
  'fingerprint',
  'thread-start',
  'thread-exit',
  'postcopy-start',
  'preempt-on',
  'preempt-off',
  'preempt-channel',
  'pong',
  'ping',
  'eos-window-begin',
  'eos-window-end',
  'section-end',
  'urgent-request',
  'urgent-write',
  'urgent-write-proxy',
  'rp-join-begin',
  'rp-join-end',
  'rp-shut',
  'rp-bad-end',
  'cleanup',
  'state',
  'fclose',
  'quit-cancel',
  'migrate-error',
  'listen-exit',
  'load-eof',
  'incoming-pause',
  'incoming-continue',
  'resume',
  'resume-prepared',
  'dst-listen',
  'dst-run',
  'send-shut',
  'cleanup-entry',
  'cleanup-join',
  'cleanup-exit',
  'page-fault',
  'page-req-add',
  'page-req-del',
  'preempt-eos',
  'preempt-read',
  'preempt-pause',
  'preempt-continue',
] as const;

export type Signal = (typeof SIGNALS)[number];

export const ROLES = ['main', 'migration', 'rp', 'listen', 'fault', 'preempt', 'multifd', 'io-task', 'vcpu'] as const;
export const ACCESSES = ['read', 'write', 'shutdown', 'close', 'lifecycle', 'state', 'none'] as const;
export const WINDOWS = ['point', 'begin', 'end'] as const;
export const QEMUFILES = [
  'postcopy_qemufile_src',
  'to_dst_file',
  'from_dst_file',
  'postcopy_qemufile_dst',
  'from_src_file',
  'to_src_file',
] as const;
export type QemuFileName = (typeof QEMUFILES)[number];
