// Is postcopy on, is preempt on, and is the source in x-preempt-pre-7-2 compat mode (§D.0)?
// Compat mode has no trace of its own; it shows in where the source creates the preempt channel
// (a lifecycle: SRC_CHANNEL below) and in an EOS arriving on the destination's preempt channel.
// The rest is evidence gathered as it comes (the first event that shows postcopy, preempt, ...).
import type { Evidence, ModeInference } from '../types.js';
import { fieldOf, type CatalogRow } from './catalog.js';
import type { EventRef } from './threads.js';
import type { WriterModel } from './version.js';
import { reads } from './signals.js';
import { Automaton, type Table } from './automaton.js';
import { stateOf, type StateEvent } from './episodes.js';

type ChannelState = 'setup' | 'active' | 'postcopy' | 'paused' | 'prepared';
type ChannelAction = 'inSetup' | 'atPostcopyStart' | 'beforeResumePrepare' | 'afterResumePrepare';

/**
 * When the source creates its preempt channel, relative to the migration's phases: the source's
 * sign of compat mode (§D.0 a, b). Fed the source's events only; one run per migration. A channel
 * after postcopy started, outside a resume, says nothing (ignored).
 */
// prettier-ignore
export const SRC_CHANNEL: Table<ChannelState, 'active' | 'postcopyPaused', ChannelAction> = {
  name: 'source preempt channel timing',
  states: ['setup', 'active', 'postcopy', 'paused', 'prepared'],
  initial: 'setup',
  transitions: [
    { from: '*', on: 'state', guard: 'postcopyPaused', to: 'paused', models: 'migrate_set_state new state postcopy-paused: a resume follows, and it creates the channel again (§D.0 b)' },
    { from: 'setup', on: 'state', guard: 'active', to: 'active', models: 'migrate_set_state new state active: the migration left setup (§D.0 a)' },
    { from: 'setup', on: 'preempt-channel', to: 'postcopy', action: 'inSetup', models: 'postcopy_preempt_setup from migrate_fd_connect (migration_connect), in setup: compat mode (preempt_pre_7_2) and 7.2 (§D.0 a)' },
    { from: 'active', on: 'preempt-channel', to: 'postcopy', action: 'atPostcopyStart', models: 'postcopy_preempt_establish_channel from postcopy_start: new mode creates the channel when postcopy starts, seconds after setup (§D.0 a)' },
    { from: 'setup', on: 'postcopy-start', to: 'postcopy', models: 'postcopy_start with no channel yet: a later channel is not the setup one (§D.0 a)' },
    { from: 'active', on: 'postcopy-start', to: 'postcopy', models: 'postcopy_start with no channel yet (§D.0 a)' },
    { from: 'paused', on: 'resume-prepared', to: 'prepared', models: 'ram_state_resume_prepare: the resume prepared the RAM state (§D.0 b, §C.3 S10)' },
    { from: 'paused', on: 'preempt-channel', to: 'postcopy', action: 'beforeResumePrepare', models: 'a resume creating the channel before ram_state_resume_prepare: compat mode and 7.2 create it in migrate_fd_connect, before the migration thread resumes (§D.0 b)' },
    { from: 'prepared', on: 'preempt-channel', to: 'postcopy', action: 'afterResumePrepare', models: 'postcopy_preempt_establish_channel from postcopy_do_resume, after the resume prepare: new mode (§D.0 b)' },
  ],
};

/** An event as SRC_CHANNEL's guards (its state, as the migration phases read it) and actions read it. */
interface ChannelEvent extends StateEvent {
  ref: EventRef;
}

/**
 * What the source process showed about compat mode in any of its migrations: x-preempt-pre-7-2 is
 * set per process (-global or machine type), so a migration without evidence of its own (a retry
 * that never reached setup's channel) takes the process's.
 */
export class ProcessMode {
  readonly compat: Evidence[] = [];
  readonly newMode: Evidence[] = [];
}

export class ModeTracker {
  // The reactions to SRC_CHANNEL (a static member may reach the tracker's private methods).
  private static readonly CHANNEL = new Automaton<ChannelState, 'active' | 'postcopyPaused', ChannelAction, ModeTracker, ChannelEvent>(
    SRC_CHANNEL,
    {
      active: (_, e) => stateOf(e) === 'active',
      postcopyPaused: (_, e) => stateOf(e) === 'postcopy-paused',
    },
    {
      inSetup: (t, e) => {
        t.firstChannel(e.ref);
        t.compat(t.ev(e.ref, 'preempt channel created during setup, before the migration went active (pre-7.2 behaviour)'));
      },
      atPostcopyStart: (t, e) => {
        t.firstChannel(e.ref);
        t.newMode(t.ev(e.ref, 'preempt channel created after setup, at postcopy_start (new mode)'));
      },
      beforeResumePrepare: (t, e) => t.compat(t.ev(e.ref, 'resume: preempt channel created before ram_state_resume_prepare (pre-7.2 behaviour)')),
      afterResumePrepare: (t, e) => t.newMode(t.ev(e.ref, 'resume: preempt channel created after ram_state_resume_prepare (new mode)')),
    },
  );

  private postcopy: Evidence | null = null;
  private preemptOn: Evidence | null = null;
  private preemptOff: Evidence | null = null;
  /** postcopy_preempt_enabled 0: the source says preempt is off (a proof, not an absence). */
  get preemptOffSeen(): boolean {
    return this.preemptOff !== null;
  }
  private compatEvidence: Evidence[] = [];
  private newModeEvidence: Evidence[] = [];
  private srcPongs = 0;
  /** The source's first preempt channel, and whether it came before the first PONG (§D.0 a). */
  srcFirstChannel: EventRef | null = null;
  srcChannelBeforePong = false;
  firstSrcPong: EventRef | null = null;
  /** An EOS received on the destination preempt channel (§D.0 c). */
  dstEos: EventRef | null = null;
  private readonly channel = ModeTracker.CHANNEL.start();
  /** One event object, reused: the table's guards and actions read it during the step only. */
  private readonly channelEvent: ChannelEvent = { ref: null as unknown as EventRef, rows: [], args: '' };

  constructor(
    private readonly fileOf: (input: number) => string,
    private readonly process: ProcessMode = new ProcessMode(),
  ) {}

  private compat(e: Evidence): void {
    this.compatEvidence.push(e);
    if (this.process.compat.length < 3) this.process.compat.push(e);
  }

  private newMode(e: Evidence): void {
    this.newModeEvidence.push(e);
    if (this.process.newMode.length < 3) this.process.newMode.push(e);
  }

  /** The source's first preempt channel (in setup or at postcopy_start), and whether a PONG came before it (§D.0 a). */
  private firstChannel(ref: EventRef): void {
    this.srcFirstChannel = ref;
    this.srcChannelBeforePong = this.srcPongs === 0;
  }

  private ev(ref: EventRef, claim: string): Evidence {
    return { claim, event: ref.name, file: this.fileOf(ref.input), line: ref.line };
  }

  static wants(row: CatalogRow): boolean {
    return reads('mode', row.signalIndex);
  }

  observe(ref: EventRef, rows: readonly CatalogRow[], args: string): void {
    for (const row of rows) {
      if (ref.side === 'src' && ModeTracker.CHANNEL.reads[row.signalIndex]) {
        const e = this.channelEvent;
        e.ref = ref;
        e.rows = rows;
        e.args = args;
        ModeTracker.CHANNEL.step(this.channel, row.signalIndex, this, e);
      }
      this.evidence(ref, row, rows, args);
    }
  }

  /** The first event that shows each thing (postcopy, preempt on or off, PONGs, the destination's EOS). */
  private evidence(ref: EventRef, row: CatalogRow, rows: readonly CatalogRow[], args: string): void {
    switch (row.signal) {
      case 'postcopy-start':
      case 'listen-exit':
        this.postcopy ??= this.ev(ref, 'postcopy started');
        break;
      case 'thread-start':
        if (row.role === 'listen') this.postcopy ??= this.ev(ref, 'destination listen thread started (postcopy)');
        if (row.role === 'preempt') this.preemptOn ??= this.ev(ref, 'destination preempt thread started');
        break;
      case 'preempt-on':
        this.preemptOn ??= this.ev(ref, 'postcopy_preempt_enabled 1');
        break;
      case 'preempt-off':
        this.preemptOff ??= this.ev(ref, 'postcopy_preempt_enabled 0');
        break;
      case 'pong':
        if (ref.side === 'src') {
          this.srcPongs++;
          this.firstSrcPong ??= ref;
        }
        break;
      case 'state':
        if (fieldOf(rows, args, 'state') === 'postcopy-active') this.postcopy ??= this.ev(ref, 'state postcopy-active');
        break;
      case 'preempt-channel':
        // Where the source created it is SRC_CHANNEL's. (The first PONG is no sure sign of the
        // mode: a real compat run had its PONG 0.4 ms before the channel, still in setup.)
        this.preemptOn ??= this.ev(ref, 'preempt channel created');
        break;
      case 'preempt-read':
        this.preemptOn ??= this.ev(ref, 'page on the destination preempt channel (ram_load_postcopy_loop chan=1)');
        break;
      case 'preempt-eos':
        this.preemptOn ??= this.ev(ref, 'page on the preempt channel');
        // §D.0 (c): never happens in new mode.
        this.dstEos ??= ref;
        this.compat(this.ev(ref, 'EOS received on the destination preempt channel (pre-7.2 behaviour)'));
        break;
      case 'urgent-write':
        this.preemptOn ??= this.ev(ref, 'urgent page sent on the preempt channel');
        break;
    }
  }

  /** Whether the source writes EOS on postcopy_qemufile_src at completion (§B.1 "W (EOS)"). */
  result(writer: WriterModel): ModeInference & { eosWritten: boolean | null } {
    const evidence: Evidence[] = [];
    if (this.postcopy) evidence.push(this.postcopy);
    const preempt = this.preemptOn !== null;
    if (this.preemptOn) evidence.push(this.preemptOn);
    if (this.preemptOff) evidence.push(this.preemptOff);
    let compat: boolean | null = null;
    if (preempt) {
      // This migration's own evidence first; else what its process showed in another migration.
      const own = this.compatEvidence.length + this.newModeEvidence.length > 0;
      const compatEv = own ? this.compatEvidence : this.process.compat;
      const newEv = own ? this.newModeEvidence : this.process.newMode;
      const from = own ? '' : ' (in another migration of the same source process)';
      if (compatEv.length) {
        compat = writer === 'migration-thread (<=7.2)' ? false : true;
        evidence.push(...compatEv.slice(0, 3).map((e) => ({ ...e, claim: e.claim + from })));
      } else if (newEv.length) {
        compat = false;
        evidence.push(...newEv.slice(0, 3).map((e) => ({ ...e, claim: e.claim + from })));
      }
      if (writer === 'migration-thread (<=7.2)') {
        compat = false;
        evidence.push({ claim: 'source <=7.2: the old preempt behaviour is native there, not compat mode' });
      }
    }
    const eosWritten = !preempt ? false : writer === 'migration-thread (<=7.2)' ? true : compat;
    return { postcopy: this.postcopy !== null, preempt, compatPre72: compat, evidence, eosWritten };
  }
}
