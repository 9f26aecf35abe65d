// Is postcopy on, is preempt on, and is the source in x-preempt-pre-7-2 compat mode (§D.0)?
// Compat mode has no trace of its own; it shows in where the source creates the preempt channel
// and in an EOS arriving on the destination's preempt channel.
import type { Evidence, ModeInference } from '../types.js';
import { fieldOf, type CatalogRow } from './catalog.js';
import type { EventRef } from './threads.js';
import type { WriterModel } from './version.js';
import { reads } from './signals.js';


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
  private srcPostcopyStarted = false;
  private srcChannels = 0;
  private srcInResume = false;
  private srcResumePrepared = false;
  private srcActive = false;

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

  private ev(ref: EventRef, claim: string): Evidence {
    return { claim, event: ref.name, file: this.fileOf(ref.input), line: ref.line };
  }

  static wants(row: CatalogRow): boolean {
    return reads('mode', row.signalIndex);
  }

  observe(ref: EventRef, rows: readonly CatalogRow[], args: string): void {
    for (const row of rows) {
      switch (row.signal) {
        case 'postcopy-start':
        case 'listen-exit':
          this.postcopy ??= this.ev(ref, 'postcopy started');
          if (ref.side === 'src' && row.signal === 'postcopy-start') this.srcPostcopyStarted = true;
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
        case 'state': {
          const state = fieldOf(rows, args, 'state');
          if (ref.side === 'src' && state === 'active') this.srcActive = true;
          if (ref.side === 'src' && state === 'postcopy-paused') {
            this.srcInResume = true;
            this.srcResumePrepared = false;
          }
          if (state === 'postcopy-active') this.postcopy ??= this.ev(ref, 'state postcopy-active');
          break;
        }
        case 'resume-prepared':
          if (ref.side === 'src') this.srcResumePrepared = true;
          break;
        case 'preempt-channel':
          this.preemptOn ??= this.ev(ref, 'preempt channel created');
          if (ref.side !== 'src') break;
          this.srcChannels++;
          if (this.srcInResume) {
            // §D.0 (b), as seen in real traces: new mode creates the channel after
            // ram_state_resume_prepare; compat mode (and 7.2) before the migration thread resumes.
            if (this.srcResumePrepared) this.newMode(this.ev(ref, 'resume: preempt channel created after ram_state_resume_prepare (new mode)'));
            else this.compat(this.ev(ref, 'resume: preempt channel created before ram_state_resume_prepare (pre-7.2 behaviour)'));
            this.srcInResume = false;
          } else if (this.srcChannels === 1 && !this.srcPostcopyStarted) {
            this.srcFirstChannel = ref;
            this.srcChannelBeforePong = this.srcPongs === 0;
            // §D.0 (a): compat mode and 7.2 create the channel during setup; new mode at
            // postcopy_start, seconds later. (The first PONG is no sure sign: a real compat run
            // had its PONG 0.4 ms before the channel, still in setup.)
            if (!this.srcActive) this.compat(this.ev(ref, 'preempt channel created during setup, before the migration went active (pre-7.2 behaviour)'));
            else this.newMode(this.ev(ref, 'preempt channel created after setup, at postcopy_start (new mode)'));
          }
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
