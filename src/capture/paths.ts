// Where the repository's non-TypeScript files are, from this module's own location: the same
// code runs as src/capture/*.ts under a loader and as dist/src/capture/*.js after the build.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | null = null;

/** The directory holding migtrace's package.json. */
export function repoRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'migtrace') return (cached = dir);
      } catch {
        /* not ours */
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find migtrace's package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

export const catalogPath = (): string => join(repoRoot(), 'src', 'model', 'catalog.csv');
export const guestDir = (): string => join(repoRoot(), 'capture', 'guest');
export const analyzerMain = (): string => join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
