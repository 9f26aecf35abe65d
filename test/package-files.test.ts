// The published package holds every file the code opens at run time: installed from the registry,
// migtrace has only what package.json `files` lists (capture's guest sources were once missing,
// so `capture` failed there while it worked in a clone).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from './helpers.js';
import { catalogPath, guestDir } from '../src/capture/paths.js';
import { MODEL_DOC_PATH } from '../src/model/reference.js';
import { V8_STARTUP_FLAGS } from '../src/cli/heap.js';

/** The paths `npm pack` would publish (scripts skipped: dist is already built by the test run). */
function packed(): Set<string> {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
  const [pkg] = JSON.parse(out) as Array<{ files: Array<{ path: string }> }>;
  return new Set(pkg!.files.map((f) => f.path));
}

describe('package files', () => {
  const files = packed();
  const rel = (p: string) => relative(ROOT, p).split('\\').join('/');

  it('has the guest sources capture builds its kernel from', () => {
    const guest = readdirSync(guestDir(), { withFileTypes: true }).filter((d) => d.isFile() && !d.name.startsWith('.')); // not .gitignore
    assert.ok(guest.length >= 4, `guest sources in ${guestDir()}: ${guest.map((d) => d.name).join(', ')}`);
    for (const d of guest) assert.ok(files.has(rel(join(guestDir(), d.name))), `${rel(join(guestDir(), d.name))} is not in the package`);
  });

  it('has the catalog, the model document, the bin and the workers loaded by path', () => {
    const needed = [catalogPath(), MODEL_DOC_PATH].map(rel).concat(['dist/src/cli/main.js', 'dist/src/cli/batch-worker.js', 'dist/src/ingest/read-worker.js']);
    for (const p of needed) assert.ok(files.has(p), `${p} is not in the package`);
  });

  it("starts node with heap.ts V8_STARTUP_FLAGS: the bin's #! line as built and run", () => {
    const first = readFileSync(join(ROOT, 'dist/src/cli/main.js'), 'utf8').split('\n')[0];
    assert.equal(first, `#!/usr/bin/env -S node ${V8_STARTUP_FLAGS.join(' ')}`);
    // Run through its #! line, as npm's bin link runs it: node gets the flags (a shell that cannot
    // split them would fail here).
    const out = execFileSync(join(ROOT, 'dist/src/cli/main.js'), ['--version'], { encoding: 'utf8' });
    assert.match(out, /\d+\.\d+/);
  });
});
