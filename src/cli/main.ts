#!/usr/bin/env node
// migtrace's bin: runs the CLI (app.ts) on this process's arguments and streams, then exits with
// its code. Reader threads for large inputs start first (warm.ts), so they load while the CLI does.
import { limitHeapGrowth } from './heap.js';
import { warmFor } from './warm.js';

limitHeapGrowth();
const argv = process.argv.slice(2);
warmFor(argv);
const [{ main }, { processIo }] = await Promise.all([import('./app.js'), import('./io.js')]);
process.exit(await main(argv, processIo()));
