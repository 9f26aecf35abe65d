// Removes what tsc emitted for sources that are gone (dist/X.js and its .map for a deleted X.ts):
// a deleted test would otherwise keep running from dist/test. tsc stays incremental (a clean dist/
// made every build a full one: 9.8 s instead of 2.6 s here). dist/src/report/html-client.js is
// the page script esbuild bundles from src/report/html-client/ (scripts/build-html-client.mjs).
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const BUNDLED = new Set(['src/report/html-client.js', 'src/report/html-client.js.map']);

function walk(dir) {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else {
      const rel = relative(dist, p);
      if (BUNDLED.has(rel)) continue;
      const source = join(root, rel.replace(/\.js(\.map)?$/, '.ts'));
      if (/\.js(\.map)?$/.test(rel) && !existsSync(source)) rmSync(p);
    }
  }
}

for (const d of ['src', 'test', 'bench']) walk(join(dist, d));
