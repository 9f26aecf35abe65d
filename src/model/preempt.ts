// The destination preempt ("fast load") thread's life (§C.3 D2-D9, §D.2-§D.4): created, reading,
// paused on a failed read, asked to quit by the cleanup (no event: bracketed by
// postcopy_ram_incoming_cleanup_entry), exited. Also the evidence around it: who ran the
// cleanup (listen ≤10.1, main 10.2, §A.3), the destination's own pauses, SHUT, page requests.
import { fieldOf, type CatalogRow } from './catalog.js';
import type { EventRef } from './threads.js';

export interface Pause {
  pause: EventRef;
  resumed: EventRef | null;
  /** The cleanup had started (quit requested) before this pause. */
  afterCleanupEntry: boolean;
  /** A genuine destination pause (postcopy_pause_incoming or state postcopy-paused) came between the cleanup entry and this pause. */
  incomingPauseBetween: boolean;
}

const PREEMPT_SIGNALS = new Set<string>([
  'thread-start', 'thread-exit', 'preempt-eos', 'preempt-pause', 'preempt-continue', 'cleanup-entry', 'cleanup-join',
  'cleanup-exit', 'preempt-read', 'load-eof', 'send-shut', 'incoming-pause', 'state', 'page-req-add', 'page-req-del', 'dst-listen', 'dst-run', 'preempt-channel',
]);

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
  lastDstEventTs: number | null = null;
  private lastIncomingPauseSinceEntry = false;

  static wants(row: CatalogRow): boolean {
    return row.side !== 'src' && PREEMPT_SIGNALS.has(row.signal);
  }

  observe(ref: EventRef, rows: readonly CatalogRow[], args: string): void {
    if (ref.side !== 'dst') return;
    if (ref.ts !== null) this.lastDstEventTs = ref.ts;
    for (const row of rows) {
      switch (row.signal) {
        case 'thread-start':
          if (row.role === 'preempt' && !this.entry) this.entry = ref;
          break;
        case 'thread-exit':
          if (row.role === 'preempt' && !this.exit) {
            this.exit = ref;
            this.pageReqAtExit = this.pageReqTotal;
          }
          break;
        case 'dst-listen':
          this.dstListen ??= ref;
          break;
        case 'dst-run':
          this.dstRun ??= ref;
          break;
        case 'preempt-channel':
          this.dstPreemptChannel ??= ref;
          break;
        case 'preempt-eos':
          this.eos ??= ref;
          break;
        case 'preempt-pause':
          this.pauses.push({
            pause: ref,
            resumed: null,
            afterCleanupEntry: this.cleanupEntry !== null,
            incomingPauseBetween: this.lastIncomingPauseSinceEntry,
          });
          break;
        case 'preempt-continue': {
          const open = this.pauses.find((p) => p.resumed === null);
          if (open) open.resumed = ref;
          break;
        }
        case 'cleanup-entry':
          this.cleanupEntry ??= ref;
          this.pageReqAtCleanup = this.pageReqTotal;
          this.lastIncomingPauseSinceEntry = false;
          break;
        case 'cleanup-join':
          this.cleanupJoin ??= ref;
          break;
        case 'cleanup-exit':
          this.cleanupExit ??= ref;
          break;
        case 'load-eof':
          this.loadEof ??= ref;
          break;
        case 'send-shut':
          this.sendShut ??= ref;
          break;
        case 'incoming-pause':
          this.incomingPauses.push(ref);
          this.lastIncomingPauseSinceEntry = true;
          break;
        case 'state':
          if (fieldOf(rows, args, 'state') === 'postcopy-paused') {
            this.incomingPausedStates.push(ref);
            this.lastIncomingPauseSinceEntry = true;
          }
          break;
        case 'page-req-add':
        case 'page-req-del': {
          // The catalog row applies only when `total N` parsed (its match names the field).
          const total = fieldOf(rows, args, 'total');
          if (total !== null) this.pageReqTotal = Number(total);
          this.pageReqEvents++;
          if (row.signal === 'page-req-add') this.lastPageReqAdd = ref;
          break;
        }
        case 'preempt-read':
          this.reads++;
          this.firstRead ??= ref;
          this.lastRead = ref;
          break;
      }
    }
  }

  /** The preempt thread's role-resolved TID, if the trace has one. */
  get tid(): number | null {
    return this.entry?.tid ?? null;
  }
}
