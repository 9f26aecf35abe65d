// The destination preempt ("fast load") thread's life (§C.3 D2-D9, §D.2-§D.4): created, reading,
// paused on a failed read, asked to quit by the cleanup (no event: bracketed by
// postcopy_ram_incoming_cleanup_entry), exited. Also the evidence around it: who ran the
// cleanup (listen ≤10.1, main 10.2, §A.3), the destination's own pauses, SHUT, page requests.
import { Automaton, type Table } from './automaton.js';
import { fieldOf, type CatalogRow } from './catalog.js';
import { reads, SIGNALS } from './signals.js';
import type { EventRef } from './threads.js';

export interface Pause {
  pause: EventRef;
  resumed: EventRef | null;
  /** The cleanup had started (quit requested) before this pause. */
  afterCleanupEntry: boolean;
  /** A genuine destination pause (postcopy_pause_incoming or state postcopy-paused) came between the cleanup entry and this pause. */
  incomingPauseBetween: boolean;
}

/** One catalog row of one event, as the lifecycle tables' guards and actions see it. */
interface RowEvent {
  ref: EventRef;
  row: CatalogRow;
  rows: readonly CatalogRow[];
  args: string;
}

type P = PreemptLifecycle;

// The destination preempt ("fast load") thread (§C.3 D2-D7).
// prettier-ignore
export const PREEMPT_THREAD: Table<'not-started' | 'running' | 'paused' | 'exited', 'preemptRow', 'entry' | 'read' | 'eos' | 'pause' | 'resume' | 'exit'> = {
  name: 'preempt thread',
  states: ['not-started', 'running', 'paused', 'exited'],
  initial: 'not-started',
  transitions: [
    { from: 'not-started', on: 'thread-start', guard: 'preemptRow', to: 'running', action: 'entry', models: 'postcopy_preempt_thread_entry: created while the main thread handles LISTEN (§C.3 D2)' },
    { from: '*', on: 'thread-start', guard: 'preemptRow', to: '=', action: 'entry', models: 'an entry after the thread had logged: the first stays its start' },
    { from: '*', on: 'preempt-read', to: '=', action: 'read', models: 'ram_load_postcopy_loop chan=1: the thread reads a page (§C.3 D3)' },
    { from: '*', on: 'preempt-eos', to: '=', action: 'eos', models: 'ram_load_postcopy_loop chan=1 flags=0x10: an EOS from a 7.2 or compat-mode source; the thread exits next (§C.3 D4)' },
    { from: '*', on: 'preempt-pause', to: 'paused', action: 'pause', models: 'postcopy_pause_fast_load: its read failed and it waits for a recovery (§C.3 D7)' },
    { from: 'paused', on: 'preempt-continue', to: 'running', action: 'resume', models: 'postcopy_pause_fast_load_continued: recovered (§C.3 D7)' },
    { from: '*', on: 'preempt-continue', to: '=', action: 'resume', models: 'a continue whose pause the trace does not hold' },
    { from: '*', on: 'thread-exit', guard: 'preemptRow', to: 'exited', action: 'exit', models: 'postcopy_preempt_thread_exit: a willing quit, or after the EOS (§C.3 D6)' },
  ],
};

// The destination cleanup that asks the preempt thread to quit (§C.3 D5, §D.2), and what it waits
// for: the outstanding page requests (≥ 8.1.2, §G.3). QUIT, the wait, the shutdown and the join of
// the preempt thread have no events: they sit between _entry and the thread's exit.
// prettier-ignore
export const DST_CLEANUP: Table<'idle' | 'quitting' | 'joined' | 'done', never, 'quit' | 'join' | 'exit' | 'pageRequests' | 'loadEof' | 'shut'> = {
  name: 'destination cleanup',
  states: ['idle', 'quitting', 'joined', 'done'],
  initial: 'idle',
  transitions: [
    { from: '*', on: 'page-req-add', to: '=', action: 'pageRequests', models: 'postcopy_page_req_add ... total N: a guest page requested (§G.3)' },
    { from: '*', on: 'page-req-del', to: '=', action: 'pageRequests', models: 'postcopy_page_req_del ... total N: a requested page arrived (§G.3)' },
    { from: '*', on: 'load-eof', to: '=', action: 'loadEof', models: 'qemu_loadvm_state_section 0: the listen thread read QEMU_VM_EOF, the source is done (§D.2)' },
    { from: '*', on: 'cleanup-entry', to: 'quitting', action: 'quit', models: 'postcopy_ram_incoming_cleanup_entry: PREEMPT_THREAD_QUIT + qemu_file_shutdown(postcopy_qemufile_dst) follow (§C.3 D5)' },
    { from: 'quitting', on: 'cleanup-join', to: 'joined', action: 'join', models: 'postcopy_ram_incoming_cleanup_join: the preempt thread was joined, now the fault thread (§C.3 D5)' },
    { from: '*', on: 'cleanup-join', to: '=', action: 'join', models: 'a join whose cleanup entry the trace does not hold' },
    { from: '*', on: 'cleanup-exit', to: 'done', action: 'exit', models: 'postcopy_ram_incoming_cleanup_exit (§D.2)' },
    { from: '*', on: 'send-shut', to: '=', action: 'shut', models: 'migrate_send_rp_message 1: SHUT to the source, once the cleanup is over (§C.3 D9)' },
  ],
};

// Whether the destination itself paused (a genuine failure) since the cleanup asked the preempt
// thread to quit: a preempt pause after it is then no misread quit (§D.3, §D.4).
// prettier-ignore
export const DST_PAUSE: Table<'clear' | 'paused', 'pausedState', 'incomingPause' | 'pausedState'> = {
  name: 'destination pause since the quit request',
  states: ['clear', 'paused'],
  initial: 'clear',
  transitions: [
    { from: '*', on: 'incoming-pause', to: 'paused', action: 'incomingPause', models: 'postcopy_pause_incoming: the listen thread saw the channel fail (§C.3 D8)' },
    { from: '*', on: 'state', guard: 'pausedState', to: 'paused', action: 'pausedState', models: 'migrate_set_state new state postcopy-paused on the destination (§C.3 D8)' },
    { from: '*', on: 'cleanup-entry', to: 'clear', models: 'the quit request: pauses before it do not count against the thread (§D.4)' },
  ],
};

// Where the destination is on its way to running the guest (§C.3 D1-D2, §D.3).
// prettier-ignore
export const DST_INCOMING: Table<'loading' | 'listening' | 'running', never, 'channel' | 'listen' | 'run'> = {
  name: 'destination incoming',
  states: ['loading', 'listening', 'running'],
  initial: 'loading',
  transitions: [
    { from: '*', on: 'preempt-channel', to: '=', action: 'channel', models: 'postcopy_preempt_new_channel: the preempt channel accepted (§C.3 D1)' },
    { from: 'loading', on: 'dst-listen', to: 'listening', action: 'listen', models: 'loadvm_postcopy_handle_listen enter: LISTEN processed (§C.3 D2, §E #12)' },
    { from: '*', on: 'dst-listen', to: '=', action: 'listen', models: 'a LISTEN after the first' },
    { from: '*', on: 'dst-run', to: 'running', action: 'run', models: 'loadvm_postcopy_handle_run: the destination runs the guest (§D.3)' },
  ],
};

const isPreemptRow = (_: P, e: RowEvent) => e.row.role === 'preempt';

const THREAD = new Automaton<'not-started' | 'running' | 'paused' | 'exited', 'preemptRow', 'entry' | 'read' | 'eos' | 'pause' | 'resume' | 'exit', P, RowEvent>(
  PREEMPT_THREAD,
  { preemptRow: isPreemptRow },
  {
    entry: (p, e) => void (p.entry ??= e.ref),
    read: (p, e) => {
      p.reads++;
      p.firstRead ??= e.ref;
      p.lastRead = e.ref;
    },
    eos: (p, e) => void (p.eos ??= e.ref),
    pause: (p, e) => void p.pauses.push({ pause: e.ref, resumed: null, afterCleanupEntry: p.cleanupEntry !== null, incomingPauseBetween: p.pausedSinceQuit() }),
    resume: (p, e) => {
      const open = p.pauses.find((x) => x.resumed === null);
      if (open) open.resumed = e.ref;
    },
    exit: (p, e) => {
      if (p.exit) return;
      p.exit = e.ref;
      p.pageReqAtExit = p.pageReqTotal;
    },
  },
);

const CLEANUP = new Automaton<'idle' | 'quitting' | 'joined' | 'done', never, 'quit' | 'join' | 'exit' | 'pageRequests' | 'loadEof' | 'shut', P, RowEvent>(DST_CLEANUP, {}, {
  quit: (p, e) => {
    p.cleanupEntry ??= e.ref;
    p.pageReqAtCleanup = p.pageReqTotal;
  },
  join: (p, e) => void (p.cleanupJoin ??= e.ref),
  exit: (p, e) => void (p.cleanupExit ??= e.ref),
  pageRequests: (p, e) => {
    // The catalog row applies only when `total N` parsed (its match names the field).
    const total = fieldOf(e.rows, e.args, 'total');
    if (total !== null) p.pageReqTotal = Number(total);
    p.pageReqEvents++;
    if (e.row.signal === 'page-req-add') p.lastPageReqAdd = e.ref;
  },
  loadEof: (p, e) => void (p.loadEof ??= e.ref),
  shut: (p, e) => void (p.sendShut ??= e.ref),
});

const PAUSE = new Automaton<'clear' | 'paused', 'pausedState', 'incomingPause' | 'pausedState', P, RowEvent>(
  DST_PAUSE,
  { pausedState: (_, e) => fieldOf(e.rows, e.args, 'state') === 'postcopy-paused' },
  {
    incomingPause: (p, e) => void p.incomingPauses.push(e.ref),
    pausedState: (p, e) => void p.incomingPausedStates.push(e.ref),
  },
);

const INCOMING = new Automaton<'loading' | 'listening' | 'running', never, 'channel' | 'listen' | 'run', P, RowEvent>(DST_INCOMING, {}, {
  channel: (p, e) => void (p.dstPreemptChannel ??= e.ref),
  listen: (p, e) => void (p.dstListen ??= e.ref),
  run: (p, e) => void (p.dstRun ??= e.ref),
});

/** The preempt model's lifecycles, in the order each event is fed to them. */
const LIFECYCLES = [THREAD, CLEANUP, PAUSE, INCOMING] as const;
/** By signal index: which of them read it (most events concern one), so an event is not offered to all four. */
const READERS: number[][] = Array.from({ length: SIGNALS.length }, (_, sig) => LIFECYCLES.flatMap((l, i) => (l.reads[sig] ? [i] : [])));

export class PreemptLifecycle {
  entry: EventRef | null = null;
  firstRead: EventRef | null = null;
  /** Last event of the preempt thread (for a stuck thread: where it stopped). */
  lastRead: EventRef | null = null;
  reads = 0;
  eos: EventRef | null = null;
  exit: EventRef | null = null;
  pauses: Pause[] = [];
  cleanupEntry: EventRef | null = null;
  cleanupJoin: EventRef | null = null;
  cleanupExit: EventRef | null = null;
  loadEof: EventRef | null = null;
  sendShut: EventRef | null = null;
  incomingPauses: EventRef[] = [];
  incomingPausedStates: EventRef[] = [];
  /** Outstanding page requests (`total N` of the last postcopy_page_req_add/_del). */
  pageReqTotal: number | null = null;
  pageReqAtCleanup: number | null = null;
  /** Outstanding page requests when the preempt thread exited, and the requests seen at all. */
  pageReqAtExit: number | null = null;
  pageReqEvents = 0;
  lastPageReqAdd: EventRef | null = null;
  dstListen: EventRef | null = null;
  dstRun: EventRef | null = null;
  dstPreemptChannel: EventRef | null = null;
  /** The runs of the lifecycle tables above (thread, cleanup, pause, incoming). */
  readonly runs = LIFECYCLES.map((a) => a.start());
  private readonly ev: RowEvent = { ref: null as unknown as EventRef, row: null as unknown as CatalogRow, rows: [], args: '' };

  static wants(row: CatalogRow): boolean {
    return row.side !== 'src' && reads('preempt', row.signalIndex);
  }

  observe(ref: EventRef, rows: readonly CatalogRow[], args: string): void {
    if (ref.side !== 'dst') return;
    const ev = this.ev;
    ev.ref = ref;
    ev.rows = rows;
    ev.args = args;
    for (const row of rows) {
      ev.row = row;
      const readers = READERS[row.signalIndex]!;
      for (let k = 0; k < readers.length; k++) {
        const i = readers[k]!;
        LIFECYCLES[i]!.step(this.runs[i]!, row.signalIndex, this, ev);
      }
    }
  }

  /** Each lifecycle's state, by table name (what the tests and the timeline read). */
  states(): Record<string, string> {
    return Object.fromEntries(LIFECYCLES.map((a, i) => [a.table.name, this.runs[i]!.state]));
  }

  /** A genuine destination pause came since the cleanup asked the preempt thread to quit (or since the start). */
  pausedSinceQuit(): boolean {
    return this.runs[2]!.state === 'paused';
  }

  /** The preempt thread's role-resolved TID, if the trace has one. */
  get tid(): number | null {
    return this.entry?.tid ?? null;
  }
}
