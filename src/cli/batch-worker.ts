// Worker thread for `check DIR` batches: analyses the runs it is sent, one at a time, and posts
// each RunResult back (plain data), with --html the timeline its replay collected. Loads the
// catalog once per worker.
import { parentPort, workerData } from 'node:worker_threads';
import { loadCatalog } from '../model/catalog.js';
import type { RunSpec } from '../assembly/types.js';
import { analyzeOne, type BatchSetup } from './batch-run.js';

const setup = workerData as BatchSetup;
const catalog = loadCatalog(setup.catalog);

// The handler catches every error itself and posts it back: no rejection escapes.
// eslint-disable-next-line @typescript-eslint/no-misused-promises
parentPort!.on('message', async (msg: { index: number; spec: RunSpec }) => {
  try {
    parentPort!.postMessage({ index: msg.index, ...(await analyzeOne(setup, catalog, msg.spec)) });
  } catch (e) {
    const err = e as Error;
    parentPort!.postMessage({ index: msg.index, error: { name: err.constructor.name, message: err.message, stack: err.stack } });
  }
});
