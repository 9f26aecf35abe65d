// What the model does with an event, named in the catalog's `signal` column. The replay engine
// and the rules refer to signals, never to event names, so a renamed event can be taught to the
// tool with a catalog row (--catalog) and no code.
/** The parts of the model that read a signal (the replay hands them only the events they read). */
export type SignalReader = 'version' | 'mode' | 'preempt';
/** What the timeline does with a signal's events: `focus` zooms the default view to them, `key` always keeps them (lifecycles, states, window bounds). */
type TimelineUse = 'focus' | 'key' | null;

// One table of signal metadata: every signal, who reads it, what the timeline does with it, and
// what it means. Rules say what they read themselves (their `wants` and requirements).
// prettier-ignore
const TABLE = [
  // signal                 read by                   timeline  meaning
  ['none',                  [],                       null,     'kept for thread identification and counts only'],
  ['fingerprint',           ['version'],              null,     "proves its process's version range (§G.1)"],
  ['thread-start',          ['mode', 'preempt'],      'key',    "a thread of the row's role starts (§A.2)"],
  ['thread-exit',           ['preempt'],              'key',    "a thread of the row's role ends"],
  ['postcopy-start',        ['mode'],                 'key',    'the source switches to postcopy (§D.0)'],
  ['preempt-on',            ['mode'],                 'key',    'postcopy_preempt_enabled 1 (§D.0)'],
  ['preempt-off',           ['mode'],                 'key',    'postcopy_preempt_enabled 0: proof that preempt is off'],
  ['preempt-channel',       ['mode', 'preempt'],      'key',    'a preempt channel is created or accepted (§C.3 S1/D1)'],
  ['pong',                  ['mode'],                 'key',    'the return path answered a PING: the main channel works (§G.4)'],
  ['ping',                  [],                       'key',    'the source sends a PING (§G.4)'],
  ['eos-window-begin',      [],                       'focus',  'the migration thread enters the EOS window (§C.3 S4)'],
  ['eos-window-end',        [],                       'focus',  'the EOS window ends: the EOS was the last thing before (§C.3 S4)'],
  ['section-end',           [],                       null,     'a main-channel section written: after the last, only the EOS is left (§D.1)'],
  ['urgent-request',        [],                       null,     'the destination asked for a page'],
  ['urgent-write',          ['version', 'mode'],      null,     'an urgent page written on postcopy_qemufile_src (§C.3 S2/S3)'],
  ['urgent-write-proxy',    [],                       null,     'the request that, >= 8.0, sends the page synchronously (§G.6)'],
  ['rp-join-begin',         [],                       'key',    'the source starts joining the return-path thread (§C.3 S5)'],
  ['rp-join-end',           [],                       'focus',  'the join of the return-path thread returned (§C.3 S5)'],
  ['rp-shut',               [],                       'key',    'the return path received SHUT (§C.3 S7)'],
  ['rp-bad-end',            [],                       'focus',  'the return-path thread failed (§C.3 S8)'],
  ['cleanup',               [],                       'key',    "the source main thread's migration cleanup"],
  ['state',                 ['mode', 'preempt'],      'key',    'migrate_set_state: a new migration state (§C.1)'],
  ['fclose',                [],                       'key',    'qemu_file_fclose: a close, told by position (§C.3 S6)'],
  ['quit-cancel',           [],                       'key',    'QMP quit or cancel on the main thread'],
  ['migrate-error',         [],                       'focus',  'an error set on the migration (§C.3 S9)'],
  ['listen-exit',           ['mode'],                 'key',    'the destination listen thread exits (§D.2)'],
  ['load-eof',              ['preempt'],              'key',    'the destination read QEMU_VM_EOF (§D.2)'],
  ['incoming-pause',        ['preempt'],              'focus',  'the destination pauses on a channel failure (§C.3 D8)'],
  ['incoming-continue',     [],                       'key',    'the destination resumes after a pause (§C.3 D8)'],
  ['resume',                [],                       'key',    'the destination handles RESUME (§D.3)'],
  ['resume-prepared',       ['mode'],                 'key',    'the source prepared a resume (§C.3 S10)'],
  ['dst-listen',            ['preempt'],              null,     'the destination processes LISTEN (§E #12)'],
  ['dst-run',               ['preempt'],              null,     'the destination starts running the guest (§D.3)'],
  ['send-shut',             ['preempt'],              'key',    'the destination sends SHUT (§C.3 D9)'],
  ['cleanup-entry',         ['preempt'],              'focus',  'the destination cleanup starts: QUIT + shutdown follow, no events (§C.3 D5)'],
  ['cleanup-join',          ['preempt'],              'key',    'the destination cleanup joins the fault thread (§C.3 D5)'],
  ['cleanup-exit',          ['preempt'],              'focus',  'the destination cleanup ends (§D.2)'],
  ['page-fault',            [],                       null,     'the destination fault thread requests a page'],
  ['page-req-add',          ['preempt'],              null,     'a page request outstanding (total N, §G.3)'],
  ['page-req-del',          ['preempt'],              null,     'a page request resolved (total N, §G.3)'],
  ['preempt-eos',           ['mode', 'preempt'],      'focus',  'the destination preempt thread read an EOS (§C.3 D4)'],
  ['preempt-read',          ['mode', 'preempt'],      null,     'the destination preempt thread read a page (§C.3 D3)'],
  ['preempt-pause',         ['preempt'],              'focus',  'the destination preempt thread pauses: its read failed (§C.3 D7)'],
  ['preempt-continue',      ['preempt'],              'key',    'the destination preempt thread resumes (§C.3 D7)'],
  ['rp-open',               [],                       null,     'the source opens a return path (again on a resume, §C.3 S10)'],
] as const satisfies ReadonlyArray<readonly [string, readonly SignalReader[], TimelineUse, string]>;

export type Signal = (typeof TABLE)[number][0];

/** Every signal, in table order (a catalog row's `signalIndex` indexes it). */
export const SIGNALS: readonly Signal[] = TABLE.map((r) => r[0]);

interface SignalInfo {
  readers: readonly SignalReader[];
  timeline: TimelineUse;
  meaning: string;
}

/** A signal's row of the table, by SIGNALS index. */
const SIGNAL_INFO: readonly SignalInfo[] = TABLE.map(([, readers, timeline, meaning]) => ({ readers, timeline, meaning }));

/** Whether `reader` reads `signal` (a table lookup, for the replay's per-row-set masks). */
export function reads(reader: SignalReader, signalIndex: number): boolean {
  return SIGNAL_INFO[signalIndex]?.readers.includes(reader) ?? false;
}

/** The signals a timeline use applies to: `key` includes the `focus` ones (a focus event is always kept). */
export function timelineSignals(use: 'focus' | 'key'): Set<string> {
  return new Set(SIGNALS.filter((_, i) => SIGNAL_INFO[i]!.timeline === 'focus' || (use === 'key' && SIGNAL_INFO[i]!.timeline === 'key')));
}

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
