// From the kept lifecycle events and the analysis' inferences to what the timeline draws as
// intervals: migration state bands per side, which thread owns which QEMUFile when (§B, §G.2),
// and the bracketed access windows the rules reason about (the EOS window, §D.1; the destination
// cleanup until the preempt thread is gone, §D.2/§D.4; the return-path join). Pure.
import type { Role, RunResult, Side } from '../types.js';
import type { AccessWindow, Lane, OwnerSpan, Spans, StateBand, TimelineData, TlEvent } from './types.js';

/** The state a kept state change sets (read from the catalog's named capture as the event streamed by). */
export function stateName(e: TlEvent): string | null {
  return e.state;
}

export function computeSpans(data: TimelineData, run: RunResult): Spans {
  const key = data.events.filter((e) => e.key);
  const laneOf = (e: TlEvent) => data.lanes[e.lane] as Lane;
  const sideOf = (e: TlEvent): Side | null => laneOf(e).side;
  const bySignal = (signal: string, side?: Side) => key.filter((e) => e.signal === signal && (side === undefined || sideOf(e) === side));

  // State bands: each migrate_set_state until the next one of the same side.
  const states: StateBand[] = [];
  for (const side of ['src', 'dst'] as const) {
    const changes = bySignal('state', side).filter((e) => stateName(e) !== null);
    changes.forEach((e, i) => {
      const next = changes[i + 1];
      states.push({ side, state: stateName(e) as string, from: e.t, to: next ? next.t : data.tEnd, open: !next, event: e });
    });
  }

  // Where a lane's thread ends: its exit event, else its last event (the trace may stop earlier).
  const laneEnd = (l: Lane): { t: number; open: boolean } => {
    const exit = key.filter((e) => e.lane === l.id && e.signal === 'thread-exit').pop();
    if (exit) return { t: exit.t, open: false };
    return { t: l.last ?? data.tEnd, open: !l.exited };
  };
  const lanesOf = (side: Side, role: Role) => data.lanes.filter((l) => l.side === side && l.role === role && l.first !== null);

  const owners: OwnerSpan[] = [];
  const own = (file: string, side: Side, role: Role, why: string, from?: number, until?: (l: Lane) => { t: number; open: boolean }) => {
    for (const l of lanesOf(side, role)) {
      const start = Math.max(l.first as number, from ?? -Infinity);
      const end = (until ?? laneEnd)(l);
      if (end.t >= start) owners.push({ file, lane: l.id, from: start, to: end.t, open: end.open, why });
    }
  };
  const postcopyStart = bySignal('postcopy-start', 'src')[0]?.t ?? states.find((s) => s.side === 'src' && /^postcopy-active|^postcopy-device/.test(s.state))?.from;
  const writer = run.qemu.src.writerModel ?? 'unknown';
  const srcOwner: Role = writer.startsWith('migration') ? 'migration' : 'rp';
  if (run.mode.preempt && postcopyStart !== undefined) {
    own(
      'postcopy_qemufile_src',
      'src',
      srcOwner,
      srcOwner === 'rp' ? 'from 8.0 the return-path thread sends the urgent pages on it (§B.1, §G.2)' : 'up to 7.2 the migration thread sends urgent pages and the EOS (§B.1, §G.2)',
      postcopyStart,
    );
  }
  if (run.mode.preempt) own('postcopy_qemufile_dst', 'dst', 'preempt', 'only the preempt thread reads the destination preempt channel (§B.2)');
  own('to_dst_file', 'src', 'migration', 'the migration thread writes the main channel (§B.1)');
  own('from_dst_file', 'src', 'rp', 'the return-path thread reads the return path (§B.1)');
  if (run.mode.postcopy) {
    const listenExit = (l: Lane) => {
      const e = key.find((x) => x.lane === l.id && x.signal === 'listen-exit');
      return e ? { t: e.t, open: false } : laneEnd(l);
    };
    own('from_src_file', 'dst', 'listen', 'the listen thread reads the main channel during postcopy (§B.2)', undefined, listenExit);
  }

  const inFinding = (e: TlEvent | undefined) => !!e && e.findings.length > 0;
  const windows: AccessWindow[] = [];

  // EOS window: migration_completion_postcopy_end … _after_complete on the migration thread.
  const compat = run.mode.compatPre72 === true;
  for (const begin of bySignal('eos-window-begin', 'src')) {
    const end = key.find((e) => e.t >= begin.t && e.lane === begin.lane && e.signal === 'eos-window-end');
    let label: string;
    if (srcOwner === 'migration') label = 'EOS written by the owner (7.2: single writer)';
    else if (compat) label = 'EOS write on postcopy_qemufile_src (x-preempt-pre-7-2; inferred, no event of its own)';
    else label = 'postcopy completion (default mode: no EOS on the preempt channel)';
    if (!run.mode.preempt) label = 'postcopy completion (no preempt channel)';
    windows.push({
      kind: 'eos',
      file: run.mode.preempt && (compat || srcOwner === 'migration') ? 'postcopy_qemufile_src' : null,
      lane: begin.lane,
      from: begin.t,
      to: end ? end.t : data.tEnd,
      open: !end,
      label: end ? label : `${label}; never completed within the trace`,
      conflict: inFinding(begin) || inFinding(end),
      begin,
      end: end ?? null,
    });
  }

  // Return-path join: migration_return_path_end_before … _after (a hang here is a stuck shutdown).
  for (const begin of bySignal('rp-join-begin', 'src')) {
    const end = key.find((e) => e.t >= begin.t && e.lane === begin.lane && e.signal === 'rp-join-end');
    windows.push({ kind: 'rp-join', file: null, lane: begin.lane, from: begin.t, to: end ? end.t : data.tEnd, open: !end, label: end ? 'joins the return-path thread' : 'joins the return-path thread: never returns within the trace', conflict: inFinding(begin) || inFinding(end), begin, end: end ?? null });
  }

  // Destination cleanup: PREEMPT_THREAD_QUIT + qemu_file_shutdown (no events) until the preempt thread is gone.
  // The preempt thread's events: on its lane, or (a trace without TIDs) named so by the catalog.
  const preemptLanes = new Set(lanesOf('dst', 'preempt').map((l) => l.id));
  const isPreempt = (e: TlEvent) => sideOf(e) === 'dst' && (preemptLanes.has(e.lane) || e.role === 'preempt');
  for (const entry of bySignal('cleanup-entry', 'dst')) {
    // The preempt thread of the same process: a retried destination is another input (dst1.log, dst2.log).
    const own = (e: TlEvent) => e.input === entry.input && isPreempt(e);
    const after = key.filter((e) => e.t >= entry.t);
    const exit = after.find((e) => own(e) && e.signal === 'thread-exit');
    const pause = after.find((e) => own(e) && e.signal === 'preempt-pause');
    const exitedBefore = key.some((e) => e.t < entry.t && own(e) && e.signal === 'thread-exit');
    const join = after.find((e) => e.lane === entry.lane && e.signal === 'cleanup-join');
    let end: TlEvent | undefined;
    let label: string;
    if (pause && (!exit || pause.t < exit.t)) {
      end = pause;
      label = 'cleanup: the preempt thread took the quit for a network failure (§D.4)';
    } else if (exit) {
      end = exit;
      label = 'cleanup: quit requested until the preempt thread exits (§D.2)';
    } else if (exitedBefore) {
      end = join;
      label = 'cleanup (the preempt thread had already exited)';
    } else if (!data.events.some(own)) {
      // No postcopy threads to join either: the cleanup ends at its own exit.
      end = join ?? after.find((e) => e.lane === entry.lane && e.signal === 'cleanup-exit');
      label = 'cleanup (no preempt thread in this process: postcopy never started here)';
    } else {
      end = undefined;
      label = 'cleanup: the preempt thread never exits within the trace';
    }
    windows.push({ kind: 'cleanup', file: run.mode.preempt ? 'postcopy_qemufile_dst' : null, lane: entry.lane, from: entry.t, to: end ? end.t : data.tEnd, open: !end, label, conflict: inFinding(entry) || inFinding(end), begin: entry, end: end ?? null });
  }
  return { states, owners, windows };
}

/** QEMUFiles worth marking in a compact view: the preempt channels, and any file with an access window or a finding. */
export function contestedFiles(spans: Spans, run: RunResult): Set<string> {
  const s = new Set<string>();
  // The two preempt channels are what the rules are about; each has one owner on its own side.
  if (run.mode.preempt) for (const o of spans.owners) if (o.file === 'postcopy_qemufile_src' || o.file === 'postcopy_qemufile_dst') s.add(o.file);
  for (const w of spans.windows) if (w.file) s.add(w.file);
  for (const f of run.findings) if (f.object) s.add(f.object);
  return s;
}
