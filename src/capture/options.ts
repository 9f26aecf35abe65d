// What a capture is asked (CaptureOptions) and what it answers (CaptureResult). Here, not in
// capture.ts, so that the stages and meta.json use them without importing the runner.
import type { PreflightError } from './preflight.js';
import type { ScenarioName } from './scenarios.js';
import type { Side } from './types.js';

export interface CaptureOptions {
  scenario: ScenarioName;
  outDir: string;
  /** QEMU for both sides (default `qemu-system-x86_64` on PATH, or inside the chroot). */
  qemu?: string;
  srcQemu?: string;
  dstQemu?: string;
  /** Run QEMU inside this chroot (both sides unless overridden per side; '' = none). */
  chroot?: string;
  srcChroot?: string;
  dstChroot?: string;
  machine?: string;
  /** Delay between postcopy-active and the fault (pause/kill scenarios). */
  faultAfterMs?: number;
  /** Precopy time before migrate-start-postcopy. */
  precopyMs?: number;
  wsMib?: number;
  memMib?: number;
  port?: number;
  /** Longest wait for the migration to finish once started. */
  timeoutMs?: number;
  /** After completion, before the final queries: lets the destination guest print heartbeats. */
  settleMs?: number;
  /** migrate-set-parameters on the source (e.g. max-postcopy-bandwidth). */
  params?: Record<string, unknown>;
  /** Extra QEMU arguments for both sides, appended as they are (e.g. `-L /usr/share/qemu` for a
   *  self-built binary without its firmware). */
  qemuArgs?: string[];
  /** Both (all) QEMU processes' stderr, trace lines included, appended to one `combined.log`
   *  (no `-D`), as qtest's migration-test and many CI jobs produce. */
  combinedLog?: boolean;
  /** Per-thread files instead of each process's own log: `-d tid -D <work>/threads/t-%d.log`,
   *  one pattern for every QEMU (as a CI job passes it), collected into `<out>/threads/`. The only
   *  way to get thread ids from QEMU >= 10.1, whose default log has none; a process cannot write
   *  both forms, so the default log comes from a twin run (src/capture/twin.ts). */
  threadFiles?: boolean;
  /** Host path of the QEMU build's trace-events-all: each QEMU also writes the `simple`
   *  backend's binary trace (`-trace events=F,file=<name>.simple`, the same run as its log), and
   *  this file is copied beside them (needed to decode them). The binary must have been built with
   *  `--enable-trace-backends=log,simple`. */
  simpleTrace?: string;
  /** The other run of a twin pair, relative to outDir (recorded in meta.json `twin_of`). */
  twinOf?: string;
  signal?: AbortSignal;
  /** Progress lines (the CLI prints them on stderr). */
  log?: (line: string) => void;
}

export interface CaptureResult {
  outDir: string;
  scenario: ScenarioName;
  /** The migration went the way the scenario intends (completed, fault seen, recovered). */
  ok: boolean;
  /** One line: what happened. */
  outcome: string;
  /** Final migration status per side (`dst`: the last destination), and per process
   *  (`dst1`, `dst2`) in migrate-twice. */
  status: PerProcess<string | null>;
  versions: Record<Side, string | null>;
  errors: string[];
  wallMs: number;
  /** Lines of each trace log written: `src`, `dst` (null when not written), `dst1`/`dst2`
   *  (migrate-twice), `combined` (--combined-log). */
  logLines: PerProcess<number | null>;
  /** The trace logs written, as file names in outDir. */
  logFiles: string[];
  guest: string;
  /** This run wrote per-thread files (a twin run, or asked for). */
  threadFiles: boolean;
  /** Set when the capture could not even start (QEMU missing, no userfaultfd, busy port...). */
  preflight?: PreflightError['kind'];
}

/** Keyed by side, plus other process or file names where there are more than two. */
export type PerProcess<T> = Record<Side, T> & { [name: string]: T };

