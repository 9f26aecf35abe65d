// The catalog's version claims checked against real traces: a fingerprint row says "this event
// proves its process is within these versions", so it must never fire on a bundled real trace of
// a version outside that range. The version of each run comes from the run itself: meta.json's
// `qemu_version_by_side` (runs made by `migtrace capture`), else the folder it was filed under.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadCatalog, rowsFor } from '../src/model/catalog.js';
import { isWithin, parseRange } from '../src/model/versions.js';
import type { Side } from '../src/types.js';
import { ROOT } from './helpers.js';

const catalog = loadCatalog();
const TRACES = join(ROOT, 'traces');

/** [run folder, side, "major.minor"] for every bundled run's src.log / dst.log. */
function runs(): Array<{ run: string; side: Side; version: string; file: string }> {
  const out: Array<{ run: string; side: Side; version: string; file: string }> = [];
  for (const group of readdirSync(TRACES, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const r of readdirSync(join(TRACES, group.name), { withFileTypes: true }).filter((d) => d.isDirectory())) {
      const dir = join(TRACES, group.name, r.name);
      const meta = existsSync(join(dir, 'meta.json')) ? (JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { qemu_version_by_side?: Record<string, string> }) : {};
      for (const side of ['src', 'dst'] as const) {
        const file = join(dir, `${side}.log`);
        if (!existsSync(file)) continue;
        const text = meta.qemu_version_by_side?.[side] ?? (group.name === 'cross' ? r.name.split('-to-')[side === 'src' ? 0 : 1]! : group.name);
        const m = /(\d+)\.(\d+)/.exec(text);
        if (m) out.push({ run: `${group.name}/${r.name}`, side, version: `${m[1]}.${m[2]}`, file });
      }
    }
  }
  return out;
}

describe('catalog claims hold on the real traces', () => {
  const all = runs();
  it('finds runs of several QEMU versions to check', () => {
    assert.ok(new Set(all.map((r) => r.version)).size >= 2, JSON.stringify([...new Set(all.map((r) => r.version))]));
  });
  it('no fingerprint row fires on a real trace of a version outside its range', () => {
    const wrong: string[] = [];
    for (const { run, side, version, file } of all) {
      const v = parseRange(version)!;
      const seen = new Set<string>();
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        const m = /^(?:\d+@[\d.]+:|\d{4}-\d\d-\d\dT[\d:.]+Z )([A-Za-z_]\w*) ?(.*)$/.exec(line);
        if (!m) continue;
        for (const row of rowsFor(catalog, m[1]!, m[2]!)) {
          if (row.signal !== 'fingerprint' || (row.side !== 'both' && row.side !== side)) continue;
          const key = `${row.origin}`;
          if (seen.has(key) || isWithin(v, row.versions)) continue;
          seen.add(key);
          wrong.push(`${run} ${side} (QEMU ${version}) logs ${m[1]} but ${row.origin} says ${row.versionsText}`);
        }
      }
    }
    assert.deepEqual(wrong, []);
  });
});
