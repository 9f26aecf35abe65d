#!/usr/bin/env node
// migtrace's bin: runs the CLI (app.ts) on this process's arguments and streams, then exits with
// its code.
import { hideBin } from 'yargs/helpers';
import { main } from './app.js';
import { limitHeapGrowth } from './heap.js';
import { processIo } from './io.js';

limitHeapGrowth();
process.exit(await main(hideBin(process.argv), processIo()));
