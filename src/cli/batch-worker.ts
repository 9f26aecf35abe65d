// Worker thread for `check DIR` batches: analyses the runs it is sent, one at a time, and posts
// each RunResult back (plain data). Loads the catalog once per worker.
import { parentPort, workerData } from 'node:worker_threads';
import { loadCatalog } from '../model/catalog.js';
import type { RunSpec } from '../assembly/types.js';
import { analyzeRun } from '../replay/run.js';

interface Setup {
  catalog: string[];
  stuckAfterMs: number;
  maxUnparsedSamples: number;
  traceEvents?: string;
}

const setup = workerData as Setup;
const catalog = loadCatalog(setup.catalog);

parentPort!.on('message', async (msg: { index: number; spec: RunSpec }) => {
  try {
    const result = await analyzeRun(msg.spec, {
      catalog,
      stuckAfterMs: setup.stuckAfterMs,
      maxUnparsedSamples: setup.maxUnparsedSamples,
      readers: 'inline', // the batch already keeps every core busy, one run per worker
      ...(setup.traceEvents ? { traceEvents: setup.traceEvents } : {}),
    });
    parentPort!.postMessage({ index: msg.index, result });
  } catch (e) {
    const err = e as Error;
    parentPort!.postMessage({ index: msg.index, error: { name: err.constructor.name, message: err.message, stack: err.stack } });
  }
});
