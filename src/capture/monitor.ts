// The migration monitor: QMP commands as recorded steps, waits for a MIGRATION status (events, with
// a query-migrate poll as a fallback), what each side's events said, and the post-mortem of a
// capture that went wrong (thread states, last statuses; migrate_cancel for a hang).
import { existsSync, readFileSync } from 'node:fs';
import { hangSnapshot } from './qemu.js';
import { QmpClosedError, type QmpClient } from './qmp.js';
import type { Recorder } from './record.js';
import { errText, sleep, StatusTimeout, type CaptureSession } from './session.js';

/** Terminal MIGRATION statuses and what each scenario step waits for. */
export const STARTED = ['active', 'postcopy-active', 'completed', 'failed', 'cancelled'];
export const IN_POSTCOPY = ['postcopy-active', 'completed', 'failed', 'cancelled'];
export const PAUSED = ['postcopy-paused', 'completed', 'failed', 'cancelled'];
export const FINISHED = ['completed', 'failed', 'cancelled'];

/** One QMP command on `side`, recorded as a step with its answer or error. */
export async function qmpStep<T = unknown>(s: CaptureSession, side: string, cmd: string, args?: Record<string, unknown>, timeout = 10_000): Promise<T> {
  const l = s.live[side];
  const step = s.rec.step('qmp', { side, cmd, args: args ?? {} });
  if (!l?.qmp) throw new Error(`${side}: no QMP connection for ${cmd}`);
  try {
    const ret = await s.guard(l.qmp.execute<T>(cmd, args, timeout));
    step['ret'] = ret;
    return ret;
  } catch (e) {
    step['error'] = errText(e);
    throw e;
  }
}

/** Where a status wait is: since when, which statuses it saw, how far it read the events. */
interface WaitState {
  start: number;
  seen: string[];
  idx: number;
  lastPoll: number;
}

/** Waits until `side` reports one of `want` (MIGRATION events, with a query-migrate poll as a
 *  fallback), counting events from index `since`. */
export async function waitStatus(s: CaptureSession, side: string, want: string[], timeout: number, since: number): Promise<string> {
  const qmp = s.live[side]?.qmp;
  if (!qmp) throw new Error(`${side}: no QMP connection`);
  const step = s.rec.step('wait-status', { side, want, timeout: timeout / 1000 });
  const w: WaitState = { start: Date.now(), seen: [], idx: since, lastPoll: Date.now() };
  const end = (got: string | null, extra: Record<string, unknown> = {}): void => {
    Object.assign(step, { seen: w.seen, got, elapsed: (Date.now() - w.start) / 1000, ...extra });
  };
  try {
    for (;;) {
      const got = nextWanted(qmp, want, w);
      if (got) return (end(got), got);
      const left = w.start + timeout - Date.now();
      if (left <= 0) break;
      await s.guard(
        qmp.waitForEvent((ev) => ev.event === 'MIGRATION', Math.min(left, 500), w.idx).catch((e: unknown) => {
          if (e instanceof QmpClosedError) throw new Error(`${side}: QMP connection closed while waiting for ${want.join('/')}`);
          return null;
        }),
      );
      const polled = await pollStatus(qmp, want, w);
      if (polled) return (end(polled), polled);
    }
  } catch (e) {
    end(null, { error: errText(e) });
    throw e;
  }
  end(null);
  throw new StatusTimeout(side, `${side}: timed out after ${timeout / 1000} s waiting for ${want.join('/')}; saw ${w.seen.join(' → ') || 'no status change'}`);
}

/** The first wanted status among the events not read yet (each status read goes to `seen`). */
function nextWanted(qmp: QmpClient, want: string[], w: WaitState): string | null {
  for (; w.idx < qmp.events.length; w.idx++) {
    const ev = qmp.events[w.idx];
    const st = ev?.event === 'MIGRATION' ? ev.data?.['status'] : undefined;
    if (typeof st !== 'string') continue;
    w.seen.push(st);
    if (want.includes(st)) return st;
  }
  return null;
}

/** Every 2 s, query-migrate: events should suffice; the poll is for a QEMU whose events we somehow missed. */
async function pollStatus(qmp: QmpClient, want: string[], w: WaitState): Promise<string | null> {
  if (Date.now() - w.lastPoll < 2000) return null;
  w.lastPoll = Date.now();
  const r = await qmp.execute<{ status?: string }>('query-migrate', undefined, 1500).catch(() => null);
  if (r?.status && want.includes(r.status) && qmp.events.length === w.idx) {
    w.seen.push(`${r.status} (polled)`);
    return r.status;
  }
  return null;
}

/** The last MIGRATION status `side` reported, or null. */
export function lastStatus(s: CaptureSession, side: string): string | null {
  const evs = s.live[side]?.qmp?.events ?? [];
  for (let i = evs.length - 1; i >= 0; i--) {
    const st = evs[i]?.event === 'MIGRATION' ? evs[i]?.data?.['status'] : undefined;
    if (typeof st === 'string') return st;
  }
  return null;
}

/** Time of the first MIGRATION event with this status, from event index `since` on. */
export function eventTime(s: CaptureSession, side: string, status: string, since = 0): number | null {
  const ev = s.live[side]?.qmp?.events.slice(since).find((e) => e.event === 'MIGRATION' && e.data?.['status'] === status);
  return ev?.timestamp ? ev.timestamp.seconds + ev.timestamp.microseconds / 1e6 : null;
}

export function statusesSeen(s: CaptureSession, side: string, since = 0): string[] {
  return (s.live[side]?.qmp?.events ?? [])
    .slice(since)
    .map((e) => (e.event === 'MIGRATION' ? e.data?.['status'] : undefined))
    .filter((st): st is string => typeof st === 'string');
}

export function eventCount(s: CaptureSession, side: string): number {
  return s.live[side]?.qmp?.events.length ?? 0;
}

/** Waits for the guest's first heartbeat (`hb t=1`, after ~1000 sweeps) on the source. */
export async function waitForGuestHeartbeat(serialPath: string, timeoutMs: number, rec: Recorder): Promise<void> {
  const step = rec.step('wait-guest', { want: 'hb t=1', timeout: timeoutMs / 1000 });
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (existsSync(serialPath) && readFileSync(serialPath, 'utf8').includes('\nhb t=')) {
      step['elapsed'] = (Date.now() - start) / 1000;
      return;
    }
    await sleep(25);
  }
  step['elapsed'] = null;
  throw new Error(`no heartbeat from the guest on the source's serial console within ${timeoutMs / 1000} s (see ${serialPath})`);
}

/** What the processes were doing when it went wrong, for the post-mortem; a hang is then cancelled. */
export async function recordFailure(s: CaptureSession, e: unknown): Promise<void> {
  const snap: Record<string, unknown> = { t: s.rec.now(), t_rel: s.rec.rel(), reason: errText(e) };
  for (const name of s.procNames) {
    const l = s.live[name];
    if (!l) continue;
    snap[`${name}_threads`] = hangSnapshot(l.proc.pid);
    snap[`${name}_status_seen`] = lastStatus(s, name);
    if (l.qmp && !l.qmp.closed && !l.proc.exitInfo) snap[`${name}_query_migrate`] = await l.qmp.execute('query-migrate', undefined, 2000).catch((x: unknown) => `no answer: ${errText(x)}`);
  }
  s.hangSnapshots.push(snap);
  if (e instanceof StatusTimeout) await cancelHung(s);
}

/** A migration that hangs: ask the source to cancel it, as a user would, and record what that
 *  did (7.2 with multifd and postcopy-preempt stays `cancelling`). The trace then shows the
 *  cancel too. Stopping the processes comes after, as for any failure. */
async function cancelHung(s: CaptureSession): Promise<void> {
  const src = s.live['src'];
  if (!src?.qmp || src.qmp.closed || src.proc.exitInfo || s.opts.signal?.aborted) return;
  const since = eventCount(s, 'src');
  s.timings['cancel_sent'] = s.rec.now();
  const sent = await qmpStep(s, 'src', 'migrate_cancel', undefined, 3000).then(
    () => true,
    (x: unknown) => (s.rec.note(`src: migrate_cancel after the hang: ${errText(x)}`), false),
  );
  if (!sent) return;
  const end = await waitStatus(s, 'src', ['cancelled', 'failed', 'completed'], 5000, since).catch(() => null);
  const seen = statusesSeen(s, 'src', since);
  s.rec.note(`src after migrate_cancel: ${end ?? `still ${seen.at(-1) ?? lastStatus(s, 'src') ?? 'unknown'} after 5 s`} (statuses seen: ${seen.join(' → ') || 'none'})`);
  const snap: Record<string, unknown> = { t: s.rec.now(), t_rel: s.rec.rel(), reason: 'after migrate_cancel' };
  for (const name of s.procNames) {
    const l = s.live[name];
    if (!l) continue;
    snap[`${name}_threads`] = hangSnapshot(l.proc.pid);
    snap[`${name}_status_seen`] = lastStatus(s, name);
  }
  s.hangSnapshots.push(snap);
}
