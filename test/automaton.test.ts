// The lifecycle engine (src/model/automaton.ts) on small tables: a walk through a table, an event
// the current state does not take, guards tried in order, `*` and `=`, peek, and tables it refuses.
// Then the shipped tables: each is accepted, and the preempt tables read exactly the signals the
// signal table says the preempt lifecycle reads.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Automaton, type Table } from '../src/model/automaton.js';
import { MIGRATION_PHASES } from '../src/model/episodes.js';
import { EOS_WINDOW } from '../src/model/eos-window.js';
import { CANCEL, POSTCOPY_RECOVERY } from '../src/model/migration-states.js';
import { DST_CLEANUP, DST_INCOMING, DST_PAUSE, PREEMPT_THREAD } from '../src/model/preempt.js';
import { SRC_CHANNEL } from '../src/model/mode.js';
import { RP_JOIN, RP_RESUME, SRC_CLEANUP } from '../src/model/return-path.js';
import { reads, SIGNALS, type Signal } from '../src/model/signals.js';

const at = (s: Signal) => SIGNALS.indexOf(s);

interface Ev {
  n: number;
}
interface Log {
  done: string[];
}

// A thread: started, paused while n is odd, resumed, exited.
const THREAD: Table<'new' | 'run' | 'paused' | 'gone', 'odd', 'start' | 'pause' | 'resume' | 'exit'> = {
  name: 'test thread',
  states: ['new', 'run', 'paused', 'gone'],
  initial: 'new',
  transitions: [
    { from: 'new', on: 'thread-start', to: 'run', action: 'start', models: 'start' },
    { from: 'run', on: 'preempt-pause', guard: 'odd', to: 'paused', action: 'pause', models: 'pause on odd' },
    { from: 'run', on: 'preempt-pause', to: '=', models: 'even: stays' },
    { from: 'paused', on: 'preempt-continue', to: 'run', action: 'resume', models: 'resume' },
    { from: '*', on: 'thread-exit', to: 'gone', action: 'exit', models: 'exit from anywhere' },
  ],
};

function make(): Automaton<'new' | 'run' | 'paused' | 'gone', 'odd', 'start' | 'pause' | 'resume' | 'exit', Log, Ev> {
  const act = (name: string) => (l: Log, e: Ev) => void l.done.push(`${name}${e.n}`);
  return new Automaton(THREAD, { odd: (_, e) => e.n % 2 === 1 }, { start: act('start'), pause: act('pause'), resume: act('resume'), exit: act('exit') });
}

describe('lifecycle engine', () => {
  it('walks a table: each event takes its transition and runs its action', () => {
    const a = make();
    const run = a.start();
    const log: Log = { done: [] };
    const walk: string[] = [run.state];
    for (const [s, n] of [['thread-start', 1], ['preempt-pause', 3], ['preempt-continue', 4], ['thread-exit', 5]] as const) {
      assert.equal(a.step(run, at(s), log, { n }), true, s);
      walk.push(run.state);
    }
    assert.deepEqual(walk, ['new', 'run', 'paused', 'run', 'gone']);
    assert.deepEqual(log.done, ['start1', 'pause3', 'resume4', 'exit5']);
    assert.equal(run.ignored, 0);
  });

  it('an event the current state does not take leaves it there, runs nothing, and is counted', () => {
    const a = make();
    const run = a.start();
    const log: Log = { done: [] };
    assert.equal(a.step(run, at('preempt-continue'), log, { n: 1 }), false); // no pause to resume from 'new'
    assert.equal(a.step(run, at('state'), log, { n: 2 }), false); // a signal the table never names
    assert.equal(run.state, 'new');
    assert.deepEqual(log.done, []);
    assert.equal(run.ignored, 2);
  });

  it('tries guarded rows in table order: a failing guard falls through to the next row', () => {
    const a = make();
    const run = a.start();
    const log: Log = { done: [] };
    a.step(run, at('thread-start'), log, { n: 0 });
    a.step(run, at('preempt-pause'), log, { n: 2 }); // even: the unguarded row, `=`, no action
    assert.equal(run.state, 'run');
    a.step(run, at('preempt-pause'), log, { n: 7 }); // odd: the guarded row
    assert.equal(run.state, 'paused');
    assert.deepEqual(log.done, ['start0', 'pause7']);
  });

  it('`*` applies in every state; peek names the action without taking the transition', () => {
    const a = make();
    for (const path of [[], ['thread-start'], ['thread-start', 'preempt-pause']] as Signal[][]) {
      const run = a.start();
      const log: Log = { done: [] };
      for (const s of path) a.step(run, at(s), log, { n: 1 });
      const before = run.state;
      assert.equal(a.peek(run, at('thread-exit'), log, { n: 9 }), 'exit');
      assert.equal(run.state, before, 'peek moves nothing');
      assert.equal(a.peek(run, at('resume'), log, { n: 9 }), undefined);
      a.step(run, at('thread-exit'), log, { n: 9 });
      assert.equal(run.state, 'gone');
    }
    assert.equal(a.peek(a.start(), at('preempt-pause'), { done: [] }, { n: 1 }), undefined);
  });

  it('refuses a table that names an unknown state, guard, action or signal, or a transition that cites nothing', () => {
    const bad = (t: Partial<(typeof THREAD)['transitions'][number]>) =>
      () => new Automaton({ ...THREAD, transitions: [{ ...THREAD.transitions[0]!, ...t }] } as typeof THREAD, { odd: () => true }, { start() {}, pause() {}, resume() {}, exit() {} });
    assert.throws(bad({ to: 'nowhere' as 'run' }), /names no state 'nowhere'/);
    assert.throws(bad({ guard: 'even' as 'odd' }), /names no guard 'even'/);
    assert.throws(bad({ action: 'fly' as 'start' }), /names no action 'fly'/);
    assert.throws(bad({ on: 'no-such-signal' as Signal }), /names no signal 'no-such-signal'/);
    assert.throws(bad({ models: ' ' }), /does not say which QEMU code it models/);
  });
});

describe('the shipped lifecycle tables', () => {
  const tables = [PREEMPT_THREAD, DST_CLEANUP, DST_PAUSE, DST_INCOMING, MIGRATION_PHASES, EOS_WINDOW, RP_JOIN, SRC_CLEANUP, RP_RESUME, POSTCOPY_RECOVERY, CANCEL, SRC_CHANNEL] as Array<Table<string, string, string>>;

  it('are valid tables, and every transition cites docs/model.md or says what it covers', () => {
    for (const t of tables) {
      const guards = Object.fromEntries(t.transitions.filter((x) => x.guard).map((x) => [x.guard!, () => true]));
      const actions = Object.fromEntries(t.transitions.filter((x) => x.action).map((x) => [x.action!, () => {}]));
      assert.doesNotThrow(() => new Automaton(t, guards, actions), t.name);
      assert.ok(t.transitions.some((x) => /§[A-H]/.test(x.models)), `${t.name}: no transition cites the model`);
    }
  });

  it('the preempt lifecycle reads exactly the signals the signal table gives it', () => {
    const used = new Set([PREEMPT_THREAD, DST_CLEANUP, DST_PAUSE, DST_INCOMING].flatMap((t) => t.transitions.map((x) => x.on as string)));
    const declared = SIGNALS.filter((s, i) => reads('preempt', i));
    assert.deepEqual([...used].sort(), [...declared].sort());
  });
});
