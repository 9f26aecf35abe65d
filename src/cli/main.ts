#!/usr/bin/env -S node --initial-old-space-size=64
// migtrace's bin: runs the CLI (app.ts) on this process's arguments and streams, then exits with
// its code. Reader threads for large inputs start first (warm.ts), so they load while the CLI does.
// The `#!` line carries heap.ts V8_STARTUP_FLAGS (a test holds them equal).
import { limitHeapGrowth } from './heap.js';
import { warmFor } from './warm.js';

limitHeapGrowth();
const argv = process.argv.slice(2);
warmFor(argv);
const [{ main }, { processIo }] = await Promise.all([import('./app.js'), import('./io.js')]);
const code = await main(argv, processIo());
// process.exit drops writes still queued on a pipe: `convert … 2>&1 | wc -l` lost its last lines in
// 2 of 6 runs (stdout and stderr on one pipe). An empty write's callback runs once all before it are out.
const drained = (s: NodeJS.WriteStream) => new Promise<void>((resolve) => (s.writableEnded || s.destroyed ? resolve() : s.write('', () => resolve())));
await Promise.all([drained(process.stdout), drained(process.stderr)]);
process.exit(code);
