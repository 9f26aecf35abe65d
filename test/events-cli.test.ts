// `migtrace events`: the -trace events= file, through the CLI. The file is read as QEMU reads it
// (trace/control.c: one pattern a line, '#' comments, '-' disables, '*' the only wildcard, later
// lines win); the names are checked against a real build's trace-events-all (QEMU 10.0.13,
// self-built, kept beside the simple-backend runs). test/system/events-qemu.test.ts starts the
// real binaries with it.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCatalog } from '../src/model/catalog.js';
import { overlaps } from '../src/model/versions.js';
import { cli } from './helpers.js';

const TRACE_EVENTS_10_0 = 'traces/10.0.13-selfbuilt/c-postcopy-preempt-1/trace-events-all';

/** The pattern lines of an events file, in order. */
function patterns(text: string): string[] {
  return text.split('\n').filter((l) => l.length > 0 && !l.startsWith('#'));
}

/** QEMU's glob (trace/control.c pattern_glob): '*' only. */
function glob(pattern: string, name: string): boolean {
  return new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(name);
}

function enabled(text: string, name: string): boolean {
  let on = false;
  for (const line of patterns(text)) {
    const neg = line.startsWith('-');
    if (glob(neg ? line.slice(1) : line, name)) on = !neg;
  }
  return on;
}

function catalogEvents(major: number, minor: number): string[] {
  const v = major * 100 + minor;
  return [...loadCatalog().byEvent].filter(([, rows]) => rows.some((r) => overlaps(r.versions, { lo: v, hi: v }))).map(([e]) => e);
}

/** Event names of a trace-events-all (`name(args) "format"`). */
function buildEvents(path: string): Set<string> {
  const names = new Set<string>();
  for (const l of readFileSync(path, 'utf8').split('\n')) {
    const m = /^(?:[a-z-]+ )*([A-Za-z_][A-Za-z0-9_]*)\(/.exec(l);
    if (m) names.add(m[1]!);
  }
  return names;
}

describe('migtrace events', () => {
  test('QEMU 10.0: every catalog event of 10.0 enabled, every exact name one the 10.0.13 build has, every exclusion silent', async () => {
    const r = await cli(['events', '--qemu-version', '10.0.13']);
    assert.equal(r.code, 0, r.stderr);
    const built = buildEvents(TRACE_EVENTS_10_0);
    assert.ok(built.size > 1000, 'a whole trace-events-all');
    for (const e of catalogEvents(10, 0)) assert.ok(enabled(r.stdout, e), `${e} enabled`);
    for (const line of patterns(r.stdout)) {
      assert.match(line, /^-?[A-Za-z0-9_*]+$/, `'${line}' is a QEMU event pattern`);
      const name = line.replace(/^-/, '');
      // An exact name QEMU does not know is a start-up warning; a pattern matching nothing is not.
      if (!name.includes('*')) assert.ok(built.has(name), `${name} exists in QEMU 10.0.13`);
      else if (name.startsWith('*')) {
        const hits = [...built].filter((b) => glob(name, b));
        assert.ok(hits.length <= 1, `${line} disables only its own event (matches ${hits.join(', ')})`);
      }
    }
    // The per-page firehoses stay off; the EOS witness on the preempt channel stays on.
    for (const f of ['ram_save_page', 'postcopy_place_page', 'multifd_send', 'migration_transferred_bytes']) assert.equal(enabled(r.stdout, f), false, f);
    assert.equal(enabled(r.stdout, 'ram_load_postcopy_loop'), true);
    assert.equal(enabled(r.stdout, 'postcopy_preempt_send_host_page'), true, 'from 8.0 one per urgent page: needed');
    assert.match(r.stderr, /^migtrace: wrote the event set for QEMU 10\.0\.13: \d+ catalog events enabled\n$/);
  });

  test('QEMU 7.2: its events only, and its per-page postcopy_preempt_send_host_page left out, saying so', async () => {
    const r = await cli(['events', '--qemu-version', '7.2']);
    assert.equal(r.code, 0, r.stderr);
    const all = catalogEvents(7, 2);
    for (const e of all) assert.equal(enabled(r.stdout, e), e !== 'postcopy_preempt_send_host_page', e);
    // vmstate_downtime_checkpoint is 8.2 on (catalog fingerprint): a 7.2 file must not name it.
    assert.ok(!patterns(r.stdout).includes('vmstate_downtime_checkpoint'));
    assert.ok(patterns(r.stdout).includes('qio_task_thread_run'), 'a catalog event no glob covers is named');
    assert.match(r.stderr, /left out as per-page firehoses: postcopy_preempt_send_host_page;/);
  });

  test('without a version: every version’s catalog events, and -o writes the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'migtrace-events-'));
    const file = join(dir, 'events.txt');
    const r = await cli(['events', '-o', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    const text = readFileSync(file, 'utf8');
    for (const e of loadCatalog().byEvent.keys()) assert.ok(enabled(text, e) || e === 'postcopy_preempt_send_host_page', e);
    assert.ok(patterns(text).includes('vmstate_downtime_checkpoint'));
    assert.match(r.stderr, new RegExp(`to ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:`));
  });

  test('a version that is not one: exit 2, one line', async () => {
    const r = await cli(['events', '--qemu-version', 'latest']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^migtrace: .*--qemu-version takes a QEMU version such as 7\.2.*'latest'/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });
});
