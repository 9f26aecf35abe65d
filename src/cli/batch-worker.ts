// Worker thread for `check DIR` batches: analyses the runs it is sent, one at a time, and posts
// each RunResult back (plain data), with --html the timeline its replay collected. Loads the
// catalog once per worker.
import { parentPort, workerData } from 'node:worker_threads';
import { loadCatalog } from '../model/catalog.js';
import type { RunSpec } from '../assembly/types.js';
import { analyzeSpec } from '../replay/tests.js';
import { selectRules } from './select.js';
import { htmlCollector, testHtmlCollector } from '../timeline/limits.js';
import { TestTimelines } from '../timeline/tests.js';
import { RULES } from '../rules/index.js';

interface Setup {
  catalog: string[];
  stuckAfterMs: number;
  maxUnparsedSamples: number;
  traceEvents?: string;
  /** --html: collect each run's timeline, marking the findings of these rules. */
  timelineRules?: string[];
}

const setup = workerData as Setup;
const catalog = loadCatalog(setup.catalog);

// The handler catches every error itself and posts it back: no rejection escapes.
// eslint-disable-next-line @typescript-eslint/no-misused-promises
parentPort!.on('message', async (msg: { index: number; spec: RunSpec }) => {
  try {
    const collector = setup.timelineRules ? htmlCollector(true) : undefined; // a batch is several runs
    // A suite's log: a timeline per test, its findings as the report keeps them.
    const tests = setup.timelineRules ? new TestTimelines(testHtmlCollector, (r) => selectRules(r, new Set(setup.timelineRules))) : undefined;
    const result = await analyzeSpec(msg.spec, {
      rules: RULES,
      catalog,
      ...(collector && tests ? { observers: [collector], perTest: tests.watch } : {}),
      stuckAfterMs: setup.stuckAfterMs,
      maxUnparsedSamples: setup.maxUnparsedSamples,
      readers: 'inline', // the batch already keeps every core busy, one run per worker
      ...(setup.traceEvents ? { traceEvents: setup.traceEvents } : {}),
    });
    const timeline = collector?.finish(selectRules(result, new Set(setup.timelineRules)));
    parentPort!.postMessage({ index: msg.index, result, ...(timeline ? { timeline } : {}), ...(tests?.sections.length ? { tests: tests.sections } : {}) });
  } catch (e) {
    const err = e as Error;
    parentPort!.postMessage({ index: msg.index, error: { name: err.constructor.name, message: err.message, stack: err.stack } });
  }
});
