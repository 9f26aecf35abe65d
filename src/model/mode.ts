// Is postcopy on, is preempt on, and is the source in x-preempt-pre-7-2 compat mode (§D.0)?
// Compat mode has no trace of its own; it shows in where the source creates the preempt channel
// and in an EOS arriving on the destination's preempt channel.
import type { Evidence, ModeInference } from '../types.js';
import { fieldOf, type CatalogRow } from './catalog.js';
import type { EventRef } from './threads.js';
import type { WriterModel } from './version.js';

const MODE_SIGNALS = new Set<string>(['postcopy-start', 'listen-exit', 'thread-start', 'preempt-on', 'preempt-off', 'pong', 'state', 'resume-prepared', 'preempt-channel', 'preempt-eos', 'preempt-read', 'urgent-write']);

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

  constructor(private readonly fileOf: (input: number) => string) {}

  private ev(ref: EventRef, claim: string): Evidence {
    return { claim, event: ref.name, file: this.fileOf(ref.input), line: ref.line };
  }

  static wants(row: CatalogRow): boolean {
    return MODE_SIGNALS.has(row.signal);
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
        case 'state':
          if (ref.side === 'src' && fieldOf(rows, args, 'state') === 'postcopy-paused') {
            this.srcInResume = true;
            this.srcResumePrepared = false;
          }
          if (fieldOf(rows, args, 'state') === 'postcopy-active') this.postcopy ??= this.ev(ref, 'state postcopy-active');
          break;
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
            if (this.srcResumePrepared) this.newModeEvidence.push(this.ev(ref, 'resume: preempt channel created after ram_state_resume_prepare (new mode)'));
            else this.compatEvidence.push(this.ev(ref, 'resume: preempt channel created before ram_state_resume_prepare (pre-7.2 behaviour)'));
            this.srcInResume = false;
          } else if (this.srcChannels === 1 && !this.srcPostcopyStarted) {
            this.srcFirstChannel = ref;
            this.srcChannelBeforePong = this.srcPongs === 0;
            // §D.0 (a): new mode waits for the first PONG (5655aab079) and creates the channel at
            // postcopy_start; compat mode and 7.2 create it at setup.
            if (this.srcPongs === 0) this.compatEvidence.push(this.ev(ref, 'preempt channel created at setup, before the first PONG (pre-7.2 behaviour)'));
            else this.newModeEvidence.push(this.ev(ref, 'preempt channel created after the first PONG (new mode, 5655aab079)'));
          }
          break;
        case 'preempt-read':
          this.preemptOn ??= this.ev(ref, 'page on the destination preempt channel (ram_load_postcopy_loop chan=1)');
          break;
        case 'preempt-eos':
          this.preemptOn ??= this.ev(ref, 'page on the preempt channel');
          // §D.0 (c): never happens in new mode.
          this.dstEos ??= ref;
          this.compatEvidence.push(this.ev(ref, 'EOS received on the destination preempt channel (pre-7.2 behaviour)'));
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
      if (this.compatEvidence.length) {
        compat = writer === 'migration-thread (<=7.2)' ? false : true;
        evidence.push(...this.compatEvidence.slice(0, 3));
      } else if (this.newModeEvidence.length) {
        compat = false;
        evidence.push(...this.newModeEvidence.slice(0, 3));
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
